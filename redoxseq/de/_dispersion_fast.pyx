# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""C kernel of the batched engine's dispersion objective (``redoxseq.de.inference``).

One pass over each gene's samples gives the objective, its first and second derivatives in
``x = log(alpha)`` of pyDESeq2's ``fit_alpha_mle`` loss without the prior (the caller adds
it): the negative binomial log-likelihood and, with ``cr_reg``, the Cox-Reid term
``0.5 log det(X^T W X)``, ``W = mu / (1 + mu alpha)``. Same formulas as the NumPy path
(``_AlphaProblem.fgh``, which stays as the fallback when this extension is not built), with
digamma / trigamma / log-gamma from the same recurrences and asymptotic series, so the two
agree to rounding (tested). No genes x samples temporaries; the GIL is released.

R's line search never uses the curvature: ``alpha_fg`` computes the objective and gradient
only, bit for bit as ``alpha_fgh`` does, and ``r_line_search`` runs R DESeq2's whole
gene-wise / MAP line search gene by gene on it (the vectorized search of
``redoxseq.de.inference._r_line_search_numpy``, step for step). The Cox-Reid sums skip the
design's zero products (``x_ja x_jb = 0``: adding ``w * 0`` changes no bit of a finite sum).
"""

from libc.math cimport NAN, exp, log
from libc.stdlib cimport free, malloc

cdef double HALF_LOG_2PI = 0.91893853320467274178
DEF TABLE = 64  # counts below this use the per-gene recurrence tables


cdef inline void _series(double x, bint want_lg, double* lg, double* dig,
                         double* tri) noexcept nogil:
    """log-gamma (if ``want_lg``), digamma and trigamma of ``x > 0``."""
    cdef double ds = 0.0, ts = 0.0, prod = 1.0, inv, z, z2, acc, logx
    cdef bint small = x < 10.0
    # psi(x) = psi(x + 1) - 1 / x, psi1(x) = psi1(x + 1) + 1 / x^2,
    # lgamma(x) = lgamma(x + 1) - log x: shift up to x >= 10 (the NumPy path always takes
    # ten steps, vectorized; the values agree to rounding)
    while x < 10.0:
        inv = 1.0 / x
        ds += inv
        ts += inv * inv
        prod *= x
        x += 1.0
    z = 1.0 / x
    z2 = z * z
    logx = log(x)
    acc = z2 * (-691.0 / 32760.0)
    acc = (acc + 1.0 / 132.0) * z2
    acc = (acc - 1.0 / 240.0) * z2
    acc = (acc + 1.0 / 252.0) * z2
    acc = (acc - 1.0 / 120.0) * z2
    acc = (acc + 1.0 / 12.0) * z2
    dig[0] = logx - acc - 0.5 * z - ds
    acc = z2 * (-1.0 / 30.0)
    acc = (acc + 1.0 / 42.0) * z2
    acc = (acc - 1.0 / 30.0) * z2
    acc = (acc + 1.0 / 6.0) * z2
    tri[0] = acc * z + z + 0.5 * z2 + ts
    if want_lg:
        acc = z2 * (-691.0 / 360360.0)
        acc = (acc + 1.0 / 1188.0) * z2
        acc = (acc - 1.0 / 1680.0) * z2
        acc = (acc + 1.0 / 1260.0) * z2
        acc = (acc - 1.0 / 360.0) * z2
        acc = (acc + 1.0 / 12.0) * z
        lg[0] = (x - 0.5) * logx - x + acc + HALF_LOG_2PI
        if small:
            lg[0] -= log(prod)


cdef inline bint _cholesky_inverse(double* M, double* L, double* Minv, int p,
                                   double* logdet) noexcept nogil:
    """Inverse and log-determinant of the symmetric positive definite ``M`` (p x p).

    Returns False when ``M`` is not numerically positive definite.
    """
    cdef int a, b, c
    cdef double s
    for a in range(p):
        for b in range(a + 1):
            s = M[a * p + b]
            for c in range(b):
                s -= L[a * p + c] * L[b * p + c]
            if a == b:
                if not s > 0.0:
                    return False
                L[a * p + a] = s ** 0.5
            else:
                L[a * p + b] = s / L[b * p + b]
    logdet[0] = 0.0
    for a in range(p):
        logdet[0] += 2.0 * log(L[a * p + a])
    # Minv = L^-T L^-1: invert L in place of the upper triangle of Minv's scratch
    for b in range(p):  # column b of L^-1, forward substitution
        for a in range(p):
            if a < b:
                Minv[a * p + b] = 0.0
                continue
            s = 1.0 if a == b else 0.0
            for c in range(b, a):
                s -= L[a * p + c] * Minv[c * p + b]
            Minv[a * p + b] = s / L[a * p + a]
    # (L^-1)^T L^-1, symmetric; L^-1 is lower triangular (stored in Minv), copy it first
    for a in range(p):
        for b in range(p):
            L[a * p + b] = Minv[a * p + b]
    for a in range(p):
        for b in range(a + 1):
            s = 0.0
            for c in range(a, p):
                s += L[c * p + a] * L[c * p + b]
            Minv[a * p + b] = s
            Minv[b * p + a] = s
    return True


def alpha_fgh(
    const double[:, ::1] Y,
    const double[:, ::1] MU,
    const double[:, ::1] X,
    const double[:, ::1] lgam_y1,
    const double[:, ::1] ylogmu,
    const long[::1] idx,
    const double[::1] x,
    const unsigned char[::1] want_f,
    bint cr_reg,
    double[::1] f_out,
    double[::1] g_out,
    double[::1] h_out,
) -> None:
    """Objective (NaN where ``want_f`` is 0), gradient and curvature in log-dispersion.

    Genes ``idx`` (rows of the genes x samples ``Y``, ``MU``, ``lgam_y1`` = lgamma(Y + 1),
    ``ylogmu`` = Y log MU) at ``x`` = log(alpha); design ``X`` (samples x p). Without the
    prior term. A gene whose ``X^T W X`` is not positive definite gets NaN everywhere (the
    caller's fallback path takes it, as for the NumPy path's singular matrices).
    """
    cdef Py_ssize_t n_genes = idx.shape[0], n = Y.shape[1], p = X.shape[1]
    cdef Py_ssize_t i, j, a, b, gene
    cdef double alpha, r, psi_r, psi1_r, S, l2, fsum, y, mu, xr, D, logD, invD, inv_rm, q
    cdef double lg = 0.0, dig = 0.0, tri = 0.0, lg_r = 0.0, W, W2, W3, xx, logr, logdet, d1, d2, t, s
    cdef bint want, ok
    cdef int k, top
    cdef double ymax
    cdef double inv, ddig, dtri, dlg
    cdef double d_psi[TABLE]
    cdef double d_psi1[TABLE]
    cdef double d_lg[TABLE]
    cdef double* buf = <double*> malloc(6 * p * p * sizeof(double))
    if buf == NULL:
        raise MemoryError()
    cdef double* M = buf
    cdef double* A = buf + p * p
    cdef double* B = buf + 2 * p * p
    cdef double* L = buf + 3 * p * p
    cdef double* Minv = buf + 4 * p * p
    cdef double* C = buf + 5 * p * p
    try:
        with nogil:
            for i in range(n_genes):
                gene = idx[i]
                want = want_f[i] != 0
                alpha = exp(x[i])
                r = 1.0 / alpha
                logr = log(r)
                _series(r, want, &lg_r, &psi_r, &psi1_r)
                # Counts are integers: psi(y + r) - psi(r), psi1(y + r) - psi1(r) and
                # lgamma(y + r) - lgamma(r) for y < TABLE by the recurrences (sums of
                # 1 / (r + k), -1 / (r + k)^2, log(r + k): no cancellation at large r)
                d_psi[0] = 0.0
                d_psi1[0] = 0.0
                d_lg[0] = 0.0
                ymax = 0.0
                for j in range(n):
                    if Y[gene, j] > ymax:
                        ymax = Y[gene, j]
                top = TABLE if ymax >= TABLE - 1 else <int> ymax + 1
                for k in range(1, top):
                    inv = 1.0 / (r + (k - 1))
                    d_psi[k] = d_psi[k - 1] + inv
                    d_psi1[k] = d_psi1[k - 1] - inv * inv
                    if want:
                        d_lg[k] = d_lg[k - 1] + log(r + (k - 1))
                S = 0.0
                l2 = 0.0
                fsum = 0.0
                if cr_reg:
                    for a in range(p * p):
                        M[a] = 0.0
                        A[a] = 0.0
                        B[a] = 0.0
                for j in range(n):
                    y = Y[gene, j]
                    mu = MU[gene, j]
                    xr = y + r
                    k = <int> y
                    if 0 <= y < top and k == y:
                        ddig = d_psi[k]
                        dtri = d_psi1[k]
                        dlg = d_lg[k]
                    else:
                        _series(xr, want, &lg, &dig, &tri)
                        ddig = dig - psi_r
                        dtri = tri - psi1_r
                        dlg = lg - lg_r
                    D = 1.0 + mu * alpha
                    logD = log(D)
                    invD = 1.0 / D
                    inv_rm = alpha * invD  # 1 / (mu + r) = alpha / (1 + mu alpha)
                    q = (y - mu) * inv_rm
                    # pyDESeq2's dnb_nll terms and the second derivative of l(r)
                    S += logD + q - ddig
                    l2 += dtri + alpha - inv_rm + q * inv_rm
                    if want:
                        # -log binom + (y + r) log(r + mu) - y log mu
                        fsum += lgam_y1[gene, j] - dlg + xr * (logr + logD) - ylogmu[gene, j]
                    if cr_reg:
                        W = mu * invD
                        W2 = W * W
                        W3 = W2 * W
                        for a in range(p):
                            for b in range(a + 1):
                                xx = X[j, a] * X[j, b]
                                M[a * p + b] += W * xx
                                A[a * p + b] += W2 * xx
                                B[a * p + b] += W3 * xx
                g_out[i] = -r * S
                h_out[i] = r * S - r * r * l2
                f_out[i] = n * r * log(alpha) + fsum if want else NAN
                if not cr_reg:
                    continue
                for a in range(p):
                    for b in range(a):
                        M[b * p + a] = M[a * p + b]
                        A[b * p + a] = A[a * p + b]
                        B[b * p + a] = B[a * p + b]
                ok = _cholesky_inverse(M, L, Minv, p, &logdet)
                if not ok:
                    f_out[i] = NAN
                    g_out[i] = NAN
                    h_out[i] = NAN
                    continue
                # dM/dalpha = -A, d2M/dalpha2 = 2 B; C = Minv (-A)
                d1 = 0.0
                for a in range(p):
                    for b in range(p):
                        s = 0.0
                        for j in range(p):
                            s -= Minv[a * p + j] * A[j * p + b]
                        C[a * p + b] = s
                    d1 += C[a * p + a]
                d1 *= 0.5
                t = 0.0
                s = 0.0
                for a in range(p):
                    for b in range(p):
                        t += Minv[a * p + b] * B[b * p + a]
                        s += C[a * p + b] * C[b * p + a]
                d2 = 0.5 * (2.0 * t - s)
                if want:
                    f_out[i] += 0.5 * logdet
                g_out[i] += d1 * alpha
                h_out[i] += d1 * alpha + d2 * alpha * alpha
    finally:
        free(buf)


cdef inline void _series_lg_dig(double x, double* lg, double* dig) noexcept nogil:
    """log-gamma and digamma of ``x > 0``: :func:`_series` without the trigamma, same bits."""
    cdef double ds = 0.0, prod = 1.0, inv, z, z2, acc, logx
    cdef bint small = x < 10.0
    while x < 10.0:
        inv = 1.0 / x
        ds += inv
        prod *= x
        x += 1.0
    z = 1.0 / x
    z2 = z * z
    logx = log(x)
    acc = z2 * (-691.0 / 32760.0)
    acc = (acc + 1.0 / 132.0) * z2
    acc = (acc - 1.0 / 240.0) * z2
    acc = (acc + 1.0 / 252.0) * z2
    acc = (acc - 1.0 / 120.0) * z2
    acc = (acc + 1.0 / 12.0) * z2
    dig[0] = logx - acc - 0.5 * z - ds
    acc = z2 * (-691.0 / 360360.0)
    acc = (acc + 1.0 / 1188.0) * z2
    acc = (acc - 1.0 / 1680.0) * z2
    acc = (acc + 1.0 / 1260.0) * z2
    acc = (acc - 1.0 / 360.0) * z2
    acc = (acc + 1.0 / 12.0) * z
    lg[0] = (x - 0.5) * logx - x + acc + HALF_LOG_2PI
    if small:
        lg[0] -= log(prod)


cdef struct _Design:
    # the design's non-zero products x_ja x_jb (b <= a) per sample j, as CSR rows: entries
    # start[j] .. start[j + 1] - 1 of pos (a * p + b) and xx; and scratch for the Cox-Reid
    # matrices of one gene (M, A, L, Minv: p x p each)
    int p
    int* start
    int* pos
    double* xx
    double* buf


cdef int _design_init(_Design* d, const double[:, ::1] X) noexcept nogil:
    """Fill ``d`` from ``X`` (samples x p); returns -1 when out of memory."""
    cdef Py_ssize_t n = X.shape[0], j
    cdef int p = <int> X.shape[1], a, b, k = 0
    cdef double v
    d.p = p
    d.start = <int*> malloc((n + 1) * sizeof(int))
    d.pos = <int*> malloc((n * p * (p + 1) // 2 + 1) * sizeof(int))
    d.xx = <double*> malloc((n * p * (p + 1) // 2 + 1) * sizeof(double))
    d.buf = <double*> malloc((4 * p * p + 1) * sizeof(double))
    if d.start == NULL or d.pos == NULL or d.xx == NULL or d.buf == NULL:
        return -1
    for j in range(n):
        d.start[j] = k
        for a in range(p):
            for b in range(a + 1):
                v = X[j, a] * X[j, b]
                if v != 0.0:  # NaN is kept
                    d.pos[k] = a * p + b
                    d.xx[k] = v
                    k += 1
    d.start[n] = k
    return 0


cdef void _design_free(_Design* d) noexcept nogil:
    free(d.start)
    free(d.pos)
    free(d.xx)
    free(d.buf)


cdef inline int _table_top(const double* Y, Py_ssize_t n) noexcept nogil:
    """Entries of ``alpha_fgh``'s recurrence tables for one gene's counts ``Y``."""
    cdef Py_ssize_t j
    cdef double ymax = 0.0
    for j in range(n):
        if Y[j] > ymax:
            ymax = Y[j]
    return TABLE if ymax >= TABLE - 1 else <int> ymax + 1


cdef void _fg_gene(const double* Y, const double* MU, const double* lgam_y1,
                   const double* ylogmu, Py_ssize_t n, int top, double x, bint cr_reg,
                   _Design* des, double* f_out, double* g_out) noexcept nogil:
    """Objective and gradient of one gene at ``x``: ``alpha_fgh``'s ``f`` and ``g``, same bits.

    The same operations in the same order, without the curvature's terms; the Cox-Reid sums
    skip the zero products of the design, and the derivative of its log determinant takes
    only the diagonal of ``Minv A`` (all its trace needs). ``top``: ``_table_top(Y, n)``.
    """
    cdef Py_ssize_t j
    cdef int a, b, c, k, p = des.p
    cdef double alpha, r, logr, psi_r = 0.0, lg_r = 0.0, lg = 0.0, dig = 0.0
    cdef double S, fsum, y, mu, xr, D, logD, invD, inv_rm, q, W, W2, ddig, dlg, inv
    cdef double logdet = 0.0, d1, s
    cdef double d_psi[TABLE]
    cdef double d_lg[TABLE]
    cdef double* M = des.buf
    cdef double* A = des.buf + p * p
    cdef double* L = des.buf + 2 * p * p
    cdef double* Minv = des.buf + 3 * p * p
    alpha = exp(x)
    r = 1.0 / alpha
    logr = log(r)
    _series_lg_dig(r, &lg_r, &psi_r)
    d_psi[0] = 0.0
    d_lg[0] = 0.0
    for k in range(1, top):
        inv = 1.0 / (r + (k - 1))
        d_psi[k] = d_psi[k - 1] + inv
        d_lg[k] = d_lg[k - 1] + log(r + (k - 1))
    S = 0.0
    fsum = 0.0
    if cr_reg:
        for a in range(p * p):
            M[a] = 0.0
            A[a] = 0.0
    for j in range(n):
        y = Y[j]
        mu = MU[j]
        xr = y + r
        k = <int> y
        if 0 <= y < top and k == y:
            ddig = d_psi[k]
            dlg = d_lg[k]
        else:
            _series_lg_dig(xr, &lg, &dig)
            ddig = dig - psi_r
            dlg = lg - lg_r
        D = 1.0 + mu * alpha
        logD = log(D)
        invD = 1.0 / D
        inv_rm = alpha * invD
        q = (y - mu) * inv_rm
        S += logD + q - ddig
        fsum += lgam_y1[j] - dlg + xr * (logr + logD) - ylogmu[j]
        if cr_reg:
            W = mu * invD
            W2 = W * W
            for c in range(des.start[j], des.start[j + 1]):
                M[des.pos[c]] += W * des.xx[c]
                A[des.pos[c]] += W2 * des.xx[c]
    g_out[0] = -r * S
    f_out[0] = n * r * log(alpha) + fsum
    if not cr_reg:
        return
    for a in range(p):
        for b in range(a):
            A[b * p + a] = A[a * p + b]
    if not _cholesky_inverse(M, L, Minv, p, &logdet):
        f_out[0] = NAN
        g_out[0] = NAN
        return
    d1 = 0.0
    for a in range(p):
        s = 0.0
        for c in range(p):
            s -= Minv[a * p + c] * A[c * p + a]
        d1 += s
    d1 *= 0.5
    f_out[0] += 0.5 * logdet
    g_out[0] += d1 * alpha


def alpha_fg(
    const double[:, ::1] Y,
    const double[:, ::1] MU,
    const double[:, ::1] X,
    const double[:, ::1] lgam_y1,
    const double[:, ::1] ylogmu,
    const long[::1] idx,
    const double[::1] x,
    bint cr_reg,
    double[::1] f_out,
    double[::1] g_out,
) -> None:
    """Objective and gradient in log-dispersion: ``alpha_fgh``'s ``f`` and ``g``, same bits.

    Arguments as for ``alpha_fgh``, every objective wanted, no curvature. Without the prior.
    """
    cdef Py_ssize_t n_genes = idx.shape[0], n = Y.shape[1], i, gene
    cdef _Design des
    cdef int status
    with nogil:
        status = _design_init(&des, X)
        if status == 0:
            for i in range(n_genes):
                gene = idx[i]
                _fg_gene(&Y[gene, 0], &MU[gene, 0], &lgam_y1[gene, 0], &ylogmu[gene, 0], n,
                         _table_top(&Y[gene, 0], n), x[i], cr_reg, &des, &f_out[i], &g_out[i])
        _design_free(&des)
    if status != 0:
        raise MemoryError()


def r_line_search(
    const double[:, ::1] Y,
    const double[:, ::1] MU,
    const double[:, ::1] X,
    const double[:, ::1] lgam_y1,
    const double[:, ::1] ylogmu,
    const double[::1] prior_mean,
    double prior_var,
    bint prior_reg,
    bint cr_reg,
    double min_log_alpha,
    double lo,
    double hi,
    double kappa0,
    double disp_tol,
    double armijo,
    int maxit,
    double[::1] x,
    long[::1] iters,
    double[::1] f_out,
    double[::1] f0_out,
) -> None:
    """R DESeq2's dispersion line search for every gene (row) of ``Y``, from ``x`` (in place).

    ``redoxseq.de.inference._r_line_search_numpy`` gene by gene, with the same arithmetic:
    the objective ``alpha_fg`` (plus the prior ``(x - prior_mean)^2 / (2 prior_var)`` with
    ``prior_reg``), proposals ``x + kappa d`` kept within ``[lo, hi]``, acceptance when the
    log posterior rises by at least ``armijo kappa d^2``, the stop when that rise is below
    ``disp_tol`` or ``x`` below ``min_log_alpha``, ``kappa`` halved on a rejection, grown by
    10 % up to ``kappa0`` after an acceptance and halved after every fifth, at most ``maxit``
    iterations. Writes ``x``, the iterations ``iters`` (0 when the start is not finite), the
    objective at the end ``f_out`` and at the start ``f0_out``.
    """
    cdef Py_ssize_t G = Y.shape[0], n = Y.shape[1], i
    cdef _Design des
    cdef int status, t, accepted, top
    cdef double xa, fa, ga, ka, d, prop, xn, fn, gn, rise, dev
    with nogil:
        status = _design_init(&des, X)
        if status == 0:
            for i in range(G):
                xa = x[i]
                top = _table_top(&Y[i, 0], n)  # per gene, once
                _fg_gene(&Y[i, 0], &MU[i, 0], &lgam_y1[i, 0], &ylogmu[i, 0], n, top, xa,
                         cr_reg, &des, &fa, &ga)
                if prior_reg:
                    dev = xa - prior_mean[i]
                    fa = fa + dev * dev / (2.0 * prior_var)
                    ga = ga + dev / prior_var
                f0_out[i] = fa
                iters[i] = 0
                if not (fa - fa == 0.0 and ga - ga == 0.0):  # not finite
                    f_out[i] = fa
                    continue
                ka = kappa0
                accepted = 0
                for t in range(1, maxit + 1):
                    iters[i] = t
                    d = -ga
                    prop = xa + ka * d
                    if prop < lo:
                        ka = (lo - xa) / d
                    elif prop > hi:
                        ka = (hi - xa) / d
                    xn = xa + ka * d
                    _fg_gene(&Y[i, 0], &MU[i, 0], &lgam_y1[i, 0], &ylogmu[i, 0], n, top,
                             xn, cr_reg, &des, &fn, &gn)
                    if prior_reg:
                        dev = xn - prior_mean[i]
                        fn = fn + dev * dev / (2.0 * prior_var)
                        gn = gn + dev / prior_var
                    rise = fa - fn
                    if not (rise >= ka * armijo * d * d):  # NaN: rejected
                        ka = ka / 2
                        continue
                    xa, fa, ga = xn, fn, gn
                    accepted += 1
                    if rise < disp_tol or xn < min_log_alpha:
                        break
                    ka = ka * 1.1
                    if ka > kappa0:  # NaN stays NaN, as numpy.minimum
                        ka = kappa0
                    if accepted % 5 == 0:
                        ka = ka / 2
                x[i] = xa
                f_out[i] = fa
        _design_free(&des)
    if status != 0:
        raise MemoryError()
