"""Figure of the raw-plate ELISA step: each plate's 4PL standard curves with its standards and the
samples read off them (``elisa_standard_curve_<plate>.png``)."""

import numpy as np

from tearflow.elisa_plates import four_pl, plate_file_name


def standard_curve_figure(table, fits, concentrations, plate):
    """Standards, fitted 4PL and sample wells of one plate, one panel per analyte."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tearflow.elisa import unit_factor

    mine = fits[fits["plate"].map(plate_file_name) == plate]
    figure, axes = plt.subplots(1, max(len(mine), 1), figsize=(4.2 * max(len(mine), 1), 3.8), squeeze=False)
    for axis, fit in zip(axes[0], mine.itertuples()):
        wells = table[(table["plate"] == fit.plate) & (table["analyte"] == fit.analyte)]
        standards = wells[wells["type"].isin(["standard", "blank"])]
        factor = unit_factor(next(iter(set(standards["unit"]) - {""}), "pg/mL"))
        x = standards["concentration_value"].to_numpy(float) * factor
        floor = fit.lloq / 4.0
        axis.scatter(np.where(x > 0, x, floor), standards["od_value"], color="black", s=18, label="standards", zorder=3)
        grid = np.geomspace(floor, fit.uloq * 2.0, 200)
        axis.plot(
            grid, four_pl(grid, fit.a, fit.b, fit.c, fit.d), color="tab:blue", label=f"4PL (R² = {fit.r_squared:.3f})"
        )
        for limit in (fit.lloq, fit.uloq):
            axis.axvline(limit, color="grey", linestyle=":", linewidth=1)
        samples = concentrations[(concentrations["plate"] == fit.plate) & (concentrations["analyte"] == fit.analyte)]
        inside = samples[samples["flag"].str.contains("outside_curve") == False]  # noqa: E712
        dilution = inside["lloq"].to_numpy(float) / fit.lloq
        axis.scatter(
            inside["value"].astype(float) / dilution,
            inside["mean_od"],
            marker="x",
            color="tab:orange",
            label="samples (at well concentration)",
            zorder=4,
        )
        outside = samples[samples["flag"].str.contains("outside_curve")]
        for od in outside["mean_od"]:
            axis.axhline(od, color="tab:red", linewidth=0.8, alpha=0.6)
        axis.set_xscale("log")
        axis.set_xlabel("concentration (pg/mL; zero standard at left edge)")
        axis.set_ylabel("OD")
        axis.set_title(f"{fit.plate}: {fit.analyte}")
        axis.legend(fontsize=7)
    figure.suptitle(f"Standard curves, plate {plate} (red lines: samples outside the curve)", fontsize=9)
    figure.tight_layout()
    return figure
