"""Raw ELISA plates → concentrations: a four-parameter logistic standard curve per plate and analyte.

The plate table (``elisa_analysis.plates``) has one row per well:

=============== ===========================================================================
column          meaning
=============== ===========================================================================
plate           plate name (one standard curve per plate × analyte)
well            well position (A1 …), for messages only
analyte         analyte as written (mapped like the ELISA table)
type            ``standard``, ``blank`` (a zero standard) or ``sample``
od              optical density (blank-corrected or not — the curve's lower asymptote absorbs it)
concentration   standards: the nominal concentration in ``unit``; empty for samples
unit            unit of the standard concentrations (converted to pg/mL)
patient         samples: the patient
timepoint       samples: the visit label
dilution        samples: dilution factor (empty = 1)
=============== ===========================================================================

Per plate × analyte, the 4PL ``y = D + (A − D) / (1 + (x / C)^B)`` is fitted to all standard wells
(scipy ``curve_fit``). A sample's concentration is the inverse at the mean OD of its wells, times the
dilution. The reportable range is the lowest to the highest non-zero standard; a sample outside it is
written ``<LLOQ``/``>ULOQ`` with the limit (× dilution) in the ``lloq``/``uloq`` columns, so the ELISA
step's censoring policy handles it like a lab's own ``<LLOQ``. Duplicate wells give a CV (%) of
their back-calculated concentrations; a CV above ``elisa_analysis.plate_cv_max`` is flagged.
"""

import logging
import math
import re

import numpy as np
import pandas as pd

from tearflow.errors import TearflowError

log = logging.getLogger(__name__)

PLATE_COLUMNS = ("plate", "well", "analyte", "type", "od", "concentration", "unit", "patient", "timepoint", "dilution")
REQUIRED = ("plate", "analyte", "type", "od")
WELL_TYPES = ("standard", "blank", "sample")
FIT_COLUMNS = ["plate", "analyte", "a", "b", "c", "d", "r_squared", "n_standards", "lloq", "uloq", "unit"]
CONCENTRATION_COLUMNS = [
    "patient",
    "timepoint",
    "analyte",
    "value",
    "unit",
    "lloq",
    "uloq",
    "plate",
    "n_wells",
    "mean_od",
    "cv_percent",
    "flag",
]


def four_pl(x, a, b, c, d):
    """4PL response: ``a`` at zero concentration, ``d`` at infinite, ``c`` the inflection, ``b`` slope."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return d + (a - d) / (1.0 + np.power(np.clip(x, 0, None) / c, b))


def inverse_four_pl(y, a, b, c, d):
    """Concentration for response ``y`` (NaN where ``y`` is not strictly between ``a`` and ``d``)."""
    y = np.asarray(y, dtype=float)
    low, high = min(a, d), max(a, d)
    inside = (y > low) & (y < high)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x = c * np.power((a - d) / (y - d) - 1.0, 1.0 / b)
    return np.where(inside, x, np.nan)


def fit_four_pl(concentration, od):
    """Least-squares 4PL fit (Levenberg–Marquardt within bounds, scipy ``curve_fit``).

    Returns ``(a, b, c, d, r_squared)``. Raises ValueError when fewer than 4 distinct standard
    concentrations are given or the fit does not converge.
    """
    from scipy.optimize import curve_fit

    x = np.asarray(concentration, dtype=float)
    y = np.asarray(od, dtype=float)
    if len(np.unique(x)) < 4:
        raise ValueError(f"{len(np.unique(x))} distinct standard concentrations (4PL needs ≥ 4)")
    positive = x[x > 0]
    low_y = float(np.mean(y[x == x.min()]))
    high_y = float(np.mean(y[x == x.max()]))
    start = [low_y, 1.0, float(np.exp(np.mean(np.log(positive)))), high_y]
    span = max(abs(high_y - low_y), 1e-6)
    lower = [min(y) - span, 0.05, positive.min() / 1e3, min(y) - span]
    upper = [max(y) + span, 10.0, positive.max() * 1e3, max(y) + 10 * span]
    try:
        params, _ = curve_fit(four_pl, x, y, p0=start, bounds=(lower, upper), maxfev=20000)
    except (RuntimeError, ValueError) as error:
        raise ValueError(f"the 4PL fit did not converge ({error})") from None
    residual = np.sum((y - four_pl(x, *params)) ** 2)
    total = np.sum((y - y.mean()) ** 2)
    r_squared = 1.0 - residual / total if total > 0 else math.nan
    return (*(float(p) for p in params), float(r_squared))


def read_plates(path):
    """The plate table, checked: required columns, known well types, numeric OD/concentration."""
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise TearflowError(f"ELISA plate table {path}: cannot be read as a TSV ({error})") from error
    table.columns = [column.strip().lower() for column in table.columns]
    missing = [column for column in REQUIRED if column not in table.columns]
    if missing:
        raise TearflowError(
            f"ELISA plate table {path}: missing column(s) {', '.join(missing)}; expected "
            f"{', '.join(PLATE_COLUMNS)} (see config/README.md)"
        )
    for column in PLATE_COLUMNS:
        if column not in table.columns:
            table[column] = ""
        table[column] = table[column].str.strip()
    table["row"] = np.arange(len(table)) + 2
    table["type"] = table["type"].str.lower()
    bad = table[~table["type"].isin(WELL_TYPES)]
    if len(bad):
        first = bad.iloc[0]
        raise TearflowError(
            f"ELISA plate table {path}: row {first['row']}, column 'type': found {first['type']!r}; "
            f"expected one of {', '.join(WELL_TYPES)}"
        )

    def numbers(column, rows, default=None):
        out = []
        for _, row in rows.iterrows():
            text = row[column].replace(",", ".")
            if text == "" and default is not None:
                out.append(default)
                continue
            try:
                out.append(float(text))
            except ValueError:
                raise TearflowError(
                    f"ELISA plate table {path}: row {row['row']}, column '{column}': found "
                    f"{row[column]!r}; expected a number"
                ) from None
        return out

    table["od_value"] = numbers("od", table)
    standards = table["type"].isin(["standard", "blank"])
    table["concentration_value"] = np.nan
    table["dilution_value"] = np.nan
    table.loc[table["type"] == "blank", "concentration_value"] = 0.0
    standards = table["type"] == "standard"
    if standards.any():
        table.loc[standards, "concentration_value"] = numbers("concentration", table[standards])
    samples = table["type"] == "sample"
    if samples.any():
        table.loc[samples, "dilution_value"] = numbers("dilution", table[samples], default=1.0)
        for column in ("patient", "timepoint"):
            empty = table[samples & (table[column] == "")]
            if len(empty):
                raise TearflowError(
                    f"ELISA plate table {path}: row {empty.iloc[0]['row']}, column '{column}': "
                    f"empty for a sample well; expected the sample's {column}"
                )
    return table


def _standard_unit(standards, path):
    from tearflow.elisa import known_units, unit_factor

    units = sorted(set(standards["unit"]) - {""}) or ["pg/mL"]
    if len(units) > 1:
        raise TearflowError(
            f"ELISA plate table {path}: plate {standards['plate'].iloc[0]!r}, analyte "
            f"{standards['analyte'].iloc[0]!r}: standards in several units ({', '.join(units)}); "
            "expected one unit per curve"
        )
    factor = unit_factor(units[0])
    if factor is None:
        raise TearflowError(
            f"ELISA plate table {path}: row {standards['row'].iloc[0]}, column 'unit': "
            f"{units[0]!r} cannot be converted to pg/mL; expected one of {known_units()}"
        )
    return factor


def plate_concentrations(table, path, cv_max=20.0):
    """(concentrations, fits): one row per plate × analyte × patient × timepoint, one per curve.

    Concentrations are in pg/mL, in the ELISA long-table layout (value = number, ``<LLOQ`` or
    ``>ULOQ``), plus ``n_wells, mean_od, cv_percent, flag`` (``outside_curve``, ``high_cv``).
    """
    concentrations, fits = [], []
    for (plate, analyte), wells in table.groupby(["plate", "analyte"], sort=True):
        standards = wells[wells["type"].isin(["standard", "blank"])]
        if standards.empty:
            raise TearflowError(
                f"ELISA plate table {path}: plate {plate!r}, analyte {analyte!r} has no standard "
                "wells; expected a standard series (type 'standard') on every plate"
            )
        factor = _standard_unit(standards, path)
        x = standards["concentration_value"].to_numpy(float) * factor
        try:
            a, b, c, d, r2 = fit_four_pl(x, standards["od_value"].to_numpy(float))
        except ValueError as error:
            raise TearflowError(
                f"ELISA plate table {path}: plate {plate!r}, analyte {analyte!r}: {error}; "
                "expected a standard series of at least 4 concentrations"
            ) from None
        lloq, uloq = float(x[x > 0].min()), float(x.max())
        fits.append(dict(zip(FIT_COLUMNS, [plate, analyte, a, b, c, d, r2, len(standards), lloq, uloq, "pg/mL"])))
        # the ODs at the reportable limits bound the usable range (curve may fall or rise)
        od_low, od_high = sorted(four_pl([lloq, uloq], a, b, c, d))
        rising = four_pl(uloq, a, b, c, d) > four_pl(lloq, a, b, c, d)
        samples = wells[wells["type"] == "sample"]
        for (patient, timepoint), group in samples.groupby(["patient", "timepoint"], sort=True):
            dilutions = set(group["dilution_value"])
            if len(dilutions) > 1:
                raise TearflowError(
                    f"ELISA plate table {path}: rows {', '.join(map(str, group['row']))}: wells of "
                    f"{patient!r}/{timepoint!r}/{analyte!r} on plate {plate!r} have different "
                    "dilutions; expected one dilution per sample (or name the plates apart)"
                )
            dilution = dilutions.pop()
            ods = group["od_value"].to_numpy(float)
            mean_od = float(ods.mean())
            well_conc = inverse_four_pl(ods, a, b, c, d) * dilution
            cv = math.nan
            if len(ods) > 1 and np.all(np.isfinite(well_conc)):
                cv = float(np.std(well_conc, ddof=1) / np.mean(well_conc) * 100.0)
            flags = []
            below = mean_od < od_low if rising else mean_od > od_high
            above = mean_od > od_high if rising else mean_od < od_low
            if below:
                value = "<LLOQ"
                flags.append("outside_curve")
            elif above:
                value = ">ULOQ"
                flags.append("outside_curve")
            else:
                value = f"{float(inverse_four_pl(mean_od, a, b, c, d)) * dilution:.6g}"
            if np.isfinite(cv) and cv > cv_max:
                flags.append("high_cv")
            concentrations.append(
                dict(
                    zip(
                        CONCENTRATION_COLUMNS,
                        [
                            patient,
                            timepoint,
                            analyte,
                            value,
                            "pg/mL",
                            lloq * dilution,
                            uloq * dilution,
                            plate,
                            len(ods),
                            mean_od,
                            cv,
                            ";".join(flags),
                        ],
                    )
                )
            )
    concentrations = pd.DataFrame(concentrations, columns=CONCENTRATION_COLUMNS)
    fits = pd.DataFrame(fits, columns=FIT_COLUMNS)
    flagged = concentrations[concentrations["flag"] != ""]
    if len(flagged):
        log.warning(
            "%d plate sample(s) flagged: %s",
            len(flagged),
            ", ".join(f"{r.patient}/{r.timepoint}/{r.analyte} ({r.flag})" for r in flagged.itertuples()),
        )
    return concentrations, fits


def plate_file_name(plate):
    """The plate's name as it appears in figure file names (only letters, digits, ``._-``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(plate))


def plate_names(path):
    """Plate names of a plate table (for the workflow to name one figure per plate)."""
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    table.columns = [column.strip().lower() for column in table.columns]
    if "plate" not in table.columns:
        raise TearflowError(f"ELISA plate table {path}: no 'plate' column; expected one")
    return sorted({plate_file_name(plate.strip()) for plate in table["plate"]})
