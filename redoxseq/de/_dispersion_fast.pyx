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
