"""Type stub of the C kernel of the dispersion objective (redoxseq/_dispersion_fast.pyx)."""

import numpy as np
import numpy.typing as npt

def alpha_fgh(
    Y: npt.NDArray[np.float64],
    MU: npt.NDArray[np.float64],
    X: npt.NDArray[np.float64],
    lgam_y1: npt.NDArray[np.float64],
    ylogmu: npt.NDArray[np.float64],
    idx: npt.NDArray[np.intp],
    x: npt.NDArray[np.float64],
    want_f: npt.NDArray[np.uint8],
    cr_reg: bool,
    f_out: npt.NDArray[np.float64],
    g_out: npt.NDArray[np.float64],
    h_out: npt.NDArray[np.float64],
) -> None: ...
def alpha_fg(
    Y: npt.NDArray[np.float64],
    MU: npt.NDArray[np.float64],
    X: npt.NDArray[np.float64],
    lgam_y1: npt.NDArray[np.float64],
    ylogmu: npt.NDArray[np.float64],
    idx: npt.NDArray[np.intp],
    x: npt.NDArray[np.float64],
    cr_reg: bool,
    f_out: npt.NDArray[np.float64],
    g_out: npt.NDArray[np.float64],
) -> None: ...
def r_line_search(
    Y: npt.NDArray[np.float64],
    MU: npt.NDArray[np.float64],
    X: npt.NDArray[np.float64],
    lgam_y1: npt.NDArray[np.float64],
    ylogmu: npt.NDArray[np.float64],
    prior_mean: npt.NDArray[np.float64],
    prior_var: float,
    prior_reg: bool,
    cr_reg: bool,
    min_log_alpha: float,
    lo: float,
    hi: float,
    kappa0: float,
    disp_tol: float,
    armijo: float,
    maxit: int,
    x: npt.NDArray[np.float64],
    iters: npt.NDArray[np.int64],
    f_out: npt.NDArray[np.float64],
    f0_out: npt.NDArray[np.float64],
) -> None: ...
