"""Type stub of the Cython counting engine (redoxseq/_counting_fast.pyx)."""

from typing import Any

import numpy as np
import numpy.typing as npt

def count_alignment_file(
    af: Any,
    opts: dict[str, Any],
    seg_start: npt.NDArray[np.int64],
    seg_end: npt.NDArray[np.int64],
    seg_ptr: npt.NDArray[np.int64],
    seg_keys: npt.NDArray[Any],
    tid_lo: npt.NDArray[np.int64],
    tid_hi: npt.NDArray[np.int64],
    gene_strand: npt.NDArray[np.int8],
    n_genes: int,
    coordinate_sorted: bool,
    region: tuple[int, int, int] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], int, int, int, dict[bytes, bytes]]: ...
def count_leftovers(
    opts: dict[str, Any],
    seg_start: npt.NDArray[np.int64],
    seg_end: npt.NDArray[np.int64],
    seg_ptr: npt.NDArray[np.int64],
    seg_keys: npt.NDArray[Any],
    tid_lo: npt.NDArray[np.int64],
    tid_hi: npt.NDArray[np.int64],
    gene_strand: npt.NDArray[np.int8],
    n_genes: int,
    parts: list[dict[bytes, bytes]],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], int, int]: ...
