"""tearflow.protein_quant against R limpa 1.3.11 ``dpcQuant`` / ``dpcQuantByRow`` (golden fixtures)
and against its own promises.

Two optimizers minimize the same −2 log posterior Q:

- ``method="bfgs"`` follows limpa's own path (R's BFGS from limpa's starting values); it lands where
  limpa lands up to BFGS's sensitivity to rounding: measured max |ΔE| 3e-4, max |ΔSE| 8e-6 (log2).
- ``method="newton"`` (default) goes to the true minimum. limpa's BFGS stops when Q changes by less
  than 1.5e-8 relative, so there the two differ by up to 1.2e-3 (sim) and 2e-2 (hye by row, σ = 0.01),
  always with tearflow's Q at least as low; the test checks exactly that.

Tolerances are absolute on the log2 scale.
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from tearflow import dpc as dpcmod
from tearflow import protein_quant as pq
from tearflow.errors import TearflowError

FIXTURES = REPO / "tests" / "fixtures" / "limpa_quant"
CASES = [("sim", "cn"), ("sim", "slope"), ("hye", "cn"), ("hye", "slope")]
TOL = 1e-3


def read(name, **kw):
    return pd.read_csv(FIXTURES / name, sep="\t", **kw)


def scalar(dataset, quantity):
    s = read("scalars.tsv")
    return float(s[(s.dataset == dataset) & (s.quantity == quantity)].value.iloc[0])


def load_input(dataset):
    d = read(f"{dataset}_input.tsv")
    return d.iloc[:, 2:].to_numpy(float), d["protein"].to_numpy()


def cn_curve(dataset):
    return (scalar(dataset, "cn_beta0"), scalar(dataset, "cn_beta1"))


def limpa_quant(tag):
    E = read(f"{tag}_E.tsv", index_col=0)
    return {
        "E": E,
        "SE": read(f"{tag}_SE.tsv", index_col=0),
        "nobs": read(f"{tag}_nobs.tsv", index_col=0),
        "proteins": read(f"{tag}_proteins.tsv", index_col=0),
    }


_CACHE = {}


def quantify(dataset, which, method):
    key = (dataset, which, method)
    if key not in _CACHE:
        y, prot = load_input(dataset)
        curve = cn_curve(dataset) if which == "cn" else None
        _CACHE[key] = pq.dpc_quant(y, prot, dpc=curve, dpc_slope=0.8, method=method)
    return _CACHE[key]


def aligned(q, limpa):
    index = pd.Index(q.proteins.astype(str))
    rows = index.get_indexer(limpa["E"].index.astype(str))
    assert (rows >= 0).all() and len(rows) == len(q.proteins), "protein sets differ"
    return rows


# --------------------------------------------------------------------------------------------------
# Against limpa
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset,which", CASES)
def test_dpc_quant_hyperparameters_and_counts_match_limpa(dataset, which):
    q = quantify(dataset, which, "newton")
    limpa = limpa_quant(f"{dataset}_quant_{which}")
    rows = aligned(q, limpa)
    assert q.dpc[0] == pytest.approx(scalar(dataset, f"quant_{which}_dpc_beta0"), rel=1e-10)
    assert q.dpc[1] == pytest.approx(scalar(dataset, f"quant_{which}_dpc_beta1"), rel=1e-12)
    assert q.prior_mean == pytest.approx(scalar(dataset, f"quant_{which}_prior_mean"), rel=1e-12)
    assert q.prior_sd == pytest.approx(scalar(dataset, f"quant_{which}_prior_sd"), rel=1e-12)
    assert q.prior_logfc == pytest.approx(scalar(dataset, f"quant_{which}_prior_logFC"), rel=1e-12)
    np.testing.assert_allclose(q.sigma[rows], limpa["proteins"].sigma, rtol=1e-9)
    np.testing.assert_array_equal(q.n_observed[rows], limpa["nobs"].to_numpy())
    np.testing.assert_array_equal(q.n_precursors[rows], limpa["proteins"].n_precursors)
    np.testing.assert_allclose(q.proportion_observed[rows], limpa["proteins"].prop_obs, rtol=1e-12)


@pytest.mark.parametrize("dataset,which", CASES)
def test_dpc_quant_bfgs_path_matches_limpa(dataset, which):
    q = quantify(dataset, which, "bfgs")
    limpa = limpa_quant(f"{dataset}_quant_{which}")
    rows = aligned(q, limpa)
    np.testing.assert_allclose(q.expression[rows], limpa["E"].to_numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(q.standard_error[rows], limpa["SE"].to_numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(q.objective[rows], limpa["proteins"].objective, atol=1e-4, rtol=0)


def assert_matches_or_lower(q, rows, limpa, share_within):
    """Per protein: estimates and SEs within TOL of limpa's, or a lower Q than limpa's; never a
    higher Q (beyond rounding); and most proteins within TOL."""
    d_e = np.abs(q.expression[rows] - limpa["E"].to_numpy()).max(axis=1)
    d_se = np.abs(q.standard_error[rows] - limpa["SE"].to_numpy()).max(axis=1)
    ours, theirs = q.objective[rows], limpa["proteins"].objective.to_numpy()
    assert (ours <= theirs + 1e-9 * (1 + np.abs(theirs))).all(), "tearflow's objective above limpa's"
    close = (d_e <= TOL) & (d_se <= TOL)
    lower = ours < theirs - 1e-9 * (1 + np.abs(theirs))
    assert (close | lower).all(), f"differs from limpa without a lower objective: {np.flatnonzero(~(close | lower))}"
    assert close.mean() >= share_within
    return d_e, d_se


@pytest.mark.parametrize("dataset,which", CASES)
def test_dpc_quant_newton_matches_limpa_or_beats_its_objective(dataset, which):
    q = quantify(dataset, which, "newton")
    limpa = limpa_quant(f"{dataset}_quant_{which}")
    assert q.converged.all()
    d_e, _ = assert_matches_or_lower(q, aligned(q, limpa), limpa, share_within=0.98)
    assert np.median(d_e) < 1e-4


@pytest.mark.parametrize("dataset", ["sim", "hye"])
@pytest.mark.parametrize("method", ["newton", "bfgs"])
def test_dpc_quant_by_row_matches_limpa(dataset, method):
    y, _ = load_input(dataset)
    y = y[:150] if dataset == "sim" else y
    q = pq.dpc_quant_by_row(y, dpc=cn_curve(dataset), method=method)
    limpa = limpa_quant(f"{dataset}_byrow")
    assert q.prior_mean == pytest.approx(scalar(dataset, "byrow_prior_mean"), rel=1e-12)
    assert q.prior_sd == pytest.approx(scalar(dataset, "byrow_prior_sd"), rel=1e-12)
    assert q.prior_logfc == pytest.approx(scalar(dataset, "byrow_prior_logFC"), rel=1e-12)
    rows = np.arange(len(y))
    np.testing.assert_array_equal(q.n_observed, limpa["nobs"].to_numpy())
    if method == "bfgs":
        np.testing.assert_allclose(q.expression, limpa["E"].to_numpy(), atol=TOL, rtol=0)
        np.testing.assert_allclose(q.standard_error, limpa["SE"].to_numpy(), atol=TOL, rtol=0)
    else:
        assert_matches_or_lower(q, rows, limpa, share_within=0.99)
    # observed values are kept (σ = 0.01)
    obs = ~np.isnan(y)
    np.testing.assert_allclose(q.expression[obs], y[obs], atol=1e-3)


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------
def simulate(n_proteins, n_samples, seed, missing=True):
    rng = np.random.default_rng(seed)
    k = np.minimum(rng.geometric(0.35, n_proteins), 6)
    prot = np.repeat(np.arange(n_proteins), k)
    level = rng.uniform(4, 10, n_proteins)[prot] + rng.normal(0, 0.7, len(prot))
    y = level[:, None] + rng.normal(0, 0.25, (len(prot), n_samples))
    if missing:
        detected = rng.uniform(size=y.shape) < 1 / (1 + np.exp(-(-3.5 + 0.7 * y)))
        y = np.where(detected, y, np.nan)
    return y, np.array([f"p{i:03d}" for i in prot])


def ridge_posterior_mode(y, sigma, prior_mean, prior_sd, prior_logfc):
    """limpa ``peptides2ProteinWithoutNAs``: with nothing missing Q is quadratic and its minimum is a
    ridge regression of the additive model with the normal prior on the sample effects."""
    k, n = y.shape
    X = np.zeros((k * n, n + k - 1))
    for j in range(n):
        for r in range(k):
            X[j * k + r, j] = 1
            if k > 1:
                if r < k - 1:
                    X[j * k + r, n + r] = 1
                else:
                    X[j * k + r, n:] = -1
    s1 = prior_sd**2 - prior_logfc**2 / n
    cov = np.full((n, n), s1) + np.eye(n) * prior_logfc**2
    prec = np.linalg.inv(cov)
    xtx = X.T @ X / sigma**2
    xtx[:n, :n] += prec
    xty = X.T @ y.ravel(order="F") / sigma**2
    xty[:n] += prec.sum(axis=1) * prior_mean
    return np.linalg.solve(xtx, xty)[:n]


def test_all_observed_protein_is_the_ridge_solution_near_its_precursor_means():
    y, prot = simulate(60, 10, seed=3, missing=False)
    q = pq.dpc_quant(y, prot, dpc=(-3.5, 0.7))
    assert (q.n_observed == q.n_precursors[:, None]).all()
    for i, p in enumerate(q.proteins):
        rows = prot == p
        exact = ridge_posterior_mode(y[rows], q.sigma[i], q.prior_mean, q.prior_sd, q.prior_logfc)
        np.testing.assert_allclose(q.expression[i], exact, atol=1e-8, rtol=0)
        # the additive model's least-squares sample effects are the precursor column means; the
        # prior (sd of log-FCs >= 1) shrinks them towards the protein mean only a little
        np.testing.assert_allclose(q.expression[i], y[rows].mean(axis=0), atol=0.05)


def test_standard_errors_positive_and_largest_where_nothing_was_observed():
    y, prot = simulate(120, 12, seed=5)
    q = pq.dpc_quant(y, prot, dpc=(-3.5, 0.7))
    assert np.isfinite(q.standard_error).all() and (q.standard_error > 0).all()
    assert np.isfinite(q.expression).all()
    none = q.n_observed == 0
    some = q.n_observed > 0
    rows = np.flatnonzero(none.any(axis=1) & some.any(axis=1))
    assert len(rows) > 5
    for i in rows:
        assert q.standard_error[i, none[i]].min() > q.standard_error[i, some[i]].max()


def test_sample_with_every_precursor_missing_is_estimated_low():
    y, prot = simulate(120, 12, seed=5)
    q = pq.dpc_quant(y, prot, dpc=(-3.5, 0.7))
    for i in np.flatnonzero(((q.n_observed == 0).any(axis=1)) & (q.n_observed > 0).any(axis=1)):
        none = q.n_observed[i] == 0
        assert q.expression[i, none].mean() < q.expression[i, ~none].mean()


def test_seeded_reproducibility():
    a = pq.dpc_quant(*simulate(80, 8, seed=11), dpc=(-3.5, 0.7))
    b = pq.dpc_quant(*simulate(80, 8, seed=11), dpc=(-3.5, 0.7))
    np.testing.assert_array_equal(a.expression, b.expression)
    np.testing.assert_array_equal(a.standard_error, b.standard_error)


def test_chunking_does_not_change_the_result(monkeypatch):
    y, prot = simulate(150, 8, seed=13)
    whole = pq.dpc_quant(y, prot, dpc=(-3.5, 0.7))
    monkeypatch.setattr(pq, "CHUNK_CELLS", 50)
    chunked = pq.dpc_quant(y, prot, dpc=(-3.5, 0.7))
    np.testing.assert_allclose(chunked.expression, whole.expression, atol=1e-9, rtol=0)
    np.testing.assert_allclose(chunked.standard_error, whole.standard_error, atol=1e-9, rtol=0)


def test_row_order_does_not_change_the_result():
    y, prot = simulate(100, 8, seed=17)
    a = pq.dpc_quant(y, prot, dpc=(-3.5, 0.7))
    perm = np.random.default_rng(0).permutation(len(prot))
    b = pq.dpc_quant(y[perm], prot[perm], dpc=(-3.5, 0.7))
    assert np.array_equal(a.proteins, b.proteins)
    # the order of a protein's precursors changes limpa's starting values only
    np.testing.assert_allclose(b.expression, a.expression, atol=1e-7, rtol=0)


def test_newton_reaches_a_lower_objective_than_bfgs():
    y, prot = simulate(100, 8, seed=19)
    newton = pq.dpc_quant(y, prot, dpc=(-3.5, 0.7), method="newton")
    bfgs = pq.dpc_quant(y, prot, dpc=(-3.5, 0.7), method="bfgs")
    assert (newton.objective <= bfgs.objective + 1e-9 * np.abs(bfgs.objective)).all()
    np.testing.assert_allclose(newton.expression, bfgs.expression, atol=5e-3, rtol=0)


def test_newton_polish_leaves_the_optimum_in_place():
    y, prot = simulate(60, 8, seed=23)
    h = pq.dpc_quant_hyperparams(y, prot, dpc_slope=0.7)
    assert np.array_equal(h.proteins, np.unique(prot))
    kw = dict(sigma=h.sigma, dpc=(-3.5, 0.7), prior_mean=h.prior_mean, prior_sd=max(h.prior_sd, 1), prior_logfc=1.0)
    plain = pq.peptides_to_proteins(y, prot, **kw)
    polished = pq.peptides_to_proteins(y, prot, newton_polish=True, **kw)
    np.testing.assert_allclose(polished.expression, plain.expression, atol=1e-8, rtol=0)
    bfgs = pq.peptides_to_proteins(y, prot, method="bfgs", **kw)
    bfgs_polished = pq.peptides_to_proteins(y, prot, method="bfgs", newton_polish=True, **kw)
    # one exact Newton step from BFGS's stopping point lands on the optimum
    assert np.abs(bfgs_polished.expression - plain.expression).max() < np.abs(bfgs.expression - plain.expression).max()


def test_single_precursor_proteins_are_quantified_by_row():
    y, _ = load_input("hye")
    ids = np.array([f"row{i:05d}" for i in range(len(y))])
    a = pq.dpc_quant(y, ids, dpc=cn_curve("hye"))
    b = pq.dpc_quant_by_row(y, dpc=cn_curve("hye"))
    np.testing.assert_array_equal(a.expression, b.expression)
    assert list(a.proteins[:2]) == ["row00000", "row00001"]


def test_protein_residual_variances_of_an_exact_additive_model_are_zero():
    rng = np.random.default_rng(2)
    y = rng.normal(size=(5, 1)) + rng.normal(size=(1, 7))
    proteins, s2, df = pq.protein_residual_variances(y, np.array(["b", "b", "a", "a", "a"]))
    assert list(proteins) == ["a", "b"]
    np.testing.assert_allclose(s2, 0, atol=1e-25)
    np.testing.assert_array_equal(df, [12, 6])
    noisy = y + np.random.default_rng(3).normal(0, 0.5, y.shape)
    assert (pq.protein_residual_variances(noisy, np.array(["b", "b", "a", "a", "a"]))[1] > 0.01).all()


def test_user_errors():
    y, prot = simulate(10, 6, seed=1)
    with pytest.raises(TearflowError, match="one per row"):
        pq.dpc_quant(y, prot[:-1], dpc=(-3.5, 0.7))
    with pytest.raises(TearflowError, match="every value"):
        pq.dpc_quant(np.full_like(y, np.nan), prot, dpc=(-3.5, 0.7))
    with pytest.raises(TearflowError, match="too few samples"):
        pq.dpc_quant(y[:, :1], prot, dpc=(-3.5, 0.7))
    with pytest.raises(TearflowError, match="method must be"):
        pq.dpc_quant(y, prot, dpc=(-3.5, 0.7), method="lbfgs")
    with pytest.raises(TearflowError, match="NA"):
        pq.dpc_quant(y, np.array([None] * len(prot), dtype=object), dpc=(-3.5, 0.7))


def test_missing_value_term_survives_underflow():
    """Far above the detection range G = P(missing) underflows; log G and its derivatives come from
    the log-space form, equal to the direct form where both work."""
    chunk = pq._ProteinChunk(np.full((1, 1, 4), np.nan), np.array([[0.5]]), (-3.5, 0.7), 6.0, 3.0, 1.0)
    nodes, weights = pq._NODES, pq._WEIGHTS
    mu = np.array([5.0, 400.0, 1200.0, 2000.0])
    factor = np.broadcast_to(chunk.node_factor[0, 0], (4, 16))
    log_g, d1, d2 = chunk._missing_terms(mu, factor, derivs=True)
    eta = -3.5 + 0.7 * (mu[:, None] + 0.5 * nodes)
    reference = np.logaddexp.reduce(np.log(weights) - np.logaddexp(0, eta), axis=1)
    np.testing.assert_allclose(log_g, reference, rtol=1e-12)
    assert np.isfinite(d1).all() and np.isfinite(d2).all()
    # far out the term is linear in μ: −2 log G ≈ 2 β1 μ, so ∂/∂μ → 2 β1 and ∂²/∂μ² → 0
    np.testing.assert_allclose(d1[2:], 2 * 0.7, rtol=1e-9)
    np.testing.assert_allclose(d2[2:], 0, atol=1e-9)


def test_dpc_quant_accepts_a_fitted_curve():
    y, prot = load_input("hye")
    curve = dpcmod.detection_curve(y, model="cn")
    a = pq.dpc_quant(y, prot, dpc=curve)
    b = pq.dpc_quant(y, prot, dpc=curve.coefficients)
    np.testing.assert_array_equal(a.expression, b.expression)
    assert a.dpc == curve.coefficients


def test_benchmark_runs_on_the_small_size_without_r():
    """benchmarks/dpc_quant_timing.py: seeded generator, and the table on the small size."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import dpc_quant_timing

    y1, ids1 = dpc_quant_timing.simulate(6, 300, seed=1)
    y2, ids2 = dpc_quant_timing.simulate(6, 300, seed=1)
    assert y1.shape == (300, 6) and np.array_equal(y1, y2, equal_nan=True) and np.array_equal(ids1, ids2)
    assert 0.1 < np.isnan(y1).mean() < 0.6
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "dpc_quant_timing.py"), "--sizes", "small", "--no-r"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "| small | 12 | 3000 |" in out.stdout
