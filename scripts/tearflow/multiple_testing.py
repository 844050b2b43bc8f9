"""Multiple-testing adjustment, the same for every table tearflow writes.

Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical and powerful
approach to multiple testing. *J R Stat Soc B* 57:289–300.
"""

import numpy as np


def bh_adjust(pvalues):
    """Benjamini–Hochberg (1995) adjusted p-values (the FDR q-values of ``p.adjust(p, "BH")``).

    For the m non-missing p-values sorted ascending, p_(1) ≤ … ≤ p_(m),
    q_(i) = min_{j ≥ i} min(1, m · p_(j) / j). NaN stays NaN and is not counted in m.
    Accepts any array-like (a pandas Series keeps working as an array); returns a float ndarray of
    the same shape.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    flat = p.ravel()
    ok = ~np.isnan(flat)
    m = int(ok.sum())
    if m == 0:
        return out
    values = flat[ok]
    order = np.argsort(values, kind="mergesort")
    ranked = values[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    flat_out = out.ravel()
    flat_out[ok] = result
    return flat_out.reshape(p.shape)
