"""Build the Cython extensions (counting engine, dispersion kernel, table formatter).

Other metadata is in pyproject.toml.
"""

import numpy
import pysam
from Cython.Build import cythonize
from setuptools import Extension, setup

counting_engine = Extension(
    "redoxseq.counting._counting_fast",
    ["redoxseq/counting/_counting_fast.pyx"],
    include_dirs=[*pysam.get_include(), numpy.get_include()],
    define_macros=pysam.get_defines(),
    # Not linked to pysam's shared libraries: their build-time paths vanish after pip's
    # isolated build. redoxseq.counting.parallel.load_fast_engine makes the htslib symbols of
    # the runtime pysam visible before importing the extension.
    extra_compile_args=["-O3"],
    # Without a C compiler the package still installs; redoxseq.counting.sample logs a warning
    # and counts with the pure-Python engine (same counts, slower).
    optional=True,
)

dispersion_kernel = Extension(
    "redoxseq.de._dispersion_fast",
    ["redoxseq/de/_dispersion_fast.pyx"],
    extra_compile_args=["-O3"],
    # Without it redoxseq.de.inference uses its NumPy path (same results to rounding, slower).
    optional=True,
)

table_formatter = Extension(
    "redoxseq._tsv_fast",
    ["redoxseq/_tsv_fast.pyx"],
    extra_compile_args=["-O3"],
    # Without it redoxseq.io.write_tsv formats numeric tables in Python (same bytes, slower).
    optional=True,
)

setup(
    ext_modules=cythonize([counting_engine, dispersion_kernel, table_formatter], language_level=3)
)
