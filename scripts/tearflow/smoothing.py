"""Smoothers and interpolation that limma and limpa rely on, ported from R.

=====================================  ==========================================================
tearflow                               R
=====================================  ==========================================================
:func:`natural_spline_basis`           ``splines::ns`` (the trend of ``fitFDist``)
:func:`lowess`                         ``stats::lowess`` (Cleveland 1979; the robust trend)
:func:`weighted_lowess`, :func:`loess_fit`   limma ``weightedLowess`` / ``loessFit`` (vooma, df loss)
:func:`choose_lowess_span`             limma ``chooseLowessSpan``
:func:`approx_rule2`                   ``approxfun(x, y, rule = 2, ties = list("ordered", mean))``
=====================================  ==========================================================

Cleveland WS (1979). Robust locally weighted regression and smoothing scatterplots. *JASA*
74:829–836.
"""

import numpy as np

#: ``THRESHOLD`` of limma's weighted_lowess.c: distances and variances below it count as zero
LOWESS_THRESHOLD = 1e-7


def _bspline_values(t, c, k, x):
    """Value at ``x`` of the degree-``k`` spline(s) with knots ``t`` and coefficients ``c`` (rows).

    What ``scipy.interpolate.BSpline(t, c, k)(x)`` computes, step for step (so to the last bit):
    for each x its interval ``t[l] <= x < t[l+1]`` (k ≤ l ≤ n−1, the last one closed), the k + 1
    non-zero B-splines there by de Boor's recursion, then Σ_a c[l−k+a] · B_a in order of a. Kept
    in numpy so that the trend fit does not import scipy.interpolate (which loads scipy.optimize).
    """
    t = np.asarray(t, dtype=float)
    c = np.asarray(c, dtype=float)
    x = np.asarray(x, dtype=float)
    n = len(t) - k - 1
    ell = np.clip(np.searchsorted(t, x, side="right") - 1, k, n - 1)
    h = np.zeros((len(x), k + 1))
    h[:, 0] = 1.0
    for j in range(1, k + 1):
        hh = h[:, :j].copy()
        h[:, 0] = 0.0
        for m in range(1, j + 1):
            xb = t[ell + m]
            xa = t[ell + m - j]
            same = xb == xa
            with np.errstate(divide="ignore", invalid="ignore"):  # w is discarded where the knots coincide
                w = hh[:, m - 1] / (xb - xa)
                h[:, m - 1] = np.where(same, h[:, m - 1], h[:, m - 1] + w * (xb - x))
                h[:, m] = np.where(same, 0.0, w * (x - xa))
    out = np.zeros((len(x),) + c.shape[1:])
    for a in range(k + 1):
        out += c[ell + a - k] * h[:, a].reshape((-1,) + (1,) * (c.ndim - 1))
    return out


def _bspline_derivative(t, c, k, nu=1):
    """Knots, coefficients and degree of the ``nu``-th derivative (``scipy.interpolate.splder``)."""
    t = np.asarray(t, dtype=float)
    c = np.asarray(c, dtype=float)
    sh = (slice(None),) + (None,) * (c.ndim - 1)
    if len(t) > len(c):  # pad c to the length of t (FITPACK convention)
        c = np.concatenate([c, np.zeros((len(t) - len(c),) + c.shape[1:])])
    for _ in range(nu):
        dt = t[k + 1 : -1] - t[1 : -k - 1]
        if np.any(dt == 0):  # splder raises here too (a division by zero)
            raise ValueError(f"The spline has internal repeated knots and is not differentiable {nu} times")
        c = (c[1 : -1 - k, ...] - c[: -2 - k, ...]) * k / dt[sh]
        c = np.concatenate([c, np.zeros((k,) + c.shape[1:])])
        t = t[1:-1]
        k -= 1
    return t, c, k


def natural_spline_basis(x, df, fit_x=None):
    """A basis of the natural cubic splines of ``splines::ns(fit_x, df=df, intercept=TRUE)``,
    evaluated at ``x`` (linear beyond the boundary knots, as ``predict.ns``).

    Knots: ``df − 2`` interior knots at equally spaced quantiles (R type 7) of ``fit_x`` and the
    boundary knots at its range; the space is the cubic B-splines on these knots whose second
    derivative is zero at both boundary knots. The basis differs from R's by an invertible linear
    map, which leaves every fitted value and residual of a regression on it unchanged.
    """
    x = np.asarray(x, dtype=float)
    fit_x = x if fit_x is None else np.asarray(fit_x, dtype=float)
    lo, hi = float(np.min(fit_x)), float(np.max(fit_x))
    n_inner = df - 2
    probs = np.linspace(0, 1, n_inner + 2)[1:-1]
    inner = np.quantile(fit_x, probs) if n_inner > 0 else np.array([])
    knots = np.sort(np.concatenate([[lo] * 4, inner, [hi] * 4]))
    coefficients = np.eye(len(knots) - 4)  # one B-spline per column
    clipped = np.clip(x, lo, hi)
    slope = _bspline_values(*_bspline_derivative(knots, coefficients, 3, 1), clipped)
    values = _bspline_values(knots, coefficients, 3, clipped) + (x - clipped)[:, None] * slope
    constraint = _bspline_values(*_bspline_derivative(knots, coefficients, 3, 2), np.array([lo, hi]))  # 2 × n_basis
    _, _, vt = np.linalg.svd(constraint)
    null_space = vt[2:].T
    return values @ null_space


def lowess(x, y, f=2 / 3, iterations=3, delta=None):
    """R's ``lowess`` (Cleveland 1979; a port of R's C ``clowess``), returned in the input order.

    Locally linear tricube-weighted fits at anchor points (points closer than ``delta`` to the last
    anchor are linearly interpolated; ``delta`` defaults to 1% of the range), then ``iterations``
    robustness passes with bisquare weights on 6 × median |residual|.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    order = np.argsort(x, kind="stable")
    xs, ys_in = x[order], y[order]
    n = len(xs)
    if delta is None:
        delta = 0.01 * (xs[-1] - xs[0])
    fitted = _clowess(xs, ys_in, f, iterations, delta)
    out = np.empty(n)
    out[order] = fitted
    return out


def _lowest(x, y, xs, nleft, nright, robustness):
    """One local fit of ``clowess`` at ``xs`` using points nleft..nright (0-based, ties added)."""
    n = len(x)
    span = x[-1] - x[0]
    h = max(xs - x[nleft], x[nright] - xs)
    h9, h1 = 0.999 * h, 0.001 * h
    window = np.arange(nleft, n)
    r = np.abs(x[window] - xs)
    # points beyond h9 on the right end the window (ties on the right are picked up)
    beyond = (r > h9) & (x[window] > xs)
    stop = np.argmax(beyond) if beyond.any() else len(window)
    window, r = window[:stop], r[:stop]
    w = np.where(r <= h1, 1.0, (1 - (r / h) ** 3) ** 3) if h > 0 else np.ones(len(r))
    w = np.where(r <= h9, w, 0.0)
    if robustness is not None:
        w = w * robustness[window]
    total = w.sum()
    if total <= 0:
        return None
    w = w / total
    if h > 0:
        a = (w * x[window]).sum()
        b = xs - a
        c = (w * (x[window] - a) ** 2).sum()
        if np.sqrt(c) > 0.001 * span:
            w = w * (b / c * (x[window] - a) + 1)
    return float((w * y[window]).sum())


def _clowess(x, y, f, nsteps, delta):
    n = len(x)
    if n < 2:
        return y.copy()
    ns = max(2, min(n, int(f * n + 1e-7)))
    fitted = np.zeros(n)
    robustness = None
    for iteration in range(nsteps + 1):
        nleft, nright, last, i = 0, ns - 1, -1, 0
        while True:
            if nright < n - 1:
                if x[i] - x[nleft] > x[nright + 1] - x[i]:
                    nleft += 1
                    nright += 1
                    continue
            value = _lowest(x, y, x[i], nleft, nright, robustness)
            fitted[i] = y[i] if value is None else value
            if last < i - 1:
                denom = x[i] - x[last]
                between = np.arange(last + 1, i)
                alpha = (x[between] - x[last]) / denom
                fitted[between] = alpha * fitted[i] + (1 - alpha) * fitted[last]
            last = i
            cut = x[last] + delta
            i = last + 1
            while i < n:
                if x[i] > cut:
                    break
                if x[i] == x[last]:
                    fitted[i] = fitted[last]
                    last = i
                i += 1
            i = max(last + 1, i - 1)
            if last >= n - 1:
                break
        residuals = y - fitted
        if iteration == nsteps:
            break
        scale = np.abs(residuals).mean()
        cmad = 6 * np.median(np.abs(residuals))
        if cmad < 1e-7 * scale:
            break
        r = np.abs(residuals)
        robustness = np.where(r <= 0.001 * cmad, 1.0, np.where(r <= 0.999 * cmad, (1 - (r / cmad) ** 2) ** 2, 0.0))
    return fitted


def choose_lowess_span(n, small_n=50, min_span=0.3, power=1 / 3):
    """limma ``chooseLowessSpan``: min(min_span + (1 − min_span)·(small_n / n)^power, 1)."""
    return float(min(min_span + (1 - min_span) * (small_n / n) ** power, 1.0))


def approx_rule2(x, y, xout):
    """R ``approxfun(x, y, rule = 2, ties = list("ordered", mean))(xout)``.

    ``x`` must be sorted (non-decreasing); tied x are collapsed to the mean of their y; linear
    interpolation as R's ``approx1`` (y_i + (y_j − y_i)·((v − x_i)/(x_j − x_i)), exact at the knots),
    constant beyond the ends; NaN stays NaN.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xout = np.asarray(xout, dtype=float)
    if np.any(np.diff(x) < 0):
        raise ValueError("x must be sorted for ties = 'ordered'")
    ux, start = np.unique(x, return_index=True)
    if len(ux) < len(x):
        counts = np.diff(np.append(start, len(x)))
        uy = np.add.reduceat(y, start) / counts
    else:
        uy = y
    if len(ux) == 1:
        return np.where(np.isnan(xout), np.nan, uy[0])
    i = np.clip(np.searchsorted(ux, xout, side="right") - 1, 0, len(ux) - 2)
    j = i + 1
    xi, xj, yi, yj = ux[i], ux[j], uy[i], uy[j]
    with np.errstate(invalid="ignore"):
        value = yi + (yj - yi) * ((xout - xi) / (xj - xi))
        value = np.where(xout == xi, yi, value)
        value = np.where(xout == xj, yj, value)
        value = np.where(xout < ux[0], uy[0], value)
        value = np.where(xout > ux[-1], uy[-1], value)
    return np.where(np.isnan(xout), np.nan, value)


def weighted_lowess(x, y, weights=None, delta=None, npts=200, span=0.3, iterations=4):
    """limma ``weightedLowess`` (Aaron Lun's C ``weighted_lowess``): lowess with prior weights.

    Returns ``(fitted, robustness_weights)`` in the input order (``output.style = "loess"``).
    Points are sorted by x; anchor ("seed") points are chosen so that consecutive seeds are more
    than ``delta`` apart (default: spacing for about ``npts`` seeds over the clustered range); each
    seed's window grows outwards, nearest point first (ties to the right), until its prior weight
    reaches ``span`` × the total weight (then widened to tied x); a tricube × prior × robustness
    weighted straight line gives the seed's fit; points between seeds are interpolated linearly.
    ``iterations`` fits in all, with bisquare robustness weights on 6 × the weighted median
    absolute residual between them.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if len(y) != n:
        raise ValueError("x and y should have same length")
    weights = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if len(weights) != n:
        raise ValueError("weights should have same length as x and y")
    if n < 2:
        raise ValueError("need at least two points")
    if int(iterations) <= 0:
        raise ValueError("number of robustness iterations should be positive")
    order = np.argsort(x, kind="stable")
    xs, ys, ws = x[order], y[order], weights[order]
    if delta is None:
        npts = int(npts + 0.5)
        if npts < 1:
            raise ValueError("number of points should be a positive integer")
        if npts >= n:
            delta = 0.0
        else:
            dx = np.sort(np.diff(xs))
            cumrange = np.cumsum(dx)
            clusters = np.arange(npts)
            delta = float(np.min(cumrange[len(dx) - 1 - clusters] / (npts - clusters)))
    fitted_sorted, robustness_sorted = _weighted_lowess_sorted(xs, ys, ws, float(span), int(iterations), float(delta))
    fitted = np.empty(n)
    fitted[order] = fitted_sorted
    robustness = np.empty(n)
    robustness[order] = robustness_sorted
    return fitted, robustness


def _lowess_seeds(x, delta):
    """``find_seeds``: indices 0, then each point more than ``delta`` beyond the previous seed, then n − 1."""
    n = len(x)
    seeds = [0]
    last = 0
    while True:
        candidates = x[last + 1 : n - 1] - x[last] > delta
        if not candidates.any():
            break
        last = last + 1 + int(np.argmax(candidates))
        seeds.append(last)
    seeds.append(n - 1)
    return np.array(seeds)


def _lowess_window(x, w, seed, spanweight):
    """``find_limits`` for one seed: (left, right, max distance) of its window.

    The C loop adds the nearer neighbour (left only if strictly nearer) until the summed prior
    weight reaches ``spanweight``: the same order as a sort by distance with right before left on
    ties; the weight is accumulated in that order, sequentially, as the C code does.
    """
    n = len(x)
    right = np.arange(seed + 1, n)
    left = np.arange(seed - 1, -1, -1)
    index = np.concatenate([right, left])
    distance = np.concatenate([x[right] - x[seed], x[seed] - x[left]])
    side = np.concatenate([np.zeros(len(right)), np.ones(len(left))])
    rank = np.concatenate([np.arange(len(right)), np.arange(len(left))])
    order = np.lexsort((rank, side, distance))
    cumulative = np.cumsum(np.concatenate([[w[seed]], w[index[order]]]))
    reached = np.nonzero(cumulative >= spanweight)[0]
    added = int(reached[0]) if len(reached) else len(order)
    chosen = index[order[:added]]
    lo = min(int(chosen.min()), seed) if added else seed
    hi = max(int(chosen.max()), seed) if added else seed
    max_distance = float(distance[order[:added]].max()) if added else 0.0
    while lo > 0 and x[lo] == x[lo - 1]:
        lo -= 1
    while hi < n - 1 and x[hi] == x[hi + 1]:
        hi += 1
    return lo, hi, max_distance


def _lowess_fit_at(x, y, w, robustness, seed, lo, hi, dist):
    """``lowess_fit``: the tricube × prior × robustness weighted line through the window, at x[seed]."""
    xw, yw = x[lo : hi + 1], y[lo : hi + 1]
    if dist < LOWESS_THRESHOLD:
        work = w[lo : hi + 1] * robustness[lo : hi + 1]
        return (yw * work).sum() / work.sum()
    work = (1 - (np.abs(x[seed] - xw) / dist) ** 3) ** 3 * w[lo : hi + 1] * robustness[lo : hi + 1]
    total = work.sum()
    xmean = (work * xw).sum() / total
    ymean = (work * yw).sum() / total
    centred = xw - xmean
    var = (centred * centred * work).sum()
    covar = (centred * (yw - ymean) * work).sum()
    if var < LOWESS_THRESHOLD:
        return ymean
    slope = covar / var
    intercept = ymean - slope * xmean
    return slope * x[seed] + intercept


def _weighted_lowess_sorted(x, y, w, span, iterations, delta):
    """The C ``weighted_lowess`` on x sorted ascending: fitted values and robustness weights."""
    n = len(x)
    totalweight = float(np.cumsum(w)[-1])
    spanweight = totalweight * span
    subrange = (x[-1] - x[0]) / n
    seeds = _lowess_seeds(x, delta)
    windows = [_lowess_window(x, w, seed, spanweight) for seed in seeds]
    between = np.setdiff1d(np.arange(n), seeds)
    segment = np.searchsorted(seeds, between)  # seeds[segment - 1] < point < seeds[segment]
    last, nxt = seeds[segment - 1], seeds[segment]
    fitted = np.zeros(n)
    robustness = np.ones(n)
    for _ in range(iterations):
        for seed, (lo, hi, dist) in zip(seeds, windows):
            fitted[seed] = _lowess_fit_at(x, y, w, robustness, seed, lo, hi, dist)
        if len(between):
            current = x[nxt] - x[last]
            steep = current > LOWESS_THRESHOLD * subrange
            with np.errstate(invalid="ignore", divide="ignore"):
                slope = (fitted[nxt] - fitted[last]) / current
                intercept = fitted[nxt] - slope * x[nxt]
                fitted[between] = np.where(steep, slope * x[between] + intercept, 0.5 * (fitted[nxt] + fitted[last]))
        residuals = np.abs(y - fitted)
        resid_scale = float(np.cumsum(residuals)[-1]) / n
        order = np.argsort(residuals, kind="stable")
        ranked = residuals[order]
        cumulative = np.cumsum(w[order])
        halfweight = totalweight / 2
        crossing = np.nonzero(cumulative >= halfweight)[0]
        cmad = 0.0
        if len(crossing):
            pt = int(crossing[0])
            if cumulative[pt] == halfweight and pt + 1 < n:
                cmad = 3 * (ranked[pt] + ranked[pt + 1])
            else:
                cmad = 6 * ranked[pt]
        if cmad <= LOWESS_THRESHOLD * resid_scale:
            break
        robustness = np.where(residuals < cmad, (1 - (residuals / cmad) ** 2) ** 2, 0.0)
    return fitted, robustness


def loess_fit(y, x, weights=None, span=0.3, iterations=4, min_weight=1e-5, max_weight=1e5):
    """limma ``loessFit`` (``method = "weightedLowess"``, ``equal.weights.as.null = TRUE``): fitted values.

    Non-finite (x, y) pairs get NaN. Weights: NaN → 0, then clipped to [``min_weight``,
    ``max_weight``]; equal weights (range < 1e-15) or none → R's ``lowess`` with ``iterations − 1``
    robustness steps; fewer than 4 + 1/span weighted points → a weighted straight line; otherwise
    :func:`weighted_lowess` (200 seed points).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    n = len(y)
    if len(x) != n:
        raise ValueError("y and x have different lengths")
    fitted = np.full(n, np.nan)
    obs = np.isfinite(y) & np.isfinite(x)
    xobs, yobs = x[obs], y[obs]
    nobs = len(yobs)
    if nobs == 0:
        return fitted
    if span < 1 / nobs:
        fitted[obs] = yobs
        return fitted
    min_weight = max(min_weight, 0.0)
    wobs = None
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if len(weights) != n:
            raise ValueError("y and weights have different lengths")
        wobs = np.where(np.isnan(weights[obs]), 0.0, weights[obs])
        wobs = np.minimum(np.maximum(wobs, min_weight), max_weight)
        if wobs.max() - wobs.min() < 1e-15:
            wobs = None
    if wobs is None:
        fitted[obs] = lowess(xobs, yobs, f=span, iterations=iterations - 1)
        return fitted
    nwobs = nobs if min_weight > 0 else int((wobs > 0).sum())
    if nwobs < 4 + 1 / span:
        if nwobs == 1:
            fitted[obs] = yobs[wobs > 0][0]
        else:
            root = np.sqrt(wobs)
            line = np.column_stack([np.ones(nobs), xobs])
            coefficients = np.linalg.lstsq(line * root[:, None], yobs * root, rcond=None)[0]
            fitted[obs] = line @ coefficients
        return fitted
    fitted[obs] = weighted_lowess(xobs, yobs, wobs, span=span, iterations=iterations, npts=200)[0]
    return fitted
