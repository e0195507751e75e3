# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""C formatter of numeric table cells for :func:`redoxseq.io.write_tsv`.

Each float is formatted by ``PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0)``, the call
behind ``repr(float)``, which is what the csv module and ``DataFrame.to_csv`` write; integers
by ``%lld``, as ``str(int)``. NaN is the empty field. So the bytes are those of the Python path
(tested), without a Python object per cell. A table of 20,000 x 200 floats was ~2.9 s of
``csv`` writing per table (benchmarks/README.md, "Fixed costs of a DE job").
"""

from cpython.mem cimport PyMem_Free
from libc.stdio cimport snprintf
from libc.string cimport memcpy, strlen
from libc.stdlib cimport free, realloc

cdef extern from "Python.h":
    char* PyOS_double_to_string(double val, char format_code, int precision, int flags,
                                int* ptype) except NULL
    int Py_DTSF_ADD_DOT_0


cdef struct Buffer:
    char* data
    Py_ssize_t size
    Py_ssize_t capacity


cdef int _reserve(Buffer* buf, Py_ssize_t extra) except -1:
    cdef Py_ssize_t capacity = buf.capacity
    cdef char* grown
    if buf.size + extra <= capacity:
        return 0
    while buf.size + extra > capacity:
        capacity = capacity * 2 if capacity else 4096
    grown = <char*> realloc(buf.data, capacity)
    if grown == NULL:
        raise MemoryError()
    buf.data = grown
    buf.capacity = capacity
    return 0


cdef int _append(Buffer* buf, const char* text, Py_ssize_t length) except -1:
    _reserve(buf, length)
    memcpy(buf.data + buf.size, text, length)
    buf.size += length
    return 0


ctypedef fused cell_t:
    double
    long long


cdef list _rows(const cell_t[:, :] values):
    """Each row of ``values`` as its cells joined by tabs (see the module docstring)."""
    cdef Py_ssize_t n_rows = values.shape[0], n_cols = values.shape[1], i, j
    cdef Buffer buf = Buffer(NULL, 0, 0)
    cdef char cell[32]
    cdef char* text
    cdef int length
    rows = []
    try:
        for i in range(n_rows):
            buf.size = 0
            for j in range(n_cols):
                if j:
                    _append(&buf, b"\t", 1)
                if cell_t is double:
                    if values[i, j] != values[i, j]:  # NaN: the empty field
                        continue
                    text = PyOS_double_to_string(values[i, j], b"r", 0, Py_DTSF_ADD_DOT_0, NULL)
                    try:
                        _append(&buf, text, strlen(text))
                    finally:
                        PyMem_Free(text)
                else:
                    length = snprintf(cell, 32, "%lld", values[i, j])
                    _append(&buf, cell, length)
            rows.append(buf.data[:buf.size].decode("ascii") if buf.size else "")
    finally:
        free(buf.data)
    return rows


def float_rows(const double[:, :] values):
    """Each row of ``values`` as its cells joined by tabs (``repr`` of each float, NaN empty).

    Returns a list of ``str``, one per row, without line ends.
    """
    return _rows(values)


def int_rows(const long long[:, :] values):
    """Each row of ``values`` as its cells joined by tabs (as ``str(int)``)."""
    return _rows(values)
