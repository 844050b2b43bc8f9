"""R's own optimizers, ported step for step so that tearflow lands where R lands.

limpa fits its detection probability curve and, per protein, its maximum-posterior protein
log-intensities with ``optim(method = "BFGS")`` and estimates a prior df with ``optimize``. Both stop
at loose tolerances (``reltol = sqrt(.Machine$double.eps)``; ``tol = .Machine$double.eps^0.25``), so
a different optimizer that reaches the exact optimum can differ from limpa by ~1e-4. To match limpa
to tight tolerances tearflow runs the same algorithms:

==========================  ===================================================================
tearflow                    R
==========================  ===================================================================
:func:`bfgs_minimize`       ``optim(method = "BFGS")`` = ``vmmin`` in R's ``src/appl/optim.c``
                            (Nash 1990, *Compact Numerical Methods for Computers*, 2nd ed.,
                            Algorithm 21, as re-crafted by B.D. Ripley), vectorized over many
                            independent problems of the same dimension that run in lock step
:func:`numeric_gradient`    ``optim``'s central differences when no ``gr`` is given (``ndeps``)
:func:`brent_fmin`          ``optimize`` = ``Brent_fmin`` in R's ``src/library/stats/src/optimize.c``
                            (Brent 1973, *Algorithms for Minimization without Derivatives*, ch. 5)
==========================  ===================================================================

The only differences from R are floating-point summation orders (~1e-16 relative).
"""

import math

import numpy as np

#: ``optim``'s default relative tolerance, ``sqrt(.Machine$double.eps)``
RELTOL = math.sqrt(np.finfo(float).eps)
#: ``optimize``'s default tolerance, ``.Machine$double.eps^0.25``
OPTIMIZE_TOL = np.finfo(float).eps ** 0.25
_STEPREDN = 0.2
_ACCTOL = 0.0001
_RELTEST = 10.0


class BFGSResult:
    """What :func:`bfgs_minimize` returns, one row per problem (``optim``'s ``par``, ``value``,
    ``counts`` and ``convergence``)."""

    def __init__(self, par, value, fncount, grcount, converged):
        self.par = par
        self.value = value
        self.fncount = fncount
        self.grcount = grcount
        self.converged = converged


def bfgs_minimize(fn, gr, x0, maxit=100, reltol=RELTOL, abstol=-np.inf):
    """Minimize many independent functions of ``p`` parameters by R's BFGS (``vmmin``), in lock step.

    ``fn(x, rows)`` returns the objective values (shape ``(len(rows),)``) of problems ``rows`` (an
    index array into the batch) at parameters ``x`` (``(len(rows), p)``); ``gr(x, rows)`` returns their
    gradients (``(len(rows), p)``). ``x0`` is ``(m, p)``. Each problem follows exactly the path that
    ``optim(x0[i], fn_i, gr_i, method = "BFGS", control = list(maxit, reltol, abstol))`` would take:
    inverse-Hessian approximation reset to I at the start and after every 2p gradient evaluations or
    a non-positive curvature step; backtracking line search from step 1 by factor 0.2 until
    f ≤ F + 1e-4 · step · gᵀd; stop when a step changes f by ≤ reltol · (|F| + reltol) or leaves the
    parameters unchanged (at 10 + x precision) twice, or after ``maxit`` gradient evaluations.
    """
    x0 = np.array(x0, dtype=float, ndmin=2)
    m, n = x0.shape
    rows_all = np.arange(m)
    b = x0.copy()
    f = np.asarray(fn(b, rows_all), dtype=float).copy()
    if not np.all(np.isfinite(f)):
        raise ValueError("initial value in 'vmmin' is not finite")
    fmin = f.copy()
    g = np.asarray(gr(b, rows_all), dtype=float).copy()
    funcount = np.ones(m, dtype=int)
    gradcount = np.ones(m, dtype=int)
    iters = np.ones(m, dtype=int)
    ilast = gradcount.copy()
    hess_inv = np.zeros((m, n, n))
    active = np.ones(m, dtype=bool)
    eye = np.eye(n)
    if maxit <= 0:
        return BFGSResult(b, f, np.zeros(m, int), np.zeros(m, int), np.ones(m, bool))
    while active.any():
        rows = np.flatnonzero(active)
        reset = rows[ilast[rows] == gradcount[rows]]
        hess_inv[reset] = eye
        X = b[rows].copy()
        c = g[rows].copy()
        t = -np.einsum("kij,kj->ki", hess_inv[rows], c)
        gradproj = np.einsum("ki,ki->k", t, c)
        count = np.zeros(len(rows), dtype=int)
        down = gradproj < 0.0
        steplength = np.ones(len(rows))
        # line search, in lock step over the downhill problems
        searching = down.copy()
        while searching.any():
            k = np.flatnonzero(searching)
            trial = X[k] + steplength[k, None] * t[k]
            b[rows[k]] = trial
            count[k] = np.sum(_RELTEST + X[k] == _RELTEST + trial, axis=1)
            moved = k[count[k] < n]
            searching[k[count[k] == n]] = False
            if len(moved):
                fk = np.asarray(fn(b[rows[moved]], rows[moved]), dtype=float)
                f[rows[moved]] = fk
                funcount[rows[moved]] += 1
                with np.errstate(invalid="ignore"):
                    bound = fmin[rows[moved]] + gradproj[moved] * steplength[moved] * _ACCTOL
                    accpoint = np.isfinite(fk) & (fk <= bound)
                steplength[moved[~accpoint]] *= _STEPREDN
                searching[moved[accpoint]] = False
        # after the line search (downhill problems only)
        kd = np.flatnonzero(down)
        rd = rows[kd]
        with np.errstate(invalid="ignore"):
            enough = (f[rd] > abstol) & (np.abs(f[rd] - fmin[rd]) > reltol * (np.abs(fmin[rd]) + reltol))
        count[kd[~enough]] = n
        fmin[rd[~enough]] = f[rd[~enough]]
        progress = kd[count[kd] < n]
        if len(progress):
            rp = rows[progress]
            fmin[rp] = f[rp]
            g[rp] = np.asarray(gr(b[rp], rp), dtype=float)
            gradcount[rp] += 1
            iters[rp] += 1
            tp = steplength[progress, None] * t[progress]
            cp = g[rp] - c[progress]
            d1 = np.einsum("ki,ki->k", tp, cp)
            pos = d1 > 0
            if pos.any():
                rpos = rp[pos]
                tq, cq, dq = tp[pos], cp[pos], d1[pos]
                Xq = np.einsum("kij,kj->ki", hess_inv[rpos], cq)
                d2 = 1.0 + np.einsum("ki,ki->k", Xq, cq) / dq
                upd = (
                    d2[:, None, None] * tq[:, :, None] * tq[:, None, :]
                    - Xq[:, :, None] * tq[:, None, :]
                    - tq[:, :, None] * Xq[:, None, :]
                ) / dq[:, None, None]
                hess_inv[rpos] += upd
            ilast[rp[~pos]] = gradcount[rp[~pos]]
        noprog = kd[count[kd] == n]
        rn = rows[noprog]
        again = ilast[rn] < gradcount[rn]
        count[noprog[again]] = 0
        ilast[rn[again]] = gradcount[rn[again]]
        # uphill: reset, or stop if just reset
        ku = np.flatnonzero(~down)
        ru = rows[ku]
        just_reset = ilast[ru] == gradcount[ru]
        count[ku] = np.where(just_reset, n, 0)
        ilast[ru[~just_reset]] = gradcount[ru[~just_reset]]
        # stopping
        at_maxit = iters[rows] >= maxit
        restart = ~at_maxit & (gradcount[rows] - ilast[rows] > 2 * n)
        ilast[rows[restart]] = gradcount[rows[restart]]
        stop = at_maxit | ((count == n) & (ilast[rows] == gradcount[rows]))
        active[rows[stop]] = False
    return BFGSResult(b, fmin, funcount, gradcount, iters < maxit)


def numeric_gradient(fn, ndeps=1e-3):
    """``optim``'s finite-difference gradient of ``fn`` (used when ``gr`` is ``NULL``):
    (f(x + ε eᵢ) − f(x − ε eᵢ)) / 2ε with ε = ``ndeps``, for a batched ``fn(x, rows)``."""

    def gr(x, rows):
        out = np.empty_like(x)
        for i in range(x.shape[1]):
            up = x.copy()
            up[:, i] = x[:, i] + ndeps
            dn = x.copy()
            dn[:, i] = x[:, i] - ndeps
            out[:, i] = (fn(up, rows) - fn(dn, rows)) / (2 * ndeps)
        return out

    return gr


def brent_fmin(f, lower, upper, tol=OPTIMIZE_TOL):
    """R's ``optimize(f, c(lower, upper), tol = tol)$minimum``: Brent's (1973) golden-section search
    with parabolic interpolation, exactly as ``Brent_fmin`` in R's ``optimize.c``."""
    c = (3.0 - math.sqrt(5.0)) * 0.5
    eps = math.sqrt(np.finfo(float).eps)
    a, b = lower, upper
    v = a + c * (b - a)
    w = x = v
    d = e = 0.0
    fx = f(x)
    fv = fw = fx
    tol3 = tol / 3.0
    while True:
        xm = (a + b) * 0.5
        tol1 = eps * abs(x) + tol3
        t2 = tol1 * 2.0
        if abs(x - xm) <= t2 - (b - a) * 0.5:
            break
        p = q = r = 0.0
        if abs(e) > tol1:
            r = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            p = (x - v) * q - (x - w) * r
            q = (q - r) * 2.0
            if q > 0.0:
                p = -p
            else:
                q = -q
            r = e
            e = d
        if abs(p) >= abs(q * 0.5 * r) or p <= q * (a - x) or p >= q * (b - x):
            e = b - x if x < xm else a - x
            d = c * e
        else:
            d = p / q
            u = x + d
            if u - a < t2 or b - u < t2:
                d = tol1
                if x >= xm:
                    d = -d
        if abs(d) >= tol1:
            u = x + d
        elif d > 0.0:
            u = x + tol1
        else:
            u = x - tol1
        fu = f(u)
        if fu <= fx:
            if u < x:
                b = x
            else:
                a = x
            v, w, x = w, x, u
            fv, fw, fx = fw, fx, fu
        else:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, fv = w, fw
                w, fw = u, fu
            elif fu <= fv or v == x or v == w:
                v, fv = u, fu
    return x
