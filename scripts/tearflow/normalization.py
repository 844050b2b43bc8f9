"""Normalization of the protein matrix: log2 transform, sample exclusion and per-sample offsets.

Every method except ``quantile`` removes one additive offset per sample from the log2 matrix; they
differ in *which proteins* the offset is estimated from:

``median``
    the sample's median log2 intensity (classic median centring). Assumes most proteins do not change,
    changes are balanced up/down, and missingness is similar across samples.
``trimmed`` (what ``auto``, the default, uses for measured values and raw intensities)
    an iterative rank-invariant set: offsets are median log-ratios over the proteins whose corrected
    log-ratios vary least across samples; the most-changed proteins are dropped and the estimate is
    repeated until the set is stable. Holds when up to about half the proteins move one way.
``mode``
    the mode of each sample's log-ratios (Gaussian KDE, Silverman bandwidth). Holds when the changed
    proteins move far (≫ noise); a nearby cloud of changed proteins pulls it.
``reference_set``
    the median log-ratio over proteins the user names as unchanged (housekeeping proteins, spike-ins).
``quantile``
    forces every sample to the same distribution (not an offset; only when the whole distribution
    is known not to change).
``none``
    log2 transform only.
``auto`` (default)
    ``none`` for DPC protein estimates (:mod:`tearflow.protein_quant`) of one table whose quantity
    its search engine already normalised across its runs (DIA-NN ``Precursor.Normalised``,
    ``PG.MaxLFQ`` and the pg_matrix, MaxQuant ``LFQ intensity``, FragPipe ``MaxLFQ Intensity``,
    Spectronaut's quantities: :data:`tearflow.readers.base.SEARCH_ENGINE_NORMALISED`) — limpa's
    model as its authors run it —, ``trimmed`` otherwise: raw intensities, several tables (whose
    runs no engine normalised against each other) and protein values tested as measured, where the
    offsets a search engine leaves bias the paired differences of the observed proteins
    (:func:`resolved_method`; the evidence is in config/README.md).

Log-ratios are taken against ``normalization.reference``: ``patient`` (default; two levels — each
sample against its own patient's mean profile, then the patients' profiles against the per-protein
median, see :func:`offsets_with`), ``median`` (per-protein median across samples) or a sample name.
Offsets are centred to mean zero across samples so the overall intensity level is kept.
"""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from tearflow.columns import GENE, PROTEIN, SAMPLE
from tearflow.errors import TearflowError

log = logging.getLogger(__name__)

OFFSET_METHODS = ("median", "mode", "trimmed", "reference_set")
METHODS = OFFSET_METHODS + ("quantile", "none")
AUTO = "auto"
#: what ``auto`` stands for where the input needs normalizing
AUTO_OFFSETS = "trimmed"
LOG2_MAX = 64.0  # no log2 intensity reaches 2**64; raw intensities routinely exceed 64


# --------------------------------------------------------------------------------------- log2 input


def looks_log2(values):
    """True when a matrix looks log-transformed already.

    Rule: any negative value means log scale (intensities cannot be negative); otherwise the data
    are log2 when the largest value is at most 64 and not every value is an integer (raw intensities
    run to 1e5-1e11; spectral counts are small but whole numbers, so they stay "raw").
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return False
    if (finite < 0).any():
        return True
    return bool(finite.max() <= LOG2_MAX and not np.all(finite == np.round(finite)))


def log2_matrix(intensities, input_is_log2="auto"):
    """The log2 matrix and whether the input was log2 already.

    Raw intensities ≤ 0 are missing (a zero is "not quantified", not a measured zero). Log-scale
    input keeps every finite value.
    """
    if all(pd.api.types.is_numeric_dtype(dtype) for dtype in intensities.dtypes):
        values = intensities.astype(float)
    else:
        values = intensities.apply(pd.to_numeric, errors="coerce").astype(float)
    already = looks_log2(values.to_numpy()) if input_is_log2 == "auto" else bool(input_is_log2)
    if already:
        result = values.where(np.isfinite(values))
    else:
        if (values.to_numpy()[np.isfinite(values.to_numpy())] < 0).any():
            raise TearflowError(
                "normalization.input_is_log2 is false but the abundance table has negative values; "
                "expected raw intensities (≥ 0) — set normalization.input_is_log2: true for log data"
            )
        positive = values.where(values > 0)
        result = np.log2(positive)
    return result, bool(already)


def kept_samples(samples, exclude):
    """``samples`` without the ones listed in ``normalization.exclude_samples`` (order kept)."""
    exclude = [str(name) for name in (exclude or [])]
    unknown = [name for name in exclude if name not in samples]
    if unknown:
        raise TearflowError(
            f"config key normalization.exclude_samples: unknown sample(s) {', '.join(unknown)}; "
            f"expected names from the sample sheet: {', '.join(samples)}"
        )
    kept = [name for name in samples if name not in exclude]
    if len(kept) < 2:
        raise TearflowError(
            "config key normalization.exclude_samples leaves fewer than 2 samples; "
            f"exclude fewer of {', '.join(samples)}"
        )
    return kept


# --------------------------------------------------------------------------------------- references


def reference_profile(log2, reference="median"):
    """The per-protein reference of the one-level log-ratios.

    ``median``: each protein's median across samples (NaN-aware). Otherwise the name of a sample,
    whose values are the reference (proteins missing there fall back to the median profile).
    """
    median = log2.median(axis=1, skipna=True)
    if reference in (None, "median", "patient"):
        return median
    if reference not in log2.columns:
        raise TearflowError(
            f"config key normalization.reference: found {reference!r}; expected 'patient', "
            f"'median' or one of the kept samples: {', '.join(log2.columns)}"
        )
    return log2[reference].fillna(median)


def log_ratios(log2, reference):
    """Each sample's log2 ratio to the reference profile (proteins × samples)."""
    return log2.sub(reference, axis=0)


def within_patient_ratios(log2, patients):
    """Each sample's log-ratio to its own patient's mean profile (proteins × samples).

    Only proteins quantified in every sample of the patient count (others are NaN); samples of a
    patient with one sample are all NaN. Between-patient biology cancels, so what is left is the
    within-patient change plus technical noise — the quantity a paired analysis tests. Vectorized:
    the patients with the same number of samples are handled as one proteins × patients × k block.
    """
    values = log2.to_numpy(dtype=float)
    ratios = np.full(values.shape, np.nan)
    codes, _ = pd.factorize(patients.reindex(log2.columns).to_numpy(), sort=False)
    groups = {}
    for position, code in enumerate(codes):
        if code >= 0:
            groups.setdefault(code, []).append(position)
    by_size = {}
    for members in groups.values():
        if len(members) >= 2:
            by_size.setdefault(len(members), []).append(members)
    for size, members in by_size.items():
        columns = np.asarray(members)  # patients × size, sample positions in column order
        block = values[:, columns]  # proteins × patients × size
        total = block[:, :, 0].copy()
        for j in range(1, size):  # summed in column order, as pandas' row mean does
            total += block[:, :, j]
        complete = ~np.isnan(block).any(axis=2)
        centred = block - (total / size)[:, :, None]
        ratios[:, columns] = np.where(complete[:, :, None], centred, np.nan)
    return pd.DataFrame(ratios, index=log2.index, columns=log2.columns)


def silverman_bandwidth(values):
    """Silverman's rule of thumb, robust version: 0.9 · min(sd, IQR/1.34) · n^(-1/5).

    Silverman (1986), Density Estimation, eq. 3.31.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return np.nan
    sd = values.std(ddof=1)
    q75, q25 = np.percentile(values, [75, 25])
    spread = min(sd, (q75 - q25) / 1.34) if q75 > q25 else sd
    if not spread > 0:
        return np.nan
    return 0.9 * spread * values.size ** (-0.2)


def kde_mode(values, bandwidth="silverman", grid_points=2048):
    """The mode of a Gaussian kernel density estimate of ``values``.

    ``bandwidth`` is ``"silverman"`` (:func:`silverman_bandwidth`) or a positive number in log2
    units. The density is evaluated on a grid over the data range (:func:`grid_density_argmax`),
    and the grid maximum is refined by mean-shift iterations (Comaniciu & Meer 2002), which converge
    to the exact local maximum.
    """
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.nan
    if values.size < 3:
        return float(np.median(values))
    width = silverman_bandwidth(values) if bandwidth in (None, "silverman") else float(bandwidth)
    if not width > 0:
        return float(np.median(values))
    grid = np.linspace(values.min(), values.max(), grid_points)
    mode = grid[grid_density_argmax(values, grid, width)]
    for _ in range(100):
        weights = np.exp(-0.5 * ((values - mode) / width) ** 2)
        shifted = float(np.sum(weights * values) / np.sum(weights))
        if abs(shifted - mode) < 1e-7:
            mode = shifted
            break
        mode = shifted
    return float(mode)


def kde_density(values, grid, width):
    """Gaussian kernel density of ``values`` on ``grid`` with bandwidth ``width`` (chunked)."""
    values = np.asarray(values, dtype=float)
    density = np.zeros(len(grid))
    for start in range(0, len(grid), 256):
        block = grid[start : start + 256, None]
        density[start : start + 256] = np.exp(-0.5 * ((block - values[None, :]) / width) ** 2).sum(1)
    return density / (len(values) * width * np.sqrt(2 * np.pi))


def grid_density_argmax(values, grid, width, max_candidates=256):
    """Index of the largest :func:`kde_density` value on the evenly spaced ``grid``, computed fast.

    A linearly binned density (counts interpolated onto the grid, convolved with the kernel; Wand
    1994) is within ``δ²/(8 h³ √(2π))`` of the exact density everywhere (δ grid step, h bandwidth:
    the linear-interpolation error of a kernel whose second derivative is at most φ(0)/h³), plus
    the kernel truncated at 10 h. Only grid points within twice that bound of the binned maximum
    can hold the exact maximum; the exact density is evaluated there and its first argmax returned
    — the same index as ``argmax(kde_density(values, grid, width))``. Falls back to the full exact
    density when more than ``max_candidates`` points qualify.
    """
    n = len(grid)
    step = (grid[-1] - grid[0]) / (n - 1) if n > 1 else 0.0
    if not step > 0:
        return int(np.argmax(kde_density(values, grid, width)))
    position = np.clip((values - grid[0]) / step, 0, n - 1)
    low = np.minimum(np.floor(position).astype(int), n - 2)
    upper = position - low
    counts = np.bincount(low, 1 - upper, minlength=n) + np.bincount(low + 1, upper, minlength=n)
    reach = int(min(n - 1, np.ceil(10 * width / step)))
    offsets = np.arange(-reach, reach + 1) * step
    kernel = np.exp(-0.5 * (offsets / width) ** 2)
    norm = len(values) * width * np.sqrt(2 * np.pi)
    binned = np.convolve(counts, kernel)[reach : reach + n] / norm
    bound = step**2 / (8 * width**3 * np.sqrt(2 * np.pi)) + np.exp(-50.0) / (width * np.sqrt(2 * np.pi))
    candidates = np.flatnonzero(binned >= binned.max() - 2 * bound - 1e-12 * binned.max())
    if len(candidates) > max_candidates:
        return int(np.argmax(kde_density(values, grid, width)))
    return int(candidates[np.argmax(kde_density(values, grid[candidates], width))])


def row_nanmedians(values):
    """Median of each row's non-NaN entries (NaN for an empty row): ``np.nanmedian(values, axis=1)``
    computed from one sort of the matrix instead of a loop over rows."""
    values = np.asarray(values, dtype=float)
    ordered = np.sort(values, axis=1)  # NaN sorts last
    count = np.count_nonzero(~np.isnan(values), axis=1)
    rows = np.arange(values.shape[0])
    low = ordered[rows, np.maximum((count - 1) // 2, 0)]
    high = ordered[rows, np.minimum(count // 2, values.shape[1] - 1)]
    median = (low + high) / 2
    median[count == 0] = np.nan
    return median


# --------------------------------------------------------------------------------------- estimators
# An estimator takes a log-ratio matrix (proteins × samples) and returns one "no change" point per
# sample; the offsets below apply it to the reference the config chooses.


def mode_estimate(ratios, bandwidth="silverman"):
    """Per sample: the KDE mode of its log-ratios (:func:`kde_mode`)."""
    return ratios.apply(lambda column: kde_mode(column.to_numpy(), bandwidth))


def trimmed_estimate(ratios, keep_fraction=0.5, max_iterations=20):
    """Per sample: the median log-ratio over an iteratively trimmed, rank-invariant protein set.

    Start from every sample's median log-ratio. Then repeat: correct the log-ratios by the current
    estimates, remove each protein's own median, score every protein by the root-mean-square of what
    is left across samples (a protein that changes between samples scores high), keep the
    ``keep_fraction`` of proteins with the lowest score, and re-estimate each sample as its median
    log-ratio over the kept proteins — until the kept set stops changing or ``max_iterations`` is
    reached. In the spirit of iterative rank-invariant normalization (Pelz et al. 2008, BMC
    Bioinformatics 9:520). The kept proteins are in ``result.attrs["proteins"]``.
    """
    if not 0 < float(keep_fraction) <= 1:
        raise TearflowError(
            f"config key normalization.trimmed_keep_fraction: found {keep_fraction!r}; expected a number in (0, 1]"
        )
    values = ratios.to_numpy(dtype=float)
    usable_rows = np.count_nonzero(~np.isnan(values), axis=1) >= 2
    estimate = ratios.median(axis=0, skipna=True)
    if not usable_rows.any():
        return estimate
    usable = values[usable_rows]
    n_keep = min(len(usable), max(int(round(float(keep_fraction) * len(usable))), 10))
    current = estimate.to_numpy(dtype=float)
    kept = np.arange(len(usable))
    for _ in range(int(max_iterations)):
        corrected = usable - current
        corrected -= row_nanmedians(corrected)[:, None]
        squares = corrected**2
        present = ~np.isnan(squares)
        score = np.sqrt(np.where(present, squares, 0.0).sum(axis=1) / present.sum(axis=1))
        new_kept = np.sort(np.argsort(score, kind="stable")[:n_keep])  # = nsmallest(keep="first")
        medians = row_nanmedians(usable[new_kept].T)
        current = np.where(np.isnan(medians), current, medians)
        if np.array_equal(new_kept, kept):
            break
        kept = new_kept
    estimate = pd.Series(current, index=ratios.columns)
    estimate.attrs["proteins"] = list(ratios.index[usable_rows][kept])
    return estimate


def reference_set_estimate(ratios, rows):
    """Per sample: the median log-ratio over the user's reference proteins (``rows``)."""
    return ratios.loc[rows].median(axis=0, skipna=True)


def _centred(offsets):
    return offsets - offsets.mean()


def offsets_with(estimator, log2, reference="patient", patients=None):
    """Per-sample offsets (centred) from ``estimator`` applied to the configured reference.

    ``reference`` ``median`` or a sample name: one level, the estimator on the log-ratios to that
    profile. ``patient`` (needs ``patients``, a Series sample → patient): two levels. First each
    sample against its own patient's mean profile (:func:`within_patient_ratios`), which removes the
    between-patient biology so the unchanged proteins form a narrow peak; then the patients' mean
    profiles against the per-protein median across patients (the level shared by a patient's
    samples). The offset is the sum. Samples of single-sample patients get the second level only, so
    without patient information ``patient`` equals ``median``.
    """
    if reference != "patient":
        estimate = estimator(log_ratios(log2, reference_profile(log2, reference)))
        return _centred(estimate.reindex(log2.columns).fillna(0.0))
    if patients is None:
        patients = pd.Series(log2.columns, index=log2.columns)
    patients = patients.reindex(log2.columns).fillna(pd.Series(log2.columns, index=log2.columns))
    within = pd.Series(0.0, index=log2.columns)
    ratios = within_patient_ratios(log2, patients)
    paired = ratios.columns[ratios.notna().any(axis=0)]
    if len(paired):
        estimate = estimator(ratios[paired]).fillna(0.0)
        # keep the patient's level: the within part sums to zero over a patient's samples
        estimate = estimate - estimate.groupby(patients[paired]).transform("mean")
        within[paired] = estimate
    corrected = log2.sub(within, axis=1)
    profiles = corrected.T.groupby(patients.to_numpy(), sort=False).mean().T
    between = estimator(log_ratios(profiles, profiles.median(axis=1, skipna=True))).fillna(0.0)
    return _centred(within + between.reindex(patients.to_numpy()).to_numpy())


def median_offsets(log2):
    """Each sample's median log2 intensity, centred to mean zero (classic median centring)."""
    return _centred(log2.median(axis=0, skipna=True))


def mode_offsets(log2, reference="patient", bandwidth="silverman", patients=None):
    """Offsets at the KDE mode of each sample's log-ratios (:func:`mode_estimate`)."""
    return offsets_with(lambda r: mode_estimate(r, bandwidth), log2, reference, patients)


def trimmed_offsets(log2, reference="patient", keep_fraction=0.5, max_iterations=20, patients=None):
    """Offsets from the iteratively trimmed protein set (:func:`trimmed_estimate`)."""

    def estimator(ratios):
        return trimmed_estimate(ratios, keep_fraction, max_iterations)

    return offsets_with(estimator, log2, reference, patients)


def read_reference_proteins(value, base=None):
    """The ``normalization.reference_proteins`` list: a YAML list, or a path to a one-per-line file.

    Lines starting with ``#`` and blank lines are skipped; the first tab-separated field is used.
    """
    if value is None:
        return []
    if isinstance(value, str):
        path = Path(value)
        if base is not None and not path.is_absolute() and not path.exists():
            path = Path(base) / path
        if not path.is_file():
            raise TearflowError(
                f"config key normalization.reference_proteins: file {value!r} not found; expected a "
                "list of protein accessions/gene symbols or the path of a one-per-line file"
            )
        names = []
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                names.append(line.split("\t")[0].strip())
        return names
    return [str(name).strip() for name in value]


def reference_rows(annotation, names):
    """Row labels of ``annotation`` whose protein or gene is one of ``names`` (case-insensitive).

    A protein group ``P1;P2`` matches when any of its accessions matches; so does a gene ``A;B``.
    """
    wanted = {name.upper() for name in names}

    def matches(cell):
        if pd.isna(cell):
            return False
        return any(part.strip().upper() in wanted for part in str(cell).split(";"))

    hit = annotation[PROTEIN].map(matches) | annotation[GENE].map(matches)
    return annotation.index[hit.to_numpy(dtype=bool)]


def reference_set_offsets(log2, annotation, names, reference="patient", patients=None, min_proteins=3):
    """Offsets at each sample's median log-ratio over the user's reference proteins."""
    if not names:
        raise TearflowError(
            "config key normalization.reference_proteins is empty; method reference_set needs a "
            "list of unchanged proteins/genes (or the path of a file listing them)"
        )
    rows = reference_rows(annotation, names)
    if len(rows) < min_proteins:
        raise TearflowError(
            f"config key normalization.reference_proteins: {len(rows)} of {len(names)} listed "
            f"proteins/genes found in the abundance table; expected at least {min_proteins} "
            f"(first listed: {', '.join(names[:5])})"
        )
    if len(names) > len(rows):
        log.warning("reference_set: %d listed names not found in the table", len(names) - len(rows))
    empty = log2.columns[log2.loc[rows].notna().sum(axis=0) == 0]
    if len(empty):
        raise TearflowError(
            f"config key normalization.reference_proteins: no reference protein is quantified in "
            f"sample(s) {', '.join(empty)}; expected at least one per sample"
        )
    return offsets_with(lambda r: reference_set_estimate(r, rows), log2, reference, patients)


def quantile_normalized(log2):
    """Quantile normalization that keeps missing values missing.

    Each sample's observed values are ranked; the target distribution is the mean, across samples,
    of each sample's quantile function evaluated at the same probabilities (samples with different
    numbers of observed values are interpolated), so every sample ends with the same distribution
    over its observed proteins (Bolstad et al. 2003).
    """
    grid = np.linspace(0, 1, 1001)
    quantiles = []
    for sample in log2.columns:
        observed = np.sort(log2[sample].dropna().to_numpy())
        if observed.size:
            quantiles.append(np.interp(grid, np.linspace(0, 1, observed.size), observed))
    target = np.mean(quantiles, axis=0)
    result = log2.copy()
    for sample in log2.columns:
        observed = log2[sample].dropna()
        if observed.empty:
            continue
        ranks = observed.rank(method="average").to_numpy()
        probabilities = (ranks - 1) / max(observed.size - 1, 1)
        result.loc[observed.index, sample] = np.interp(probabilities, grid, target)
    return result


def estimated_offsets(log2, annotation, settings, patients=None):
    """Every offset method that can run on this matrix: DataFrame sample × method (centred).

    ``reference_set`` is included only when reference proteins are configured.
    """
    reference = settings["reference"]
    table = pd.DataFrame(index=log2.columns)
    table["median"] = median_offsets(log2)
    table["mode"] = mode_offsets(log2, reference, settings["mode_bandwidth"], patients)
    table["trimmed"] = trimmed_offsets(
        log2,
        reference,
        settings["trimmed_keep_fraction"],
        settings["trimmed_max_iterations"],
        patients,
    )
    names = read_reference_proteins(settings["reference_proteins"])
    if names:
        table["reference_set"] = reference_set_offsets(log2, annotation, names, reference, patients)
    return table


def resolved_method(method, search_engine_normalised=(), dpc_values=False):
    """The method ``normalization.method`` stands for. ``auto``: ``none`` when the matrix holds DPC
    estimates (``dpc_values``) and ``search_engine_normalised`` (one flag per imported table:
    whether its quantity is one its search engine normalised, as the import summary records it) is
    exactly one True; :data:`AUTO_OFFSETS` otherwise. Any other method is itself."""
    if method != AUTO:
        return method
    flags = [bool(flag) for flag in search_engine_normalised]
    return "none" if dpc_values and flags == [True] else AUTO_OFFSETS


def normalized_matrix(log2, annotation, settings, patients=None, search_engine_normalised=(), observed=None):
    """Normalize a log2 matrix with ``settings["method"]`` (``auto``: :func:`resolved_method` of
    ``search_engine_normalised``, the matrix holding DPC estimates when ``observed`` is given).

    ``observed`` (booleans shaped like ``log2``; DPC estimates, complete and partly model-based):
    the offsets are estimated from the observed cells only and subtracted from every cell. The
    model-based value of a protein unobserved in all of a patient's samples is the same at each
    visit; left in, such proteins would form the "least changed" set and pin every offset at zero.

    ``patients`` (Series sample → patient) is used by ``reference: patient``. Returns the
    normalized matrix and a per-sample table: ``sample, method, offset`` (the amount subtracted; for
    quantile the change of the sample's median), the median log2 before and after, and
    ``offset_<m>`` for every offset method that could be estimated (for the diagnostic figure).
    """
    method = resolved_method(settings["method"], search_engine_normalised, dpc_values=observed is not None)
    if method == "reference_set" and not read_reference_proteins(settings["reference_proteins"]):
        reference_set_offsets(log2, annotation, [])  # raises the missing-list error
    measured = log2 if observed is None else log2.where(np.asarray(observed, dtype=bool))
    candidates = estimated_offsets(measured, annotation, settings, patients)
    if method in OFFSET_METHODS:
        offsets = candidates[method]
        normalized = log2.sub(offsets, axis=1)
    elif method == "quantile":
        normalized = quantile_normalized(log2)
        offsets = log2.median() - normalized.median()
    else:
        normalized = log2.copy()
        offsets = pd.Series(0.0, index=log2.columns)
    table = pd.DataFrame({SAMPLE: log2.columns, "method": method, "offset": offsets.to_numpy()})
    table["median_log2_before"] = log2.median().to_numpy()
    table["median_log2_after"] = normalized.median().to_numpy()
    for column in candidates.columns:
        table[f"offset_{column}"] = candidates[column].to_numpy()
    return normalized, table
