"""Batched inference engine for pyDESeq2: every per-gene fit vectorized across genes.

pyDESeq2 fits each gene separately in Python loops (``pydeseq2.utils.irls_solver``,
``fit_alpha_mle``, ``wald_test``, ``nbinomGLM``), dispatched by joblib. The fits are
thousands of tiny independent problems, so this module solves them together with NumPy /
SciPy array operations on blocks of genes, keeping pyDESeq2 as the model, the API and the
results format. :class:`BatchedInference` implements :class:`pydeseq2.inference.Inference`
and is handed to ``DeseqDataSet(..., inference=...)`` and ``DeseqStats(..., inference=...)``.

How each method relates to pyDESeq2's ``DefaultInference`` (see ``benchmarks/README.md``
and ``tests/unit/test_inference.py`` for the measured agreement):

- ``lin_reg_mu``: the same least-squares fit (``scipy.linalg.lstsq``, as scikit-learn's
  ``LinearRegression`` does), solved for all genes at once.
- ``irls``: the same IRLS iterations (same start, ridge, ``min_mu`` threshold, deviance
  criterion ``beta_tol``, ``maxiter``) with a per-gene convergence mask; genes that diverge
  (``|beta| > max_beta``) or reach ``maxiter`` take pyDESeq2's own L-BFGS-B / grid fallback,
  one gene at a time.
- ``alpha_mle``: pyDESeq2's objective (negative binomial likelihood, Cox-Reid term,
  log-normal prior; its arithmetic for the likelihood) minimized in log-dispersion by a
  projected, safeguarded Newton method with analytic first and second derivatives, from
  L-BFGS-B's start, for all genes of a block at once; converged to a step < 1e-9, i.e. to
  the optimum, where L-BFGS-B stops as soon as its projected gradient is <= 1e-5 or f
  decreases by <= 2.2e-9 relative. So dispersions agree with DefaultInference within
  L-BFGS-B's own tolerance (the distance is scipy's residual gradient / curvature; 1e-6
  relative or less on ordinary data, up to ~1e-3 on flat likelihoods), never with a worse
  objective. L-BFGS-B's behaviour is kept on purpose where the likelihood is flat: a gene
  whose projected gradient is <= 1e-5 at the start, or whose likelihood is flat over
  L-BFGS-B's first step (a change below its relative tolerance or below f's rounding,
  typically a near-Poisson gene starting on the lower bound), stays where scipy (and R) leave
  it; a gene whose optimum is on the flat low end (< 1e-4) is solved by scipy's L-BFGS-B
  re-implemented step for step on arrays (projected-gradient and relative-reduction tests,
  Cauchy point, Moré-Thuente line search, BFGS update), because there L-BFGS-B stops where
  its gradient falls below 1e-5, and whether that point is above DESeq2's ``100 * min_disp``
  decides whether the gene enters the trend fit and the prior variance. Genes where both
  fail use ``pydeseq2.utils.fit_alpha_mle``; when that fails too, the
  grid search keeps the prior (pyDESeq2 0.5 drops it there, which turns a failed MAP fit
  into the gene-wise estimate; R's ``fitDispGridWrapper`` keeps it).
- ``alpha_mle`` with ``genewise="r"`` (the pipeline's engine, ``get_inference("batched")``):
  the gene-wise estimates (no prior) are R DESeq2's instead, from its documented estimator
  (``estimateDispersionsGeneEst``: ``kappa_0 = 1``, ``dispTol = 1e-6``, ``maxit = 100``,
  fitted means floored at ``minmu = 0.5``) with the step rules measured on R 1.38.3:
  :func:`_r_genewise_alpha`. On flat likelihoods (near-Poisson genes) R's line search stops
  far from the optimum, and where it stops decides which genes enter the trend fit
  (``> 100 * minDisp``), so the optimum is not the target there; R's stopping point is.
  The MAP estimates of that engine come from :meth:`BatchedInference.alpha_map_r` (R's search
  with the prior, from R's start; called by ``redoxseq.de.fit``'s ``fit_MAP_dispersions``).
- ``wald_test``: closed form, vectorized.
- ``lfc_shrink_nbinom_glm``: the apeGLM-prior MAP fit by a batched, damped Newton method
  converged far tighter than pyDESeq2's L-BFGS-B (``ftol = gtol = 1e-8``); genes where Newton
  fails fall back to ``pydeseq2.utils.nbinomGLM``. The returned inverse Hessian reproduces
  pyDESeq2's formula exactly (including how it adds the prior's diagonal).
- ``fit_rough_dispersions``, ``fit_moments_dispersions``: pyDESeq2's formulas by blocks of
  genes (the least-squares fit as a projection through ``pinv(X)``), without its copies of
  the whole matrix; same values up to rounding. ``dispersion_trend_gamma_glm``: inherited.

The dispersion objective (its value, gradient and curvature for a set of genes) is computed
by a small C kernel, ``redoxseq.de._dispersion_fast`` (Cython, built by ``setup.py``): one pass
over each gene's samples, no genes x samples temporaries, and because counts are integers,
``psi(y + r) - psi(r)``, ``psi1(y + r) - psi1(r)`` and ``lgamma(y + r) - lgamma(r)`` for
counts below 64 come from per-gene recurrence tables (sums of ``1/(r+k)``, ``-1/(r+k)^2``,
``log(r+k)``) instead of a special-function call per entry. Without a C compiler the
extension is not built and the NumPy path (``_AlphaProblem.fgh``) is used: same formulas,
objective and derivatives equal to rounding (tested), about 1.3x the time of the whole DE
stage on 60,000 genes x 200 samples. On near-Poisson genes, whose likelihood is flat to
rounding, R's line search can take other accept/reject decisions on the two paths: gene-wise
dispersions below ~1e-6 may differ (found on the golden fixtures; one gene there crossed the
trend-fit cut), so results equal to R's need the compiled kernel. R's line search
(:func:`_r_line_search`) needs no curvature: the kernel's ``alpha_fg`` gives the objective
and gradient alone (the same bits as ``alpha_fgh``'s), and its ``r_line_search`` runs the
whole search gene by gene in C (no Python round trip per iteration); both skip the design's
zero products in the Cox-Reid sums.
The NumPy path runs the same search vectorized (:func:`_r_line_search_numpy`, on
``_AlphaProblem.fg``); the two agree bit for bit on the same objective (tested).

Memory: genes are processed in blocks of about ``chunk_elements`` (samples x genes) values,
so temporaries stay a small multiple of one block; no per-gene Python objects are created
except for the rare fallback genes. With ``n_cpus > 1`` blocks run in a thread pool (NumPy
and SciPy release the GIL in their array loops); results do not depend on the thread count
because the block boundaries depend only on the matrix shape.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

import numpy as np
from pydeseq2 import utils as pd_utils
from pydeseq2.default_inference import DefaultInference
from pydeseq2.grid_search import grid_fit_alpha, grid_fit_beta
from pydeseq2.inference import Inference
from scipy.optimize import minimize
from scipy.special import digamma, gammaln
from scipy.stats import norm

try:  # C kernel of the dispersion objective (optional build; NumPy path otherwise)
    from redoxseq.de import _dispersion_fast
except ImportError:  # pragma: no cover - exercised where the extension is not built
    _dispersion_fast = None  # type: ignore[assignment]
#: the kernel's entry points used here; a build from an older source lacks some of them
_KERNEL_API = ("alpha_fgh", "alpha_fg", "r_line_search")
_STALE_KERNEL = _dispersion_fast is not None and not all(
    hasattr(_dispersion_fast, name) for name in _KERNEL_API
)
if _STALE_KERNEL:  # pragma: no cover - a checkout updated without rerunning ./setup.sh
    _dispersion_fast = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

__all__ = ["CHUNK_ELEMENTS", "BatchedInference", "get_inference"]

#: Default block size, in matrix entries (samples x genes) per block of genes.
CHUNK_ELEMENTS = 1 << 16

# scipy.optimize.minimize(method="L-BFGS-B") defaults, as used by
# pydeseq2.utils.fit_alpha_mle: stopping tests (projected gradient; relative reduction of f,
# factr * epsmch) and its line search (lnsrlb -> dcsrch) constants and limits.
_EPSMCH = float(np.finfo(float).eps)
_LBFGSB_PGTOL = 1e-5
_LBFGSB_TOL = (2.2204460492503131e-09 / _EPSMCH) * _EPSMCH  # factr * epsmch
_LBFGSB_MAXLS = 20
_LBFGSB_BIG = 1e10
_LS_FTOL = 1e-3
_LS_GTOL = 0.9
_LS_XTOL = 0.1
_MAX_ROUNDS = 400  # safety cap on evaluations per gene before handing it to pyDESeq2
# Dispersion optima below this are on the flat low end: solved by _LBFGSB1D (see there).
_ALPHA_FLAT = 1e-4
# Newton on log-dispersion: stop when a Newton step is shorter than this (log units, i.e. a
# relative change of the dispersion of 1e-9), far below where L-BFGS-B stops.
_ALPHA_XTOL = 1e-9
_ALPHA_FINAL = 3e-5  # a last Newton step below this is taken unevaluated (~step^2 off)
_ALPHA_MAX_STEP = 2.0  # longest step in log-dispersion (a factor e^2 = 7.4)
_ALPHA_MAXITER = 100
_ALPHA_SHORT = 1e-3  # Newton steps shorter than this skip the Armijo test
_ALPHA_MAXLS = 40

T = TypeVar("T")


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _outer_design(X: np.ndarray) -> np.ndarray:
    """Return ``XX`` (samples x p*p) with ``XX[i, a*p+b] = X[i,a] X[i,b]``.

    ``W @ XX`` (genes x samples times samples x p*p) gives every gene's ``X^T diag(w) X``.
    """
    n, p = X.shape
    return (X[:, :, None] * X[:, None, :]).reshape(n, p * p)


def _safe_inv(M: np.ndarray) -> np.ndarray:
    """Batched inverse of (k, p, p) matrices; singular ones become NaN instead of raising."""
    try:
        return np.asarray(np.linalg.inv(M))
    except np.linalg.LinAlgError:
        out = np.full_like(M, np.nan)
        for k in range(M.shape[0]):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[k] = np.linalg.inv(M[k])
        return out


_LGAM1_MAX = 1 << 20
_lgam1_table = np.zeros(0)


def _lgamma1(Y: np.ndarray) -> np.ndarray:
    """``gammaln(Y + 1)``, bit-identical, by table look-up where ``Y`` holds integers.

    Counts are integers: the table holds ``gammaln(k + 1)`` for ``k`` up to the largest count
    (grown in powers of 2, at most ``2^20`` entries), the same function of the same inputs.
    Anything else (non-integers, larger counts, NaN) goes to ``gammaln`` itself.
    """
    global _lgam1_table
    if Y.size == 0 or not (Y.min() >= 0 and Y.max() < _LGAM1_MAX):
        return np.asarray(gammaln(Y + 1))
    Yi = Y.astype(np.intp)
    if not np.array_equal(Yi, Y):
        return np.asarray(gammaln(Y + 1))
    table = _lgam1_table  # local reference: another thread may replace the global
    top = int(Yi.max())
    if table.size <= top:
        table = np.asarray(gammaln(np.arange(1 << top.bit_length(), dtype=float) + 1.0))
        _lgam1_table = table
    return table[Yi]


def _shift_below_ten(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``x < 10``, ``x + 10`` (a copy; ``x`` itself when no entry is below 10).

    Returns the shifted values (float, ``x``'s shape), the flat positions of the entries below
    10 and their original values: :func:`_psi01` and :func:`_lgamma` apply their recurrences
    over ``x .. x + 9`` there and their asymptotic series to the shifted values.
    """
    x = np.asarray(x, dtype=float)
    small = np.flatnonzero(x.reshape(-1) < 10.0)
    xs = x.reshape(-1)[small]
    if small.size:
        x = x.copy()
        x.reshape(-1)[small] = xs + 10.0
    return x, small, xs


def _psi0(x: np.ndarray) -> np.ndarray:
    """Digamma of ``x > 0``: :func:`_psi01`'s first value (the same bits), without trigamma."""
    return _psi01(x, trigamma=False)[0]


def _psi01(x: np.ndarray, trigamma: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Digamma and trigamma of ``x > 0`` (any shape), ~4x faster than scipy's ufuncs.

    Recurrences ``psi(x) = psi(x + 1) - 1 / x`` and ``psi1(x) = psi1(x + 1) + 1 / x^2`` (ten
    steps on the entries below 10 only), then the asymptotic series for ``x >= 10``: digamma to
    ``x^-12`` (truncation below 4e-16 relative: full precision, it enters the gradient),
    trigamma to ``x^-9`` (below 1e-11 relative: it is only the Newton curvature).
    Agreement with ``scipy.special.digamma`` / ``polygamma(1, .)`` is checked in the tests.
    Without ``trigamma`` the second value is an empty array (and is not computed).
    """
    x, small, xs = _shift_below_ten(x)
    if small.size:
        # psi(x) = psi(x + 10) - sum_k 1 / (x + k), k = 0..9, on every small entry: ten dense
        # passes are cheaper than masking the entries still below 10 at each step.
        ds = 1.0 / xs
        ts = ds * ds
        t = np.empty_like(xs)
        inv = np.empty_like(xs)
        for k in range(1, 10):
            np.add(xs, float(k), out=t)
            np.divide(1.0, t, out=inv)
            ds += inv
            if trigamma:
                inv *= inv
                ts += inv
    z = 1.0 / x
    z2 = z * z
    # digamma: log x - z/2 - z2 (1/12 - z2 (1/120 - z2 (1/252 - z2 (1/240 - z2 (1/132 -
    # z2 691/32760)))))
    acc = z2 * (-691 / 32760)
    for c in (1 / 132, -1 / 240, 1 / 252, -1 / 120, 1 / 12):
        acc += c
        acc *= z2
    dig = np.log(x)
    dig -= acc
    acc = 0.5 * z
    dig -= acc
    if not trigamma:
        if small.size:
            dig.reshape(-1)[small] -= ds
        return dig, np.empty(0)
    # trigamma: z + z2/2 + z z2 (1/6 - z2 (1/30 - z2 (1/42 - z2/30)))
    acc = z2 * (-1 / 30)
    for c in (1 / 42, -1 / 30, 1 / 6):
        acc += c
        acc *= z2
    acc *= z
    acc += z
    z2 *= 0.5
    tri = acc
    tri += z2
    if small.size:
        dig.reshape(-1)[small] -= ds
        tri.reshape(-1)[small] += ts
    return dig, tri


_HALF_LOG_2PI = 0.5 * float(np.log(2.0 * np.pi))


def _lgamma(x: np.ndarray) -> np.ndarray:
    """Log-gamma of ``x > 0`` (any shape), ~4x faster than ``scipy.special.gammaln``.

    ``lgamma(x) = lgamma(x + 10) - log(x (x + 1) ... (x + 9))`` on the entries below 10 (the
    product of ten factors below 20 cannot overflow), then Stirling's series to ``x^-11``
    (truncation below 7e-16 at ``x >= 10``). Absolute error ~1e-15 per entry, the size of
    ``gammaln``'s own rounding on these magnitudes; agreement is checked in the tests. Used
    for the dispersion objective inside the Newton line search, where ``f`` is compared with
    itself; the L-BFGS-B emulation on flat likelihoods keeps pyDESeq2's arithmetic.
    """
    x, small, xs = _shift_below_ten(x)
    if small.size:
        prod = xs.copy()
        t = np.empty_like(xs)
        for k in range(1, 10):
            np.add(xs, float(k), out=t)
            prod *= t
    z = 1.0 / x
    z2 = z * z
    # z (1/12 - z2 (1/360 - z2 (1/1260 - z2 (1/1680 - z2 (1/1188 - z2 691/360360)))))
    acc = z2 * (-691 / 360360)
    for c in (1 / 1188, -1 / 1680, 1 / 1260, -1 / 360):
        acc += c
        acc *= z2
    acc += 1 / 12
    acc *= z
    out = x - 0.5
    out *= np.log(x)
    out -= x
    out += acc
    out += _HALF_LOG_2PI
    if small.size:
        out.reshape(-1)[small] -= np.log(prod)
    return out


def _projgr(x: np.ndarray, g: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """L-BFGS-B's projected gradient for one bounded variable (``projgr``)."""
    return np.where(g < 0, np.maximum(x - hi, g), np.minimum(x - lo, g))


def _dcstep(
    stx: np.ndarray,
    fx: np.ndarray,
    dx: np.ndarray,
    sty: np.ndarray,
    fy: np.ndarray,
    dy: np.ndarray,
    stp: np.ndarray,
    fp: np.ndarray,
    dp: np.ndarray,
    brackt: np.ndarray,
    stpmin: np.ndarray,
    stpmax: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Vectorized MINPACK-2 ``dcstep`` (safeguarded cubic/quadratic step of dcsrch).

    Returns ``stx, fx, dx, sty, fy, dy, stp, brackt`` updated as the Fortran routine does.
    All four cases are evaluated for every gene and the applicable one is selected.
    """
    with np.errstate(all="ignore"):
        sgnd = dp * (dx / np.abs(dx))
        c1 = fp > fx
        c2 = ~c1 & (sgnd < 0)
        c3 = ~c1 & ~c2 & (np.abs(dp) < np.abs(dx))

        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        s = np.maximum(np.maximum(np.abs(theta), np.abs(dx)), np.abs(dp))
        disc = (theta / s) ** 2 - (dx / s) * (dp / s)

        # Case 1: higher function value, minimum bracketed.
        g1 = s * np.sqrt(disc)
        g1 = np.where(stp < stx, -g1, g1)
        p1 = (g1 - dx) + theta
        q1 = ((g1 - dx) + g1) + dp
        stpc1 = stx + (p1 / q1) * (stp - stx)
        stpq1 = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx)
        stpf1 = np.where(
            np.abs(stpc1 - stx) < np.abs(stpq1 - stx), stpc1, stpc1 + (stpq1 - stpc1) / 2.0
        )

        # Case 2: lower function value, derivatives of opposite sign.
        g2 = s * np.sqrt(disc)
        g2 = np.where(stp > stx, -g2, g2)
        p2 = (g2 - dp) + theta
        q2 = ((g2 - dp) + g2) + dx
        stpc2 = stp + (p2 / q2) * (stx - stp)
        stpq2 = stp + (dp / (dp - dx)) * (stx - stp)
        stpf2 = np.where(np.abs(stpc2 - stp) > np.abs(stpq2 - stp), stpc2, stpq2)

        # Case 3: lower function value, same sign, derivative magnitude decreases.
        g3 = s * np.sqrt(np.maximum(0.0, disc))
        g3 = np.where(stp > stx, -g3, g3)
        p3 = (g3 - dp) + theta
        q3 = (g3 + (dx - dp)) + g3
        r3 = p3 / q3
        stpc3 = np.where(
            (r3 < 0) & (g3 != 0),
            stp + r3 * (stx - stp),
            np.where(stp > stx, stpmax, stpmin),
        )
        stpq3 = stp + (dp / (dp - dx)) * (stx - stp)
        br3 = np.where(np.abs(stpc3 - stp) < np.abs(stpq3 - stp), stpc3, stpq3)
        br3 = np.where(
            stp > stx,
            np.minimum(stp + 0.66 * (sty - stp), br3),
            np.maximum(stp + 0.66 * (sty - stp), br3),
        )
        nb3 = np.where(np.abs(stpc3 - stp) > np.abs(stpq3 - stp), stpc3, stpq3)
        nb3 = np.maximum(stpmin, np.minimum(stpmax, nb3))
        stpf3 = np.where(brackt, br3, nb3)

        # Case 4: lower function value, same sign, derivative does not decrease.
        theta4 = 3.0 * (fp - fy) / (sty - stp) + dy + dp
        s4 = np.maximum(np.maximum(np.abs(theta4), np.abs(dy)), np.abs(dp))
        g4 = s4 * np.sqrt((theta4 / s4) ** 2 - (dy / s4) * (dp / s4))
        g4 = np.where(stp > sty, -g4, g4)
        p4 = (g4 - dp) + theta4
        q4 = ((g4 - dp) + g4) + dy
        stpc4 = stp + (p4 / q4) * (sty - stp)
        stpf4 = np.where(brackt, stpc4, np.where(stp > stx, stpmax, stpmin))

        stpf = np.where(c1, stpf1, np.where(c2, stpf2, np.where(c3, stpf3, stpf4)))

    # Update the interval which contains a minimizer.
    swap_y = ~c1 & (sgnd < 0)
    new_sty = np.where(c1, stp, np.where(swap_y, stx, sty))
    new_fy = np.where(c1, fp, np.where(swap_y, fx, fy))
    new_dy = np.where(c1, dp, np.where(swap_y, dx, dy))
    new_stx = np.where(c1, stx, stp)
    new_fx = np.where(c1, fx, fp)
    new_dx = np.where(c1, dx, dp)
    new_brackt = brackt | c1 | c2
    return new_stx, new_fx, new_dx, new_sty, new_fy, new_dy, stpf, new_brackt


class _LBFGSB1D:
    """Scipy's L-BFGS-B for one bounded variable per problem, run on many problems at once.

    Used for the genes whose dispersion optimum lies on the flat low end (below
    ``_ALPHA_FLAT``): there L-BFGS-B stops far from the optimum, where its projected gradient
    drops below 1e-5, and whether that point is above DESeq2's ``100 * min_disp`` decides
    whether the gene enters the trend fit and the prior variance; this reproduces where.

    ``fg(idx, x)`` must return the objective and its derivative for problems ``idx`` at
    points ``x``. Each round evaluates every unfinished problem once; between rounds each
    problem advances its own state machine (start, line-search trial, new iterate), exactly
    as ``setulb`` would between two function evaluations. Problems that leave the path this
    class reproduces (line-search failure, BFGS memory reset, too many evaluations) are
    flagged in ``fallback`` so that the caller can run scipy on them.
    """

    def __init__(
        self,
        fg: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
        x0: np.ndarray,
        lo: float,
        hi: float,
    ) -> None:
        self.fg = fg
        self.lo = lo
        self.hi = hi
        k = x0.shape[0]
        self.x = np.clip(np.asarray(x0, dtype=float), lo, hi)
        z = np.zeros(k)
        self.f, self.g = z.copy(), z.copy()
        self.theta = np.ones(k)
        self.iter = np.zeros(k, dtype=np.int64)
        # lnsrlb state
        self.t, self.r, self.fold = z.copy(), z.copy(), z.copy()
        self.d, self.z, self.gd, self.gdold = z.copy(), z.copy(), z.copy(), z.copy()
        self.stp, self.stpmx = z.copy(), z.copy()
        self.ifun = np.zeros(k, dtype=np.int64)
        # dcsrch state
        self.brackt = np.zeros(k, dtype=bool)
        self.stage = np.ones(k, dtype=np.int64)
        self.finit, self.ginit, self.gtest = z.copy(), z.copy(), z.copy()
        self.width, self.width1 = z.copy(), z.copy()
        self.stx, self.fx, self.gx = z.copy(), z.copy(), z.copy()
        self.sty, self.fy, self.gy = z.copy(), z.copy(), z.copy()
        self.stmin, self.stmax = z.copy(), z.copy()
        # driver state
        self.xtrial = self.x.copy()
        self.phase = np.zeros(k, dtype=np.int8)  # 0: first evaluation, 1: line search
        self.active = np.ones(k, dtype=bool)
        self.converged = np.zeros(k, dtype=bool)
        self.fallback = np.zeros(k, dtype=bool)

    # -- one L-BFGS-B iteration start: Cauchy point, search direction, dcsrch 'START' --
    def _start_iteration(self, ii: np.ndarray) -> None:
        if ii.size == 0:
            return
        lo, hi = self.lo, self.hi
        x, g = self.x[ii], self.g[ii]
        with np.errstate(divide="ignore", invalid="ignore"):
            neggi = -g
            tl = x - lo
            tu = hi - x
            f1 = -(neggi * neggi)
            f2 = -self.theta[ii] * f1
            dtm = -f1 / f2
            tb = np.where(neggi < 0, tl / (-neggi), tu / neggi)
            interior = dtm < tb
            xcp = np.where(interior, x + dtm * neggi, np.where(neggi > 0, hi, lo))
        fixed = ((tl <= 0) & (neggi <= 0)) | ((tu <= 0) & (neggi >= 0)) | (neggi == 0)
        d = xcp - x
        first = self.iter[ii] == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            a2_lo = lo - x
            a2_hi = hi - x
            stpmx = np.full(ii.size, _LBFGSB_BIG)
            neg = d < 0
            pos = d > 0
            stpmx = np.where(
                neg,
                np.where(a2_lo >= 0, 0.0, np.where(d * stpmx < a2_lo, a2_lo / d, stpmx)),
                stpmx,
            )
            stpmx = np.where(
                pos,
                np.where(a2_hi <= 0, 0.0, np.where(d * stpmx > a2_hi, a2_hi / d, stpmx)),
                stpmx,
            )
        stpmx = np.where(first, 1.0, stpmx)
        gd = g * d
        stp = np.ones(ii.size)
        bad = fixed | (gd >= 0) | (stp > stpmx) | ~np.isfinite(gd)
        self.fallback[ii[bad]] = True
        self.active[ii[bad]] = False
        keep = ~bad
        ii = ii[keep]
        if ii.size == 0:
            return
        x, g, d, xcp, gd, stpmx = x[keep], g[keep], d[keep], xcp[keep], gd[keep], stpmx[keep]
        self.z[ii] = xcp
        self.d[ii] = d
        self.stpmx[ii] = stpmx
        self.t[ii] = x
        self.r[ii] = g
        self.fold[ii] = self.f[ii]
        self.gd[ii] = gd
        self.gdold[ii] = gd
        self.stp[ii] = 1.0
        # dcsrch 'START'
        self.brackt[ii] = False
        self.stage[ii] = 1
        self.finit[ii] = self.f[ii]
        self.ginit[ii] = gd
        self.gtest[ii] = _LS_FTOL * gd
        self.width[ii] = stpmx - 0.0
        self.width1[ii] = self.width[ii] / 0.5
        self.stx[ii] = 0.0
        self.fx[ii] = self.f[ii]
        self.gx[ii] = gd
        self.sty[ii] = 0.0
        self.fy[ii] = self.f[ii]
        self.gy[ii] = gd
        self.stmin[ii] = 0.0
        self.stmax[ii] = 1.0 + 4.0 * 1.0
        self.ifun[ii] = 1
        self.xtrial[ii] = xcp  # stp == 1: x = z
        self.phase[ii] = 1

    # -- after a line search ends (task NEW_X): stopping tests, BFGS update, next step --
    def _new_x(self, ii: np.ndarray) -> None:
        if ii.size == 0:
            return
        self.iter[ii] += 1
        x, f, g = self.x[ii], self.f[ii], self.g[ii]
        sbgnrm = np.abs(_projgr(x, g, self.lo, self.hi))
        fold = self.fold[ii]
        ddum = np.maximum(np.maximum(np.abs(fold), np.abs(f)), 1.0)
        conv = (sbgnrm <= _LBFGSB_PGTOL) | ((fold - f) <= _LBFGSB_TOL * ddum)
        self.converged[ii[conv]] = True
        self.active[ii[conv]] = False
        ii = ii[~conv]
        if ii.size == 0:
            return
        y = self.g[ii] - self.r[ii]
        rr = y * y
        stp, gd, gdold = self.stp[ii], self.gd[ii], self.gdold[ii]
        unit = stp == 1.0
        dr = np.where(unit, gd - gdold, (gd - gdold) * stp)
        ddum2 = np.where(unit, -gdold, -gdold * stp)
        upd = dr > _EPSMCH * ddum2
        with np.errstate(divide="ignore", invalid="ignore"):
            self.theta[ii] = np.where(upd, rr / dr, self.theta[ii])
        self._start_iteration(ii)

    def _line_search(self, ii: np.ndarray) -> None:
        """Feed the new (f, g) of problems ``ii`` to dcsrch; request the next trial."""
        if ii.size == 0:
            return
        f = self.f[ii]
        gd = self.g[ii] * self.d[ii]
        self.gd[ii] = gd
        stp = self.stp[ii]
        brackt = self.brackt[ii]
        stage = self.stage[ii]
        finit, ginit, gtest = self.finit[ii], self.ginit[ii], self.gtest[ii]
        stmin, stmax = self.stmin[ii], self.stmax[ii]
        stpmax = self.stpmx[ii]
        stpmin = np.zeros(ii.size)

        ftest = finit + stp * gtest
        stage = np.where((stage == 1) & (f <= ftest) & (gd >= 0), 2, stage)
        done = brackt & ((stp <= stmin) | (stp >= stmax))
        done |= brackt & (stmax - stmin <= _LS_XTOL * stmax)
        done |= (stp == stpmax) & (f <= ftest) & (gd <= gtest)
        done |= (stp == stpmin) & ((f > ftest) | (gd >= gtest))
        done |= (f <= ftest) & (np.abs(gd) <= _LS_GTOL * (-ginit))
        self.stage[ii] = stage

        fin = ii[done]
        go = ~done
        ii = ii[go]
        if ii.size:
            f, gd, stp, brackt, stage = f[go], gd[go], stp[go], brackt[go], stage[go]
            gtest, ftest = gtest[go], ftest[go]
            stpmax, stpmin = stpmax[go], stpmin[go]
            stx, fx, gx = self.stx[ii], self.fx[ii], self.gx[ii]
            sty, fy, gy = self.sty[ii], self.fy[ii], self.gy[ii]
            stmin, stmax = stmin[go], stmax[go]
            width, width1 = self.width[ii], self.width1[ii]

            mod = (stage == 1) & (f <= fx) & (f > ftest)
            fm = np.where(mod, f - stp * gtest, f)
            gm = np.where(mod, gd - gtest, gd)
            fxm = np.where(mod, fx - stx * gtest, fx)
            fym = np.where(mod, fy - sty * gtest, fy)
            gxm = np.where(mod, gx - gtest, gx)
            gym = np.where(mod, gy - gtest, gy)
            stx, fx2, gx2, sty, fy2, gy2, stp, brackt = _dcstep(
                stx, fxm, gxm, sty, fym, gym, stp, fm, gm, brackt, stmin, stmax
            )
            fx = np.where(mod, fx2 + stx * gtest, fx2)
            fy = np.where(mod, fy2 + sty * gtest, fy2)
            gx = np.where(mod, gx2 + gtest, gx2)
            gy = np.where(mod, gy2 + gtest, gy2)

            bis = brackt & (np.abs(sty - stx) >= 0.66 * width1)
            stp = np.where(bis, stx + 0.5 * (sty - stx), stp)
            width1 = np.where(brackt, width, width1)
            width = np.where(brackt, np.abs(sty - stx), width)
            stmin = np.where(brackt, np.minimum(stx, sty), stp + 1.1 * (stp - stx))
            stmax = np.where(brackt, np.maximum(stx, sty), stp + 4.0 * (stp - stx))
            stp = np.maximum(stp, stpmin)
            stp = np.minimum(stp, stpmax)
            stuck = (brackt & ((stp <= stmin) | (stp >= stmax))) | (
                brackt & (stmax - stmin <= _LS_XTOL * stmax)
            )
            stp = np.where(stuck, stx, stp)

            self.stx[ii], self.fx[ii], self.gx[ii] = stx, fx, gx
            self.sty[ii], self.fy[ii], self.gy[ii] = sty, fy, gy
            self.stmin[ii], self.stmax[ii] = stmin, stmax
            self.width[ii], self.width1[ii] = width, width1
            self.brackt[ii] = brackt
            self.stp[ii] = stp
            self.ifun[ii] += 1
            # iback = ifun - 1 >= maxls: pyDESeq2's scipy call would restore and reset memory.
            failed = (self.ifun[ii] - 1) >= _LBFGSB_MAXLS
            self.fallback[ii[failed]] = True
            self.active[ii[failed]] = False
            ii = ii[~failed]
            stp = stp[~failed]
            self.xtrial[ii] = np.where(stp == 1.0, self.z[ii], stp * self.d[ii] + self.t[ii])
        self._new_x(fin)

    def run(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Minimize; return ``x``, ``converged`` (scipy's ``success``) and ``fallback`` masks."""
        rounds = 0
        while self.active.any():
            if rounds >= _MAX_ROUNDS:
                self.fallback[self.active] = True
                self.active[:] = False
                break
            rounds += 1
            idx = np.flatnonzero(self.active)
            f, g = self.fg(idx, self.xtrial[idx])
            self.x[idx] = self.xtrial[idx]
            self.f[idx] = f
            self.g[idx] = g
            bad = ~(np.isfinite(f) & np.isfinite(g))
            if bad.any():
                self.fallback[idx[bad]] = True
                self.active[idx[bad]] = False
                idx = idx[~bad]
            first = self.phase[idx] == 0
            i0 = idx[first]
            if i0.size:
                pg = np.abs(_projgr(self.x[i0], self.g[i0], self.lo, self.hi))
                conv = pg <= _LBFGSB_PGTOL
                self.converged[i0[conv]] = True
                self.active[i0[conv]] = False
                self._start_iteration(i0[~conv])
            self._line_search(idx[~first])
        return self.x, self.converged, self.fallback


def _nb_alpha_fg(
    Y: np.ndarray,
    MU: np.ndarray,
    lgam_y1: np.ndarray,
    XX: np.ndarray,
    p: int,
    log_alpha: np.ndarray,
    log_alpha_hat: np.ndarray,
    prior_disp_var: float | None,
    cr_reg: bool,
    prior_reg: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """pyDESeq2's ``fit_alpha_mle`` loss and gradient (in log-alpha), for many genes.

    ``Y``, ``MU``: genes x samples counts and means; ``log_alpha``: one point per gene.
    """
    n = Y.shape[1]
    alpha = np.exp(log_alpha)
    a = alpha[:, None]
    r = 1.0 / alpha
    rr = r[:, None]
    logbinom = gammaln(Y + rr) - lgam_y1 - gammaln(rr)
    nll = n * r * np.log(alpha) + (-logbinom + (Y + rr) * np.log(rr + MU) - Y * np.log(MU)).sum(
        axis=1
    )
    dnb = -(
        r**2
        * (digamma(rr) - digamma(Y + rr) + np.log(1 + MU * a) + (Y - MU) / (MU + rr)).sum(axis=1)
    )
    reg = np.zeros_like(alpha)
    reg_grad = np.zeros_like(alpha)
    if cr_reg:
        W = MU / (1 + MU * a)
        M = (W @ XX).reshape(-1, p, p)
        reg = reg + 0.5 * np.linalg.slogdet(M)[1]
        dW = -(W**2)
        A = (dW @ XX).reshape(-1, p, p)
        reg_grad = reg_grad + (0.5 * (_safe_inv(M) * A).sum(axis=(1, 2))) * alpha
    if prior_reg:
        if prior_disp_var is None:
            raise ValueError("Sigma_prior is required for prior regularization")
        reg = reg + (log_alpha - log_alpha_hat) ** 2 / (2 * prior_disp_var)
        reg_grad = reg_grad + (log_alpha - log_alpha_hat) / prior_disp_var
    return nll + reg, alpha * dnb + reg_grad


class _AlphaProblem:
    """pyDESeq2's dispersion objective for a block of genes, in log-dispersion.

    ``f(x) = nb_nll(y, mu, alpha) + 0.5 log det(X^T W X) [Cox-Reid] +
    (x - log alpha_hat)^2 / (2 prior_disp_var) [prior]`` with ``x = log alpha`` and
    ``W = mu / (1 + mu alpha)``, exactly as in ``pydeseq2.utils.fit_alpha_mle``, with its first
    and second derivatives in ``x``. ``Y``, ``MU``: genes x samples.
    """

    def __init__(
        self,
        Y: np.ndarray,
        MU: np.ndarray,
        X: np.ndarray,
        log_alpha_hat: np.ndarray,
        prior_disp_var: float | None,
        cr_reg: bool,
        prior_reg: bool,
        use_kernel: bool | None = None,
    ) -> None:
        self.Y = np.ascontiguousarray(Y, dtype=float)
        self.MU = np.ascontiguousarray(MU, dtype=float)
        self.X = np.ascontiguousarray(X, dtype=float)
        self.p = X.shape[1]
        # the C kernel when built (``use_kernel=None``); False forces the NumPy path
        self.kernel = _dispersion_fast if use_kernel is not False else None
        if use_kernel and self.kernel is None:
            raise RuntimeError("redoxseq.de._dispersion_fast is not built")
        self.XX = _outer_design(X)
        self.la_hat = log_alpha_hat
        self.var = prior_disp_var
        self.cr_reg, self.prior_reg = cr_reg, prior_reg
        self.lgam_y1 = _lgamma1(self.Y)
        self.ylogmu = self.Y * np.log(self.MU)
        # alpha-independent: computed once per block (the NumPy path's)
        self.ymmu = self.Y - self.MU if self.kernel is None else np.empty((0, 0))

    def _rows(self, idx: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
        """``a[idx]`` for each array, without copying when ``idx`` is every row in order."""
        G = self.Y.shape[0]
        if idx.size == G and (G < 2 or bool(np.all(np.diff(idx) > 0))):
            return arrays  # G distinct indices, increasing, into G rows: every row in order
        return tuple(a[idx] for a in arrays)

    def _kernel_fgh(
        self, idx: np.ndarray, x: np.ndarray, want: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`fgh` by the C kernel (``redoxseq.de._dispersion_fast``), then the prior."""
        assert self.kernel is not None
        k = idx.size
        f, g, h = np.empty(k), np.empty(k), np.empty(k)
        self.kernel.alpha_fgh(
            self.Y, self.MU, self.X, self.lgam_y1, self.ylogmu,
            np.ascontiguousarray(idx, dtype=np.intp), np.ascontiguousarray(x, dtype=float),
            np.ascontiguousarray(want, dtype=np.uint8), self.cr_reg, f, g, h,
        )  # fmt: skip
        if self.prior_reg:
            assert self.var is not None
            dev = x - self.la_hat[idx]
            f += dev**2 / (2 * self.var)
            g += dev / self.var
            h += 1.0 / self.var
        return f, g, h

    def _add_prior_fg(
        self, idx: np.ndarray, x: np.ndarray, f: np.ndarray, g: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``f``, ``g`` plus the prior's terms (as :meth:`_kernel_fgh` adds them)."""
        if self.prior_reg:
            assert self.var is not None
            dev = x - self.la_hat[idx]
            f += dev**2 / (2 * self.var)
            g += dev / self.var
        return f, g

    def fg(self, idx: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Objective and first derivative at ``x``: :meth:`fgh`'s ``f`` and ``g``, same bits.

        Without the curvature (R's line search does not use it): on the C kernel its
        ``alpha_fg``; on the NumPy path the arithmetic of :meth:`f` and of :meth:`fgh`'s
        gradient, without its curvature terms.
        """
        if self.kernel is not None:
            k = idx.size
            f, g = np.empty(k), np.empty(k)
            self.kernel.alpha_fg(
                self.Y, self.MU, self.X, self.lgam_y1, self.ylogmu,
                np.ascontiguousarray(idx, dtype=np.intp), np.ascontiguousarray(x, dtype=float),
                self.cr_reg, f, g,
            )  # fmt: skip
            return self._add_prior_fg(idx, x, f, g)
        f = self.f(idx, x)
        Y, MU, ymmu = self._rows(idx, self.Y, self.MU, self.ymmu)
        alpha = np.exp(x)
        a = alpha[:, None]
        r = 1.0 / alpha
        rr = r[:, None]
        psi_yr = _psi0(Y + rr)
        psi_r = _psi0(r)
        D = MU * a
        D += 1.0
        inv_rm = MU + rr
        np.divide(1.0, inv_rm, out=inv_rm)
        q = ymmu * inv_rm
        T = np.subtract(psi_r[:, None], psi_yr, out=psi_yr)
        T += np.log(D)
        T += q
        S = T.sum(axis=1)
        g = -r * S
        if self.cr_reg:
            p = self.p
            W = np.divide(MU, D, out=D)
            W2 = W * W
            M = (W @ self.XX).reshape(-1, p, p)
            A = -(W2 @ self.XX).reshape(-1, p, p)
            MA = _safe_inv(M) @ A
            d1 = 0.5 * np.trace(MA, axis1=1, axis2=2)
            g = g + d1 * alpha
        if self.prior_reg:
            assert self.var is not None
            g = g + (x - self.la_hat[idx]) / self.var
        return f, g

    def f(self, idx: np.ndarray, x: np.ndarray, exact: bool = False) -> np.ndarray:
        """Objective at ``x`` (log-dispersion) for genes ``idx``.

        ``exact``: pyDESeq2's arithmetic (``scipy.special.gammaln``): on flat likelihoods
        (alpha near 1e-8) its rounding is of the size of the changes L-BFGS-B's stopping test
        looks at, so the emulation of that test uses it. Otherwise ``_lgamma``.
        """
        if self.kernel is not None and not exact:
            return self.fg(idx, x)[0]
        Y, MU, lgam_y1, ylogmu = self._rows(idx, self.Y, self.MU, self.lgam_y1, self.ylogmu)
        n = Y.shape[1]
        alpha = np.exp(x)
        r = 1.0 / alpha
        rr = r[:, None]
        Yr = Y + rr
        logbinom = (gammaln(Yr) if exact else _lgamma(Yr)) - lgam_y1 - gammaln(rr)
        f = n * r * np.log(alpha) + (-logbinom + Yr * np.log(rr + MU) - ylogmu).sum(axis=1)
        if self.cr_reg:
            W = MU / (1 + MU * alpha[:, None])
            f = f + 0.5 * np.linalg.slogdet((W @ self.XX).reshape(-1, self.p, self.p))[1]
        if self.prior_reg:
            assert self.var is not None
            f = f + (x - self.la_hat[idx]) ** 2 / (2 * self.var)
        return np.asarray(f)

    def fgh(
        self, idx: np.ndarray, x: np.ndarray, want_f: bool | np.ndarray = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Objective (NaN where ``want_f`` is false), first and second derivatives at ``x``."""
        want = np.broadcast_to(np.asarray(want_f, dtype=bool), x.shape)
        if self.kernel is not None:
            return self._kernel_fgh(idx, x, want)
        f = np.full(x.shape, np.nan)
        if want.any():
            f[want] = self.f(idx[want], x[want])
        Y, MU, ymmu = self._rows(idx, self.Y, self.MU, self.ymmu)
        alpha = np.exp(x)
        a = alpha[:, None]
        r = 1.0 / alpha
        rr = r[:, None]
        psi_yr, psi1_yr = _psi01(Y + rr)
        psi_r, psi1_r = _psi01(r)
        # Genes x samples temporaries are updated in place (one pass per operation).
        D = MU * a
        D += 1.0  # 1 + mu alpha
        inv_rm = MU + rr
        np.divide(1.0, inv_rm, out=inv_rm)  # 1 / (mu + r)
        q = ymmu * inv_rm  # (y - mu) / (mu + r)
        # pyDESeq2's dnb_nll: S = sum psi(r) - psi(y+r) + log(1 + mu alpha) + (y-mu)/(mu+r)
        T = np.subtract(psi_r[:, None], psi_yr, out=psi_yr)
        T += np.log(D)
        T += q
        S = T.sum(axis=1)
        g = -r * S  # d nb_nll / d log(alpha) = alpha * dnb_nll
        # l(r) = -nb_nll; l'(r) = -S; l''(r) = sum psi1(y+r) - psi1(r) + 1/r - 1/(r+mu)
        # - (mu - y)/(r+mu)^2; d2 nb_nll / dx2 = -r l'(r) - r^2 l''(r).
        U = np.subtract(psi1_yr, (psi1_r - 1.0 / r)[:, None], out=psi1_yr)
        U -= inv_rm
        q *= inv_rm
        U += q
        l2 = U.sum(axis=1)
        h = r * S - r * r * l2
        if self.cr_reg:
            p = self.p
            W = np.divide(MU, D, out=D)  # mu / (1 + mu alpha)
            W2 = W * W
            M = (W @ self.XX).reshape(-1, p, p)
            A = -(W2 @ self.XX).reshape(-1, p, p)  # dM / d alpha
            W2 *= W
            B = 2.0 * (W2 @ self.XX).reshape(-1, p, p)  # d2M / d alpha2
            Minv = _safe_inv(M)
            MA = Minv @ A
            d1 = 0.5 * np.trace(MA, axis1=1, axis2=2)  # d/d alpha of 0.5 log det M
            d2 = 0.5 * (np.einsum("gab,gba->g", Minv, B) - np.einsum("gab,gba->g", MA, MA))
            g = g + d1 * alpha
            h = h + d1 * alpha + d2 * alpha * alpha
        if self.prior_reg:
            assert self.var is not None
            g = g + (x - self.la_hat[idx]) / self.var
            h = h + 1.0 / self.var
        return f, g, h


def _newton_alpha(
    prob: _AlphaProblem, x0: np.ndarray, lo: float, hi: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Minimize ``prob`` over ``[lo, hi]`` (log-dispersion) for every gene at once.

    Projected, safeguarded Newton: the step is ``-g / h`` where the curvature is positive,
    a unit-scaled gradient step otherwise, at most ``_ALPHA_MAX_STEP`` long, projected onto
    the bounds and halved until the Armijo condition holds. The start is
    L-BFGS-B's (``x0`` clipped to the bounds) and so is its first iteration: a gene whose
    projected gradient is <= ``1e-5`` at the start stays there, and a gene whose first
    L-BFGS-B step (to ``x0 - g``, step length capped at 1) lowers the objective by less than
    L-BFGS-B's relative tolerance ``factr * epsmch`` stops after that step. These are the genes
    whose likelihood is flat around the start (typically a start on the lower bound, a
    near-Poisson gene), where scipy's ``minimize`` (and R's ``fitDisp``) stop too, far from
    the optimum. Every other gene continues, far past L-BFGS-B's stopping rules, until a
    Newton step is below ``_ALPHA_FINAL`` = 3e-5, which is then taken as the last step
    (quadratic convergence: it lands ~1e-9 from the optimum; the tests check the distance to
    the optimum scipy approaches), or the gene sits on a bound with the gradient pointing
    outwards, or its gradient is within its rounding, ``4 eps n r (|log r| + 1)``.

    Returns ``x``, a ``converged`` mask, a ``failed`` mask (line search or iteration limit)
    and a ``settled`` mask (the genes kept at or next to their start, as L-BFGS-B keeps them).
    """
    G = x0.shape[0]
    n_samples = prob.Y.shape[1]
    x = np.clip(x0, lo, hi)
    converged = np.zeros(G, dtype=bool)
    failed = np.zeros(G, dtype=bool)
    idx = np.arange(G)
    f, g, h = prob.fgh(idx, x)
    bad = ~(np.isfinite(f) & np.isfinite(g))
    failed[bad] = True
    start_ok = ~bad & (np.abs(_projgr(x, g, lo, hi)) <= _LBFGSB_PGTOL)
    converged[start_ok] = True
    settled = start_ok.copy()
    keep = ~(bad | start_ok)
    idx, f, g, h = idx[keep], f[keep], g[keep], h[keep]
    # L-BFGS-B's first iteration: a line search along -g, step length at most 1 (to x - g).
    # Where the best decrease it can find there (from the local quadratic model, as f's own
    # rounding, up to ~1e-5 near alpha = 1e-8, can exceed the change) is below L-BFGS-B's
    # relative tolerance or below f's rounding (which scipy's line search cannot see
    # through either), the likelihood is flat around the start (typically a near-Poisson
    # gene starting on the lower bound): scipy stops after that iteration (relative reduction
    # test) or fails its line search next to the start. Such genes keep the point scipy keeps:
    # x - g where that step decreased f as its line search requires, else the start.
    x0 = x[idx]
    x1 = np.clip(x0 - g, lo, hi)
    with np.errstate(all="ignore"):
        dx = np.abs(x1 - x0)
        model = np.where(h * dx <= np.abs(g), np.abs(g) * dx - 0.5 * h * dx * dx, g * g / (2 * h))
        # rounding of nb_nll: its largest terms are ~ n r |log r| each (r = 1 / alpha)
        noise = 4 * _EPSMCH * n_samples * np.exp(-x0) * (np.abs(x0) + 1)
        flat = model <= np.maximum(_LBFGSB_TOL * np.maximum(np.abs(f), 1.0), noise)
    cand = np.flatnonzero(flat)  # usually a handful of genes: evaluate x - g for them only
    if cand.size:
        f0 = prob.f(idx[cand], x0[cand], exact=True)
        f1 = prob.f(idx[cand], x1[cand], exact=True)
        decrease = np.isfinite(f1) & (f1 <= f0 + _LS_FTOL * g[cand] * (x1[cand] - x0[cand]))
        x[idx[cand]] = np.where(decrease, x1[cand], x0[cand])
        converged[idx[cand]] = True
        settled[idx[cand]] = True
    idx, f, g, h = idx[~flat], f[~flat], g[~flat], h[~flat]
    for _ in range(_ALPHA_MAXITER):
        if idx.size == 0:
            break
        xa = x[idx]
        with np.errstate(all="ignore"):
            newton = (h > 0) & np.isfinite(h)
            step = np.where(newton, -g / h, -np.sign(g))
            step = np.clip(step, -_ALPHA_MAX_STEP, _ALPHA_MAX_STEP)
        at_bound = ((xa <= lo) & (g > 0)) | ((xa >= hi) & (g < 0))
        xn = np.clip(xa + step, lo, hi)
        # Converged: a Newton step below _ALPHA_FINAL is taken without evaluating its end
        # point, since Newton converges quadratically (the next step would be ~ step^2, below
        # _ALPHA_XTOL); or a gradient within its own rounding (~ n r |log r| eps: near the
        # lower bound the steps never get that small).
        g_noise = 4 * _EPSMCH * n_samples * np.exp(-xa) * (np.abs(xa) + 1)
        done = at_bound | (newton & ((np.abs(xn - xa) < _ALPHA_FINAL) | (np.abs(g) <= g_noise)))
        converged[idx[done]] = True
        x[idx[done & ~at_bound]] = xn[done & ~at_bound]
        go = ~done
        idx, xa, step, f, g, h = idx[go], xa[go], step[go], f[go], g[go], h[go]
        if idx.size == 0:
            break
        t = np.ones(idx.size)
        xn = np.clip(xa + step, lo, hi)
        # Close to the optimum the decrease of f (step^2 h / 2) is below its rounding: take
        # short Newton steps without the Armijo test (the quadratic model is exact there),
        # and without computing f.
        short = (h > 0) & (np.abs(step) < _ALPHA_SHORT)
        fn, gn, hn = prob.fgh(idx, xn, want_f=~short)
        take = short & np.isfinite(gn) & np.isfinite(hn)
        for _ls in range(_ALPHA_MAXLS):
            with np.errstate(invalid="ignore"):
                ok = take | (np.isfinite(fn) & (fn <= f + 1e-4 * g * (xn - xa)))
            redo = np.flatnonzero(~ok)
            if redo.size == 0:
                break
            t[redo] *= 0.5
            xr = np.clip(xa[redo] + t[redo] * step[redo], lo, hi)
            fr, gr, hr = prob.fgh(idx[redo], xr)
            xn[redo], fn[redo], gn[redo], hn[redo] = xr, fr, gr, hr
        with np.errstate(invalid="ignore"):
            ok = take | (np.isfinite(fn) & (fn <= f + 1e-4 * g * (xn - xa)))
        # No decrease found, even for a step within rounding of the start: converged there.
        stuck = np.abs(xn - xa) < _ALPHA_XTOL
        converged[idx[stuck]] = True
        failed[idx[~ok & ~stuck]] = True
        go = ok & ~stuck
        x[idx[go]] = xn[go]
        idx, f, g, h = idx[go], fn[go], gn[go], hn[go]
        # f is needed again only if a long step follows a short one (rare)
        need = ~np.isfinite(f) & ~((h > 0) & (np.abs(g) < _ALPHA_SHORT * h))
        if need.any():
            f[need] = prob.f(idx[need], x[idx[need]])
    failed[idx] = True  # iteration limit
    return x, converged & ~failed, failed, settled


# R DESeq2's gene-wise dispersion estimator (estimateDispersionsGeneEst at its defaults).
_R_KAPPA0 = 1.0  # kappa_0: the first proposal is a step of the gradient itself
_R_DISP_TOL = 1e-6  # dispTol: stop when the log posterior rises by less than this
_R_MAXIT = 100  # maxit
_R_ARMIJO = 1e-4  # sufficient increase: at least 1e-4 x kappa x gradient^2
_R_LOG_ALPHA_RANGE = (-30.0, 10.0)  # proposals are kept within this log-dispersion range
_R_GRID = 20  # points of the coarse and of the fine grid search
_R_NO_INCREASE = 1e-6  # relative rise of the log posterior below which the start is kept


def _r_line_search(
    prob: _AlphaProblem, x0: np.ndarray, min_log_alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """R DESeq2's line search for the gene-wise dispersion, for every gene of a block.

    :func:`_r_line_search_numpy`, gene by gene in the C kernel when it is built
    (``_dispersion_fast.r_line_search``: the same steps on the same objective, bit for bit,
    without a Python round trip per iteration); otherwise that function itself.
    """
    if prob.kernel is None:
        return _r_line_search_numpy(prob, x0, min_log_alpha)
    if prob.prior_reg and prob.var is None:
        raise ValueError("Sigma_prior is required for prior regularization")
    lo, hi = _R_LOG_ALPHA_RANGE
    G = x0.shape[0]
    x = np.array(x0, dtype=float)  # a contiguous copy, updated in place
    iters = np.zeros(G, dtype=np.int64)
    f, f0 = np.empty(G), np.empty(G)
    prior_mean = np.ascontiguousarray(prob.la_hat, dtype=float) if prob.prior_reg else x
    prob.kernel.r_line_search(
        prob.Y, prob.MU, prob.X, prob.lgam_y1, prob.ylogmu, prior_mean,
        float(prob.var) if prob.var is not None else 1.0, prob.prior_reg, prob.cr_reg,
        min_log_alpha, lo, hi, _R_KAPPA0, _R_DISP_TOL, _R_ARMIJO, _R_MAXIT, x, iters, f, f0,
    )  # fmt: skip
    return x, iters, f, f0


def _r_line_search_numpy(
    prob: _AlphaProblem, x0: np.ndarray, min_log_alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """R DESeq2's line search for the gene-wise dispersion, for every gene of a block at once.

    Gradient ascent of the Cox-Reid adjusted log likelihood in ``x = log(alpha)``: from ``x``,
    the proposal is ``x + kappa * dlp`` (``dlp``: the derivative, ``kappa`` starts at
    ``kappa_0 = 1``). A proposal that does not raise the log posterior by at least
    ``1e-4 * kappa * dlp^2`` is rejected and ``kappa`` halved (the iteration counts; the gene
    stays); an accepted one moves the gene, and the search stops when that rise is below
    ``dispTol = 1e-6`` or the gene is below ``min_log_alpha``. After an accepted step
    ``kappa`` grows by 10 % up to ``kappa_0``, and every fifth accepted step halves it. At most
    ``maxit = 100`` iterations. (Not measured, safeguards: the stop below ``min_log_alpha``
    and proposals kept within ``_R_LOG_ALPHA_RANGE``.) This is the behaviour documented for
    ``estimateDispersionsGeneEst`` (``kappa_0``, ``dispTol``, ``maxit``), with the step rules
    measured on R 1.38.3 (``tests/golden/README.md``): R's iteration counts and estimates are
    reproduced on every gene whose likelihood is not flat to rounding.

    Returns ``x``, the iterations used per gene (0 where the start is not finite), and the
    objective ``prob`` (minus the log posterior, up to a constant) at the end and at the start.
    """
    lo, hi = _R_LOG_ALPHA_RANGE
    G = x0.shape[0]
    x = x0.copy()
    every = np.arange(G)
    f, g = prob.fg(every, x)
    f0 = f.copy()
    kappa = np.full(G, _R_KAPPA0)
    iters = np.zeros(G, dtype=np.int64)
    accepted = np.zeros(G, dtype=np.int64)
    act = np.flatnonzero(np.isfinite(f) & np.isfinite(g))
    for t in range(1, _R_MAXIT + 1):
        if act.size == 0:
            break
        iters[act] = t
        xa, fa, ka = x[act], f[act], kappa[act]
        d = -g[act]  # derivative of the log posterior
        with np.errstate(divide="ignore", invalid="ignore"):
            prop = xa + ka * d
            ka = np.where(prop < lo, (lo - xa) / d, np.where(prop > hi, (hi - xa) / d, ka))
            xn = xa + ka * d
            fn, gn = prob.fg(act, xn)
            rise = fa - fn  # of the log posterior
            ok = rise >= ka * _R_ARMIJO * d * d  # NaN: rejected
        kappa[act] = np.where(ok, ka, ka / 2)
        idx = act[ok]
        x[idx], f[idx], g[idx] = xn[ok], fn[ok], gn[ok]
        accepted[idx] += 1
        stop = (rise[ok] < _R_DISP_TOL) | (xn[ok] < min_log_alpha)
        go = idx[~stop]
        kappa[go] = np.minimum(kappa[go] * 1.1, _R_KAPPA0)
        kappa[go] = np.where(accepted[go] % 5 == 0, kappa[go] / 2, kappa[go])
        act = np.concatenate([act[~ok], go])
        act.sort()
    return x, iters, f, f0


def _r_grid_alpha(prob: _AlphaProblem, idx: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """R's grid search for the dispersion of genes ``idx`` (log-dispersion returned).

    The objective on ``_R_GRID`` points evenly spaced over ``[lo, hi]``, then on as many
    points over the neighbouring cells of the best one; the best of those (the first on ties).
    """

    def best(centres: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        F = np.column_stack([prob.f(idx, centres + v) for v in offsets])
        F[~np.isfinite(F)] = np.inf
        return np.asarray(centres + offsets[np.argmin(F, axis=1)])

    grid = np.linspace(lo, hi, _R_GRID)
    coarse = best(np.full(idx.size, lo), grid - lo)
    delta = grid[1] - grid[0]
    return best(coarse, np.linspace(-delta, delta, _R_GRID))


def _r_genewise_alpha(
    prob: _AlphaProblem, x0: np.ndarray, min_disp: float, max_disp: float
) -> tuple[np.ndarray, np.ndarray]:
    """R DESeq2's gene-wise dispersion estimates (log scale) and their converged mask.

    :func:`_r_line_search` from ``x0`` (the rough / moments start); then, as R's
    ``estimateDispersionsGeneEst`` (``niter = 1``) does, a gene whose log posterior rose by less
    than ``1e-6`` of its magnitude keeps its start, and a gene whose search stopped at the
    first iteration or ran out of iterations is not converged: above ``10 * min_disp`` it
    takes the grid search (:func:`_r_grid_alpha` over ``[min_disp, max_disp]``). R's log
    posterior is ``sum(lgamma(y + 1/a) - lgamma(1/a) - y log(mu + 1/a) - log(1 + mu a) / a)``
    minus half the log determinant of the Cox-Reid matrix, i.e. ``-f + sum(lgamma(y + 1)) -
    sum(y log mu)`` in terms of pyDESeq2's objective ``f`` (checked against R's values).
    """
    with np.errstate(all="ignore"):
        x, iters, f, f0 = _r_line_search(prob, x0, float(np.log(min_disp / 10)))
        lp0 = -f0 + prob.lgam_y1.sum(axis=1) - prob.ylogmu.sum(axis=1)
        keep = (f0 - f) < np.abs(lp0) * _R_NO_INCREASE
        x = np.where(keep, x0, x)
        stalled = (iters <= 1) | (iters >= _R_MAXIT)
        refit = np.flatnonzero(stalled & ~(np.exp(x) <= 10 * min_disp))
        if refit.size:
            x[refit] = _r_grid_alpha(prob, refit, float(np.log(min_disp)), float(np.log(max_disp)))
    return x, ~stalled


def _r_map_alpha(
    prob: _AlphaProblem, x0: np.ndarray, min_disp: float, max_disp: float
) -> tuple[np.ndarray, np.ndarray]:
    """R DESeq2's MAP dispersion estimates (log scale) and their converged mask.

    :func:`_r_line_search` on the log posterior with the prior (``prob``), from R's start
    ``x0``. A gene that runs out of iterations takes the grid search with the prior (R's
    ``fitDispGridWrapper(usePrior = TRUE)``); on the fixtures no gene does.
    """
    with np.errstate(all="ignore"):
        x, iters, _, _ = _r_line_search(prob, x0, float(np.log(min_disp / 10)))
        stalled = (iters < 1) | (iters >= _R_MAXIT)
        refit = np.flatnonzero(stalled)
        if refit.size:
            x[refit] = _r_grid_alpha(prob, refit, float(np.log(min_disp)), float(np.log(max_disp)))
    return x, ~stalled


def _alpha_fallback(
    y: np.ndarray,
    X: np.ndarray,
    mu: np.ndarray,
    alpha_hat: float,
    min_disp: float,
    max_disp: float,
    prior_disp_var: float | None,
    cr_reg: bool,
    prior_reg: bool,
    optimizer: Literal["BFGS", "L-BFGS-B"],
) -> tuple[float, bool]:
    """``pydeseq2.utils.fit_alpha_mle`` for one gene, with the prior kept in the grid search.

    pyDESeq2 0.5's ``fit_alpha_mle`` calls ``grid_fit_alpha`` without the prior when
    L-BFGS-B fails, so a failed MAP fit returns the gene-wise (prior-free) estimate. R's
    ``fitDispGridWrapper`` keeps the prior (``usePrior = TRUE``); so does this fallback.
    """
    kw = {"min_disp": min_disp, "max_disp": max_disp, "prior_disp_var": prior_disp_var,
          "cr_reg": cr_reg, "prior_reg": prior_reg}  # fmt: skip
    alpha, ok = pd_utils.fit_alpha_mle(y, X, mu, alpha_hat, optimizer=optimizer, **kw)
    if not ok and prior_reg:
        alpha = float(np.exp(grid_fit_alpha(y, X, mu, alpha_hat, **kw)))
    return float(alpha), bool(ok)


class BatchedInference(DefaultInference):
    """pyDESeq2 ``Inference`` with every per-gene fit vectorized across genes.

    Parameters
    ----------
    n_cpus : int or None
        Threads used over gene blocks (``None``: all cores). Also used by the inherited
        joblib-based methods of ``DefaultInference`` if any are called directly.
    chunk_elements : int
        Target number of matrix entries (samples x genes) per gene block. Bounds memory
        for temporaries at a few times ``8 * chunk_elements`` bytes per thread.
    genewise : {"pydeseq2", "r"}
        Gene-wise dispersion estimates (``alpha_mle`` without the prior): ``"pydeseq2"``,
        pyDESeq2's L-BFGS-B optimum (as ``DefaultInference``, to its tolerance); ``"r"``, R
        DESeq2's line search and its rules (:func:`_r_genewise_alpha`), on fitted means
        floored at ``min_mu`` as R's ``minmu`` (also for the MAP fit, which R runs on the
        same means).
    min_mu : float
        R's ``minmu`` (pyDESeq2's ``min_mu``), used with ``genewise="r"``.
    """

    def __init__(
        self,
        n_cpus: int | None = 1,
        chunk_elements: int = CHUNK_ELEMENTS,
        genewise: Literal["pydeseq2", "r"] = "pydeseq2",
        min_mu: float = 0.5,
    ) -> None:
        super().__init__(n_cpus=n_cpus)
        if chunk_elements < 1:
            raise ValueError(f"chunk_elements must be positive, got {chunk_elements}")
        if genewise not in ("pydeseq2", "r"):
            raise ValueError(f"genewise must be 'pydeseq2' or 'r', got {genewise!r}")
        self.chunk_elements = int(chunk_elements)
        self.genewise = genewise
        self.min_mu = float(min_mu)
        if _STALE_KERNEL:
            logger.warning(
                "redoxseq.de._dispersion_fast was built from an older _dispersion_fast.pyx "
                "(it lacks one of %s): dispersions are fitted on the NumPy path, slower, and "
                "near-Poisson genes may differ from R's; rerun ./setup.sh to rebuild it",
                ", ".join(_KERNEL_API),
            )
        elif _dispersion_fast is None:
            logger.warning(
                "redoxseq.de._dispersion_fast is not built (no C compiler when redoxseq was "
                "installed?): dispersions are fitted on the NumPy path, slower, and near-Poisson "
                "genes may differ from R's; rerun ./setup.sh with gcc and python3-dev to build it"
            )

    # -- block scheduling --------------------------------------------------------------
    def _blocks(self, n_genes: int, n_samples: int) -> list[slice]:
        size = max(32, self.chunk_elements // max(n_samples, 1))
        return [slice(s, min(s + size, n_genes)) for s in range(0, n_genes, size)]

    def _map_blocks(self, fn: Callable[[slice], T], blocks: Sequence[slice]) -> list[T]:
        workers = min(self.n_cpus, len(blocks))
        if workers <= 1:
            return [fn(b) for b in blocks]
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1), ThreadPoolExecutor(max_workers=workers) as ex:
            return list(ex.map(fn, blocks))

    # -- lin_reg_mu --------------------------------------------------------------------
    def lin_reg_mu(
        self,
        counts: np.ndarray,
        size_factors: np.ndarray,
        design_matrix: np.ndarray,
        min_mu: float,
    ) -> np.ndarray:
        """Batched :meth:`pydeseq2.inference.Inference.lin_reg_mu`: all genes at once."""
        from scipy.linalg import lstsq

        X = np.asarray(design_matrix, dtype=float)
        sf = np.asarray(size_factors, dtype=float)
        n, G = counts.shape
        out = np.empty((n, G))

        def block(b: slice) -> None:
            Yn = counts[:, b] / sf[:, None]
            coef = lstsq(X, Yn)[0]
            out[:, b] = np.maximum(sf[:, None] * (X @ coef), min_mu)

        self._map_blocks(block, self._blocks(G, n))
        return out

    # -- irls --------------------------------------------------------------------------
    def irls(
        self,
        counts: np.ndarray,
        size_factors: np.ndarray,
        design_matrix: np.ndarray,
        disp: np.ndarray,
        min_mu: float,
        beta_tol: float,
        min_beta: float = -30,
        max_beta: float = 30,
        optimizer: Literal["BFGS", "L-BFGS-B"] = "L-BFGS-B",
        maxiter: int = 250,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Batched :meth:`pydeseq2.inference.Inference.irls`: all genes at once."""
        assert optimizer in ["BFGS", "L-BFGS-B"]
        X = np.asarray(design_matrix, dtype=float)
        sf = np.asarray(size_factors, dtype=float)
        disp = np.asarray(disp, dtype=float)
        n, G = counts.shape
        p = X.shape[1]
        XX = _outer_design(X)
        full_rank = np.linalg.matrix_rank(X) == p
        Q, R = np.linalg.qr(X)
        beta = np.empty((G, p))
        mu_out = np.empty((n, G))
        H_out = np.empty((n, G))
        conv = np.ones(G, dtype=bool)
        ridge = np.diag(np.repeat(1e-6, p))

        def block(b: slice) -> None:
            Y = np.ascontiguousarray(counts[:, b].T, dtype=float)  # genes x samples
            d = disp[b]
            bb, mu_t, cc = self._irls_block(
                Y, sf, X, XX, Q, R, full_rank, d, min_mu, beta_tol, min_beta, max_beta,
                optimizer, maxiter, ridge,
            )  # fmt: skip
            W = mu_t / (1.0 + mu_t * d[:, None])
            Minv = _safe_inv((W @ XX).reshape(-1, p, p) + ridge)
            h = Minv.reshape(-1, p * p) @ XX.T
            W_sq = np.sqrt(W)
            H_out[:, b] = (W_sq * h * W_sq).T
            mu_out[:, b] = (sf * np.exp(bb @ X.T)).T
            beta[b] = bb
            conv[b] = cc

        self._map_blocks(block, self._blocks(G, n))
        return beta, mu_out, H_out, conv

    @staticmethod
    def _irls_block(
        Y: np.ndarray,
        sf: np.ndarray,
        X: np.ndarray,
        XX: np.ndarray,
        Q: np.ndarray,
        R: np.ndarray,
        full_rank: bool,
        disp: np.ndarray,
        min_mu: float,
        beta_tol: float,
        min_beta: float,
        max_beta: float,
        optimizer: Literal["BFGS", "L-BFGS-B"],
        maxiter: int,
        ridge: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """IRLS of ``pydeseq2.utils.irls_solver`` for a block; returns beta, mu, converged.

        ``mu`` is the thresholded mean used for the hat matrix, as in pyDESeq2.
        """
        k, n = Y.shape
        p = X.shape[1]
        with np.errstate(divide="ignore"):
            if full_rank:
                ylog = np.log(Y / sf + 0.1)
                beta_init = np.linalg.solve(R, (ylog @ Q).T).T
            else:
                beta_init = np.zeros((k, p))
                beta_init[:, 0] = np.log(Y / sf).mean(axis=1)
        beta = beta_init.copy()
        mu = np.maximum(sf * np.exp(beta @ X.T), min_mu)
        r = 1.0 / disp
        # Parts of -2 * nb_nll that do not depend on beta.
        const = n * r * np.log(disp) - (
            gammaln(Y + r[:, None]) - _lgamma1(Y) - gammaln(r)[:, None]
        ).sum(axis=1)
        dev = np.full(k, 1000.0)
        converged = np.ones(k, dtype=bool)
        fallback = np.zeros(k, dtype=bool)
        act = np.arange(k)
        i = 0
        while act.size:
            Ya, mua, da = Y[act], mu[act], disp[act]
            W = mua / (1.0 + mua * da[:, None])
            z = np.log(mua / sf) + (Ya - mua) / mua
            Hm = (W @ XX).reshape(-1, p, p) + ridge
            beta_hat = np.linalg.solve(Hm, ((W * z) @ X)[..., None])[..., 0]
            i += 1
            fb = (np.abs(beta_hat) > max_beta).any(axis=1) | (i >= maxiter)
            fallback[act[fb]] = True
            keep = ~fb
            act, beta_hat, Ya = act[keep], beta_hat[keep], Ya[keep]
            if act.size == 0:
                break
            beta[act] = beta_hat
            mu_new = np.maximum(sf * np.exp(beta_hat @ X.T), min_mu)
            mu[act] = mu_new
            ra = r[act, None]
            nll = const[act] + ((Ya + ra) * np.log(ra + mu_new) - Ya * np.log(mu_new)).sum(axis=1)
            dev_new = -2.0 * nll
            ratio = np.abs(dev_new - dev[act]) / (np.abs(dev_new) + 0.1)
            dev[act] = dev_new
            act = act[ratio > beta_tol]

        for g in np.flatnonzero(fallback):
            beta[g], mu[g], converged[g] = _irls_fallback(
                Y[g], sf, X, float(disp[g]), beta_init[g], min_mu, min_beta, max_beta,
                optimizer, ridge,
            )  # fmt: skip
        if fallback.any():
            logger.debug("IRLS: %d gene(s) used the L-BFGS-B fallback", int(fallback.sum()))
        return beta, mu, converged

    # -- alpha_mle ---------------------------------------------------------------------
    def alpha_mle(
        self,
        counts: np.ndarray,
        design_matrix: np.ndarray,
        mu: np.ndarray,
        alpha_hat: np.ndarray,
        min_disp: float,
        max_disp: float,
        prior_disp_var: float | None = None,
        cr_reg: bool = True,
        prior_reg: bool = False,
        optimizer: Literal["BFGS", "L-BFGS-B"] = "L-BFGS-B",
    ) -> tuple[np.ndarray, np.ndarray]:
        """Batched :meth:`pydeseq2.inference.Inference.alpha_mle`: all genes at once."""
        assert optimizer in ["BFGS", "L-BFGS-B"]
        if prior_reg and prior_disp_var is None:
            raise ValueError("Sigma_prior is required for prior regularization")
        if optimizer != "L-BFGS-B":
            return super().alpha_mle(
                counts, design_matrix, mu, alpha_hat, min_disp, max_disp,
                prior_disp_var, cr_reg, prior_reg, optimizer,
            )  # fmt: skip
        X = np.asarray(design_matrix, dtype=float)
        n, G = counts.shape
        alpha_hat = np.asarray(alpha_hat, dtype=float)
        lo, hi = float(np.log(min_disp)), float(np.log(max_disp))
        disp_out = np.empty(G)
        conv_out = np.empty(G, dtype=bool)
        # the gene-wise estimate (no prior) by R's line search, if so configured
        r_genewise = self.genewise == "r" and not prior_reg

        def block(b: slice) -> None:
            Y = np.ascontiguousarray(counts[:, b].T, dtype=float)
            MU = np.ascontiguousarray(np.asarray(mu[:, b], dtype=float).T)
            if self.genewise == "r":
                np.maximum(MU, self.min_mu, out=MU)  # R's minmu
            la_hat = np.log(alpha_hat[b])
            prob = _AlphaProblem(Y, MU, X, la_hat, prior_disp_var, cr_reg, prior_reg)
            if r_genewise:
                x, conv = _r_genewise_alpha(prob, la_hat.copy(), min_disp, max_disp)
                disp_out[b], conv_out[b] = np.exp(x), conv
                return
            with np.errstate(all="ignore"):
                x, conv, fb, settled = _newton_alpha(prob, la_hat.copy(), lo, hi)
                # optimum on the flat low end (or Newton failed): L-BFGS-B's own path
                low = np.flatnonzero(~settled & (fb | (x < np.log(_ALPHA_FLAT))))
                fb[:] = False
                if low.size:
                    lgam_y1 = prob.lgam_y1
                    XX = prob.XX

                    def fg(idx: np.ndarray, xx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                        sel = low[idx]
                        return _nb_alpha_fg(
                            Y[sel], MU[sel], lgam_y1[sel], XX, X.shape[1], xx, la_hat[sel],
                            prior_disp_var, cr_reg, prior_reg,
                        )  # fmt: skip

                    xl, cl, fl = _LBFGSB1D(fg, la_hat[low].copy(), lo, hi).run()
                    x[low], conv[low], fb[low] = xl, cl, fl
            out = np.exp(x)
            for g in np.flatnonzero(fb):
                out[g], conv[g] = _alpha_fallback(
                    Y[g], X, MU[g], float(alpha_hat[b][g]), min_disp, max_disp,
                    prior_disp_var, cr_reg, prior_reg, optimizer,
                )  # fmt: skip
            if fb.any():
                logger.debug("alpha_mle: %d gene(s) solved by pyDESeq2's scipy path", fb.sum())
            disp_out[b] = out
            conv_out[b] = conv

        self._map_blocks(block, self._blocks(G, n))
        return disp_out, conv_out

    def alpha_map_r(
        self,
        counts: np.ndarray,
        design_matrix: np.ndarray,
        mu: np.ndarray,
        alpha_hat: np.ndarray,
        start: np.ndarray,
        min_disp: float,
        max_disp: float,
        prior_disp_var: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """R's MAP dispersion estimates: :func:`_r_map_alpha` for all genes, by blocks.

        ``alpha_hat``: the trend (prior mean); ``start``: R's starting points. The fitted
        means are floored at ``min_mu`` as for the gene-wise estimates.
        """
        X = np.asarray(design_matrix, dtype=float)
        n, G = counts.shape
        prior_mean = np.log(np.asarray(alpha_hat, dtype=float))
        x0 = np.log(np.clip(np.asarray(start, dtype=float), min_disp, max_disp))
        disp_out = np.empty(G)
        conv_out = np.empty(G, dtype=bool)

        def block(b: slice) -> None:
            Y = np.ascontiguousarray(counts[:, b].T, dtype=float)
            MU = np.maximum(np.asarray(mu[:, b], dtype=float).T, self.min_mu)
            prob = _AlphaProblem(Y, np.ascontiguousarray(MU), X, prior_mean[b], prior_disp_var,
                                 True, True)  # fmt: skip
            x, conv = _r_map_alpha(prob, x0[b].copy(), min_disp, max_disp)
            disp_out[b], conv_out[b] = np.exp(x), conv

        self._map_blocks(block, self._blocks(G, n))
        return disp_out, conv_out

    # -- fit_rough_dispersions ------------------------------------------------------
    def fit_rough_dispersions(
        self, normed_counts: np.ndarray, design_matrix: np.ndarray
    ) -> np.ndarray:
        """``pydeseq2.utils.fit_rough_dispersions``, by blocks of genes.

        The least-squares fit of every gene is the projection ``X pinv(X) y`` (pyDESeq2 fits
        scikit-learn's ``LinearRegression`` to the whole matrix); same values up to rounding.
        """
        X = np.asarray(design_matrix, dtype=float)
        n, p = X.shape
        if n == p:
            raise ValueError(
                "The number of samples and the number of design variables are equal, i.e., "
                "there are no replicates to estimate the dispersion. Please use a design "
                "with fewer variables."
            )
        Y = np.asarray(normed_counts, dtype=float)
        pinv = np.linalg.pinv(X)
        G = Y.shape[1]
        out = np.empty(G)

        def block(b: slice) -> None:
            Yb = Y[:, b]
            y_hat = X @ (pinv @ Yb)
            np.maximum(y_hat, 1.0, out=y_hat)
            resid = Yb - y_hat
            resid *= resid
            resid -= y_hat
            y_hat *= y_hat
            y_hat *= n - p
            resid /= y_hat
            out[b] = resid.sum(axis=0)

        self._map_blocks(block, self._blocks(G, n))
        return np.maximum(out, 0.0)

    # -- fit_moments_dispersions ----------------------------------------------------
    def fit_moments_dispersions(
        self, normed_counts: np.ndarray, size_factors: np.ndarray
    ) -> np.ndarray:
        """``pydeseq2.utils.fit_moments_dispersions`` by blocks of genes (equal to rounding).

        pyDESeq2 copies the matrix without its all-zero genes, then takes means and
        variances; here each block's are taken in place and all-zero genes dropped after.
        """
        Y = np.asarray(normed_counts, dtype=float)
        s_mean_inv = float((1.0 / np.asarray(size_factors, dtype=float)).mean(axis=0))
        n, G = Y.shape
        mean, var = np.empty(G), np.empty(G)
        nonzero = np.empty(G, dtype=bool)

        def block(b: slice) -> None:
            Yb = Y[:, b]
            nonzero[b] = (Yb != 0).any(axis=0)
            mean[b] = Yb.mean(axis=0)
            var[b] = Yb.var(axis=0, ddof=1)

        self._map_blocks(block, self._blocks(G, n))
        mean, var = mean[nonzero], var[nonzero]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.nan_to_num((var - s_mean_inv * mean) / mean**2))

    # -- wald_test ---------------------------------------------------------------------
    def wald_test(
        self,
        design_matrix: np.ndarray,
        disp: np.ndarray,
        lfc: np.ndarray,
        mu: np.ndarray,
        ridge_factor: np.ndarray,
        contrast: np.ndarray,
        lfc_null: np.ndarray,
        alt_hypothesis: (Literal["greaterAbs", "lessAbs", "greater", "less"] | None) = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Batched :meth:`pydeseq2.inference.Inference.wald_test`: all genes at once."""
        X = np.asarray(design_matrix, dtype=float)
        n, G = mu.shape
        p = X.shape[1]
        XX = _outer_design(X)
        c = np.asarray(contrast, dtype=float)
        lfc = np.asarray(lfc, dtype=float)
        disp = np.asarray(disp, dtype=float)
        se = np.empty(G)

        def block(b: slice) -> None:
            MU = np.asarray(mu[:, b], dtype=float).T
            W = MU / (1 + MU * disp[b, None])
            M = (W @ XX).reshape(-1, p, p)
            Hinv = _safe_inv(M + ridge_factor)
            Hc = Hinv @ c
            se[b] = np.sqrt(np.einsum("ga,gab,gb->g", Hc, M, Hc))

        with np.errstate(invalid="ignore"):
            self._map_blocks(block, self._blocks(G, n))
            stat, pval = _wald_stat_pval(lfc, se, c, float(np.asarray(lfc_null)), alt_hypothesis)
        return pval, stat, se

    # -- lfc_shrink_nbinom_glm ---------------------------------------------------------
    def lfc_shrink_nbinom_glm(
        self,
        design_matrix: np.ndarray,
        counts: np.ndarray,
        size: np.ndarray,
        offset: np.ndarray,
        prior_no_shrink_scale: float,
        prior_scale: float,
        optimizer: str,
        shrink_index: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Batched :meth:`pydeseq2.inference.Inference.lfc_shrink_nbinom_glm`: all genes at once."""
        X = np.asarray(design_matrix, dtype=float)
        n, G = counts.shape
        p = X.shape[1]
        size = np.asarray(size, dtype=float)
        offset = np.asarray(offset, dtype=float)
        beta_out = np.empty((G, p))
        inv_out = np.empty((G, p, p))
        conv_out = np.empty(G, dtype=bool)

        def block(b: slice) -> None:
            Y = np.ascontiguousarray(counts[:, b].T, dtype=float)
            bb, ih, cc = _shrink_block(
                X, Y, size[b], offset, float(prior_no_shrink_scale), float(prior_scale),
                optimizer, int(shrink_index),
            )  # fmt: skip
            beta_out[b], inv_out[b], conv_out[b] = bb, ih, cc

        self._map_blocks(block, self._blocks(G, n))
        return beta_out, inv_out, conv_out


# --------------------------------------------------------------------------------------
# per-gene fallbacks (pyDESeq2's own code paths) and vectorized pieces
# --------------------------------------------------------------------------------------
def _irls_fallback(
    counts: np.ndarray,
    size_factors: np.ndarray,
    X: np.ndarray,
    disp: float,
    beta_init: np.ndarray,
    min_mu: float,
    min_beta: float,
    max_beta: float,
    optimizer: Literal["BFGS", "L-BFGS-B"],
    ridge_factor: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The L-BFGS-B (+ grid) branch of ``pydeseq2.utils.irls_solver``, verbatim."""
    num_vars = X.shape[1]

    def f(beta: np.ndarray) -> float:
        mu_ = np.maximum(size_factors * np.exp(X @ beta), min_mu)
        return float(pd_utils.nb_nll(counts, mu_, disp) + 0.5 * (ridge_factor @ beta**2).sum())

    def df(beta: np.ndarray) -> np.ndarray:
        mu_ = np.maximum(size_factors * np.exp(X @ beta), min_mu)
        return np.asarray(
            -X.T @ counts + ((1 / disp + counts) * mu_ / (1 / disp + mu_)) @ X + ridge_factor @ beta
        )

    res = minimize(
        f,
        beta_init,
        jac=df,
        method=optimizer,
        bounds=([(min_beta, max_beta)] * num_vars if optimizer == "L-BFGS-B" else None),
    )
    beta = res.x
    converged = bool(res.success)
    if not res.success and num_vars <= 2:
        beta = grid_fit_beta(counts, size_factors, X, disp)
    mu = np.maximum(size_factors * np.exp(X @ beta), min_mu)
    return beta, mu, converged


def _wald_stat_pval(
    lfc: np.ndarray,
    se: np.ndarray,
    c: np.ndarray,
    lfc_null: float,
    alt: Literal["greaterAbs", "lessAbs", "greater", "less"] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``pydeseq2.utils.wald_test`` statistics and p-values for all genes (genes x coefs)."""
    s = se[:, None]

    def greater(null: float) -> tuple[np.ndarray, np.ndarray]:
        stat = np.fmax((lfc - null) / s, 0) @ c
        return stat, norm.sf(stat)

    def less(null: float) -> tuple[np.ndarray, np.ndarray]:
        stat = np.fmin((lfc - null) / s, 0) @ c
        return stat, norm.sf(np.abs(stat))

    if alt is None:
        stat = ((lfc - lfc_null) @ c) / se
        return stat, 2 * norm.sf(np.abs(stat))
    if alt == "greater":
        return greater(lfc_null)
    if alt == "less":
        return less(lfc_null)
    if alt == "greaterAbs":
        stat = (np.sign(lfc) * np.fmax((np.abs(lfc) - lfc_null) / s, 0)) @ c
        return stat, 2 * norm.sf(np.abs(stat))
    if alt == "lessAbs":
        st_a, pv_a = greater(-abs(lfc_null))
        st_b, pv_b = less(abs(lfc_null))
        # Python's min(a, b, key=abs) keeps the first on ties.
        stat = np.where(np.abs(st_b) < np.abs(st_a), st_b, st_a)
        return stat, np.maximum(pv_a, pv_b)
    raise ValueError(f"unknown alt_hypothesis {alt!r}")


def _shrink_fgh(
    beta: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    size: np.ndarray,
    offset: np.ndarray,
    s0: float,
    s1: float,
    k: int,
    want_hess: bool = True,
    XX: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """apeGLM-prior objective of ``pydeseq2.utils.nbinomFn``, its gradient and Hessian.

    ``beta``: genes x coefs; ``Y``: genes x samples; ``size``: per gene. Unscaled.
    ``XX``: ``_outer_design(X)``, if the caller has it (computed here otherwise).
    """
    p = X.shape[1]
    shrink = np.zeros(p)
    shrink[k] = 1.0
    no_shrink = 1.0 - shrink
    sz = size[:, None]
    xbeta = beta @ X.T
    prior = ((beta * no_shrink) ** 2 / (2 * s0**2)).sum(axis=1) + np.log1p((beta[:, k] / s1) ** 2)
    # one exp and one log per entry: log(size + e) = logaddexp(xbeta + offset, log size),
    # q = e / (size + e) = 1 / (1 + size exp(-xbeta - offset)) (inf / NaN only for
    # xbeta + offset > 709, a trial point that the line search then rejects)
    e = np.exp(xbeta + offset)
    se = sz + e
    q = e / se
    Ysz = Y + sz
    nll = (Y * xbeta - Ysz * np.log(se)).sum(axis=1)
    f = prior - nll
    bk = beta[:, k : k + 1]
    d_neg_prior = beta * no_shrink / s0**2 + 2 * beta * shrink / (s1**2 + bk**2)
    d_nll = (Y - Ysz * q) @ X
    grad = d_neg_prior - d_nll
    if not want_hess:
        return f, grad, None
    frac = Ysz * q * (sz / se)  # (Y + size) size e / (size + e)^2
    Hm = (frac @ (_outer_design(X) if XX is None else XX)).reshape(-1, p, p)
    h22 = 2 * (s1**2 - bk[:, 0] ** 2) / (s1**2 + bk[:, 0] ** 2) ** 2
    diag = no_shrink[None, :] / s0**2 + shrink[None, :] * h22[:, None]
    Hm = Hm + diag[:, :, None] * np.eye(p)[None]
    return f, grad, Hm


def _pydeseq2_shrink_hessian(
    beta: np.ndarray, X: np.ndarray, Y: np.ndarray, size: np.ndarray, offset: np.ndarray,
    s0: float, s1: float, k: int,
) -> np.ndarray:  # fmt: skip
    """``ddf(beta, 1)`` of ``pydeseq2.utils.nbinomGLM``, for all genes.

    pyDESeq2 adds ``np.diag(h)`` (a vector) to ``X^T diag(frac) X``, so the prior term is
    broadcast along rows rather than placed on the diagonal; reproduced as is so that the
    shrunk standard errors equal DefaultInference's.
    """
    p = X.shape[1]
    shrink = np.zeros(p)
    shrink[k] = 1.0
    no_shrink = 1.0 - shrink
    sz = size[:, None]
    e = np.exp(beta @ X.T + offset)
    frac = (Y + sz) * sz * e / (sz + e) ** 2
    Hm = (frac @ _outer_design(X)).reshape(-1, p, p)
    bk = beta[:, k]
    h22 = 2 * (s1**2 - bk**2) / (s1**2 + bk**2) ** 2
    h = no_shrink[None, :] * (1 / s0**2) + shrink[None, :] * h22[:, None]
    return np.asarray(Hm + h[:, None, :])


def _newton_map(
    beta: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    size: np.ndarray,
    offset: np.ndarray,
    s0: float,
    s1: float,
    k: int,
    maxiter: int = 100,
    xtol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped Newton on the apeGLM MAP objective from ``beta`` (genes x coefs).

    Newton steps on the exact Hessian (shifted to positive definite where the Cauchy prior
    makes it indefinite), Armijo backtracking, stop when the step is below ``xtol`` in every
    coordinate. Returns ``beta``, the objective and a converged mask.
    """
    G = Y.shape[0]
    p = X.shape[1]
    beta = beta.copy()
    conv = np.zeros(G, dtype=bool)
    act = np.arange(G)
    eye = np.eye(p)
    XX = _outer_design(X)
    f, grad, Hm = _shrink_fgh(beta, X, Y, size, offset, s0, s1, k, XX=XX)
    f_out = f.copy()
    for _ in range(maxiter):
        if act.size == 0:
            break
        assert Hm is not None
        ba = beta[act]
        lam_min = np.linalg.eigvalsh(Hm)[:, 0]
        shift = np.where(lam_min > 1e-10 * np.abs(Hm).max(axis=(1, 2)), 0.0, -lam_min + 1e-6)
        shift = np.where(np.isfinite(shift), shift, 0.0)
        step = -np.linalg.solve(Hm + shift[:, None, None] * eye, grad[..., None])[..., 0]
        smax = np.abs(step).max(axis=1)
        small = (smax < xtol) & (shift == 0)
        tiny = (smax < 1e-6) & (shift == 0)
        slope = (grad * step).sum(axis=1)
        t = np.ones(act.size)
        newb = ba + step
        fn, gn, Hn = _shrink_fgh(newb, X, Y[act], size[act], offset, s0, s1, k, XX=XX)
        assert Hn is not None
        ok = tiny | (fn <= f + 1e-4 * t * slope)
        for _ls in range(40):
            bad = ~ok & np.isfinite(f)
            if not bad.any():
                break
            t = np.where(bad, t * 0.5, t)
            bi = np.flatnonzero(bad)
            nb = ba[bi] + t[bi, None] * step[bi]
            f2, g2, H2 = _shrink_fgh(nb, X, Y[act[bi]], size[act[bi]], offset, s0, s1, k, XX=XX)
            assert H2 is not None
            newb[bi], fn[bi], gn[bi], Hn[bi] = nb, f2, g2, H2
            ok[bi] = f2 <= f[bi] + 1e-4 * t[bi] * slope[bi]
        beta[act] = np.where(ok[:, None], newb, ba)
        f_out[act] = np.where(ok, fn, f)
        done = small | (~ok & (smax < 1e-8))
        conv[act[done]] = True
        keep = ~done & ok
        act = act[keep]
        f, grad, Hm = fn[keep], gn[keep], Hn[keep]
    return beta, f_out, conv


def _shrink_block(
    X: np.ndarray,
    Y: np.ndarray,
    size: np.ndarray,
    offset: np.ndarray,
    s0: float,
    s1: float,
    optimizer: str,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MAP LFCs with the apeGLM prior for a block of genes (see ``_newton_map``).

    The Cauchy prior makes the objective bimodal when its scale is small: a narrow mode at
    ``beta_k = 0`` and the likelihood's mode. Newton from pyDESeq2's start (0.1, -0.1, ...)
    can stop in the narrow mode where L-BFGS-B's long first steps leave it, so genes whose
    solution lies within 10 prior scales of 0 are also solved from the prior-free fit, and
    the lower objective is kept. Genes that do not converge use ``pydeseq2.utils.nbinomGLM``.
    """
    G = Y.shape[0]
    p = X.shape[1]
    init = np.tile(0.1 * (-1.0) ** np.arange(p), (G, 1))
    with np.errstate(all="ignore"):
        beta, f, conv = _newton_map(init, X, Y, size, offset, s0, s1, k)
        near = np.flatnonzero(np.abs(beta[:, k]) < 10 * s1)
        if near.size:
            args = (X, Y[near], size[near], offset, s0)
            # only a starting point: a loose solve is enough
            free, _, _ = _newton_map(init[near], *args, 1e6, k, maxiter=30, xtol=1e-3)
            b2, f2, c2 = _newton_map(free, *args, s1, k)
            better = c2 & (f2 < f[near])
            idx = near[better]
            beta[idx], f[idx], conv[idx] = b2[better], f2[better], True

    fb = np.flatnonzero(~conv)
    inv_h = _safe_inv(_pydeseq2_shrink_hessian(beta, X, Y, size, offset, s0, s1, k))
    for g in fb:
        beta[g], inv_h[g], conv[g] = pd_utils.nbinomGLM(
            design_matrix=X, counts=Y[g], size=size[g], offset=offset,
            prior_no_shrink_scale=s0, prior_scale=s1, optimizer=optimizer, shrink_index=k,
        )  # fmt: skip
    if fb.size:
        logger.debug("lfc shrink: %d gene(s) solved by pyDESeq2's nbinomGLM", fb.size)
    return beta, inv_h, conv


def get_inference(name: Literal["batched", "default"], n_cpus: int) -> Inference:
    """Return the pyDESeq2 inference engine selected by the config key ``deseq2.inference``.

    Parameters
    ----------
    name : {"batched", "default"}
        ``"batched"``: :class:`BatchedInference` (this module, gene-vectorized) with R's
        gene-wise dispersion estimator (``genewise="r"``);
        ``"default"``: pyDESeq2's own ``DefaultInference`` (joblib, one gene at a time).
    n_cpus : int
        Cores to use (pass Snakemake's ``threads``). Must be >= 1.

    Returns
    -------
    pydeseq2.inference.Inference
        Hand it to ``DeseqDataSet(..., inference=...)`` and ``DeseqStats(..., inference=...)``.

    Raises
    ------
    ConfigError
        For an unknown engine name or a non-positive ``n_cpus``.
    """
    from redoxseq.errors import ConfigError

    if not isinstance(n_cpus, int | np.integer) or isinstance(n_cpus, bool) or n_cpus < 1:
        raise ConfigError(f"deseq2 threads: expected a positive integer, got {n_cpus!r}")
    if name == "batched":
        return BatchedInference(n_cpus=int(n_cpus), genewise="r")
    if name == "default":
        return DefaultInference(n_cpus=int(n_cpus))
    raise ConfigError(
        f"deseq2.inference: unknown engine {name!r}; accepted values are 'batched' and 'default'"
    )
