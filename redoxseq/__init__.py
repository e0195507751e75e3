"""redoxseq: RNA-seq differential expression for redox and ferroptosis biology.

The package is a typed library used by the Snakemake workflow in this repository.
Importing it stays light: heavy dependencies (pysam, pydeseq2, gseapy) are imported
only by the modules that need them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
