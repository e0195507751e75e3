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
- ``alpha_mle``: scipy's L-BFGS-B, specialised to one variable (log-dispersion, bounded),
  re-implemented step for step on arrays: projected-gradient and relative-reduction stopping
  tests, generalized Cauchy point, the Moré-Thuente line search (``dcsrch`` / ``dcstep``,
  ``ftol=1e-3, gtol=0.9, xtol=0.1``, at most 20 trials) and the BFGS curvature update. The
  objective and gradient are pyDESeq2's (negative binomial likelihood, Cox-Reid term, log-normal
  prior), evaluated for all genes at once. Genes whose search leaves the common path (a failed
  line search, a memory reset) are handed to ``pydeseq2.utils.fit_alpha_mle`` itself, which
  includes the grid-search fallback.
- ``wald_test``: closed form, vectorized.
- ``lfc_shrink_nbinom_glm``: the apeGLM-prior MAP fit by a batched, damped Newton method
  converged far tighter than pyDESeq2's L-BFGS-B (``ftol = gtol = 1e-8``); genes where Newton
  fails fall back to ``pydeseq2.utils.nbinomGLM``. The returned inverse Hessian reproduces
  pyDESeq2's formula exactly (including how it adds the prior's diagonal).
- ``fit_rough_dispersions``, ``fit_moments_dispersions``, ``dispersion_trend_gamma_glm``:
  already vectorized in pyDESeq2; inherited unchanged.

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
from pydeseq2.grid_search import grid_fit_beta
from pydeseq2.inference import Inference
from scipy.optimize import minimize
from scipy.special import digamma, gammaln
from scipy.stats import norm

logger = logging.getLogger(__name__)

__all__ = ["CHUNK_ELEMENTS", "BatchedInference", "get_inference"]

#: Default block size, in matrix entries (samples x genes) per block of genes.
CHUNK_ELEMENTS = 1 << 18

# scipy.optimize.minimize(method="L-BFGS-B") defaults, as used by pydeseq2.utils.fit_alpha_mle.
_EPSMCH = float(np.finfo(float).eps)
_LBFGSB_PGTOL = 1e-5
_LBFGSB_TOL = (2.2204460492503131e-09 / _EPSMCH) * _EPSMCH  # factr * epsmch
_LBFGSB_MAXLS = 20
_LBFGSB_BIG = 1e10
# Moré-Thuente line search constants used by L-BFGS-B (lnsrlb -> dcsrch).
_LS_FTOL = 1e-3
_LS_GTOL = 0.9
_LS_XTOL = 0.1
# Safety cap on function evaluations per gene before handing a gene to pyDESeq2.
_MAX_ROUNDS = 400

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
    """

    def __init__(self, n_cpus: int | None = 1, chunk_elements: int = CHUNK_ELEMENTS) -> None:
        super().__init__(n_cpus=n_cpus)
        if chunk_elements < 1:
            raise ValueError(f"chunk_elements must be positive, got {chunk_elements}")
        self.chunk_elements = int(chunk_elements)

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
            gammaln(Y + r[:, None]) - gammaln(Y + 1) - gammaln(r)[:, None]
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
        p = X.shape[1]
        XX = _outer_design(X)
        alpha_hat = np.asarray(alpha_hat, dtype=float)
        lo, hi = float(np.log(min_disp)), float(np.log(max_disp))
        disp_out = np.empty(G)
        conv_out = np.empty(G, dtype=bool)

        def block(b: slice) -> None:
            Y = np.ascontiguousarray(counts[:, b].T, dtype=float)
            MU = np.ascontiguousarray(np.asarray(mu[:, b], dtype=float).T)
            lgam_y1 = gammaln(Y + 1)
            la_hat = np.log(alpha_hat[b])

            def fg(idx: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                return _nb_alpha_fg(
                    Y[idx], MU[idx], lgam_y1[idx], XX, p, x, la_hat[idx],
                    prior_disp_var, cr_reg, prior_reg,
                )  # fmt: skip

            with np.errstate(all="ignore"):
                x, conv, fb = _LBFGSB1D(fg, la_hat.copy(), lo, hi).run()
            out = np.exp(x)
            for g in np.flatnonzero(fb):
                out[g], conv[g] = pd_utils.fit_alpha_mle(
                    counts=Y[g], design_matrix=X, mu=MU[g], alpha_hat=alpha_hat[b][g],
                    min_disp=min_disp, max_disp=max_disp, prior_disp_var=prior_disp_var,
                    cr_reg=cr_reg, prior_reg=prior_reg, optimizer=optimizer,
                )  # fmt: skip
            if fb.any():
                logger.debug("alpha_mle: %d gene(s) solved by pyDESeq2's scipy path", fb.sum())
            disp_out[b] = out
            conv_out[b] = conv

        self._map_blocks(block, self._blocks(G, n))
        return disp_out, conv_out

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
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """apeGLM-prior objective of ``pydeseq2.utils.nbinomFn``, its gradient and Hessian.

    ``beta``: genes x coefs; ``Y``: genes x samples; ``size``: per gene. Unscaled.
    """
    p = X.shape[1]
    shrink = np.zeros(p)
    shrink[k] = 1.0
    no_shrink = 1.0 - shrink
    sz = size[:, None]
    xbeta = beta @ X.T
    prior = ((beta * no_shrink) ** 2 / (2 * s0**2)).sum(axis=1) + np.log1p((beta[:, k] / s1) ** 2)
    nll = (Y * xbeta - (Y + sz) * np.logaddexp(xbeta + offset, np.log(sz))).sum(axis=1)
    f = prior - nll
    bk = beta[:, k : k + 1]
    d_neg_prior = beta * no_shrink / s0**2 + 2 * beta * shrink / (s1**2 + bk**2)
    e = np.exp(xbeta + offset)
    d_nll = (Y - (Y + sz) / (1 + sz * np.exp(-xbeta - offset))) @ X
    grad = d_neg_prior - d_nll
    if not want_hess:
        return f, grad, None
    frac = (Y + sz) * sz * e / (sz + e) ** 2
    Hm = (frac @ _outer_design(X)).reshape(-1, p, p)
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Damped Newton on the apeGLM MAP objective from ``beta`` (genes x coefs).

    Newton steps on the exact Hessian (shifted to positive definite where the Cauchy prior
    makes it indefinite), Armijo backtracking, stop when the step is below ``1e-10`` in every
    coordinate. Returns ``beta``, the objective and a converged mask.
    """
    G = Y.shape[0]
    p = X.shape[1]
    beta = beta.copy()
    conv = np.zeros(G, dtype=bool)
    act = np.arange(G)
    eye = np.eye(p)
    f, grad, Hm = _shrink_fgh(beta, X, Y, size, offset, s0, s1, k)
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
        small = (smax < 1e-10) & (shift == 0)
        tiny = (smax < 1e-6) & (shift == 0)
        slope = (grad * step).sum(axis=1)
        t = np.ones(act.size)
        newb = ba + step
        fn, gn, Hn = _shrink_fgh(newb, X, Y[act], size[act], offset, s0, s1, k)
        assert Hn is not None
        ok = tiny | (fn <= f + 1e-4 * t * slope)
        for _ls in range(40):
            bad = ~ok & np.isfinite(f)
            if not bad.any():
                break
            t = np.where(bad, t * 0.5, t)
            bi = np.flatnonzero(bad)
            nb = ba[bi] + t[bi, None] * step[bi]
            f2, g2, H2 = _shrink_fgh(nb, X, Y[act[bi]], size[act[bi]], offset, s0, s1, k)
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
            free, _, _ = _newton_map(init[near], *args, 1e6, k)
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
        ``"batched"``: :class:`BatchedInference` (this module, gene-vectorized);
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
        return BatchedInference(n_cpus=int(n_cpus))
    if name == "default":
        return DefaultInference(n_cpus=int(n_cpus))
    raise ConfigError(
        f"deseq2.inference: unknown engine {name!r}; accepted values are 'batched' and 'default'"
    )
