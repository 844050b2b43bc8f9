"""Write resources/example/elisa_plates.tsv: two simulated ELISA plates (seeded, reproducible).

Each plate carries an IL-6 standard series (2-fold from 500 pg/mL, 8 points + blank, in duplicate)
and duplicate wells of a few example patients at baseline and week2, diluted 1:2. ODs follow a
known 4PL (A=0.05, B=1.2, C=120 pg/mL, D=2.8) with 3 % multiplicative noise, so the fit can be
checked against the curve that made it. Run from the repository root:

    .venv/bin/python resources/elisa/make_example_plates.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20250202
CURVE = (0.05, 1.2, 120.0, 2.8)  # A, B, C (pg/mL), D
STANDARDS = [500.0 / 2**i for i in range(8)]
PLATES = {
    "plate1": [("NSDE01", 14.0, 5.2), ("NSDE02", 13.5, 9.5), ("NSDE03", 30.0, 1.0)],
    "plate2": [("SSDE01", 12.0, 8.0), ("SSDE02", 900.0, 600.0)],
}
OUT = Path("resources/example/elisa_plates.tsv")


def four_pl(x, a, b, c, d):
    return d + (a - d) / (1.0 + (np.asarray(x, dtype=float) / c) ** b)


def main():
    rng = np.random.default_rng(SEED)
    rows = []
    for plate, patients in PLATES.items():
        column = 1
        for concentration in [0.0] + STANDARDS:
            for replicate in range(2):
                od = four_pl(concentration, *CURVE) * (1 + rng.normal(0, 0.03))
                kind = "blank" if concentration == 0 else "standard"
                rows.append(
                    [
                        plate,
                        f"{'AB'[replicate]}{column}",
                        "IL-6",
                        kind,
                        f"{od:.4f}",
                        "" if kind == "blank" else f"{concentration:g}",
                        "pg/mL",
                        "",
                        "",
                        "",
                    ]
                )
            column += 1
        for patient, baseline, week2 in patients:
            for timepoint, true in (("baseline", baseline), ("week2", week2)):
                for replicate in range(2):
                    od = four_pl(true / 2.0, *CURVE) * (1 + rng.normal(0, 0.03))
                    rows.append(
                        [
                            plate,
                            f"{'CD'[replicate]}{column}",
                            "IL-6",
                            "sample",
                            f"{od:.4f}",
                            "",
                            "",
                            patient,
                            timepoint,
                            "2",
                        ]
                    )
                column += 1
    table = pd.DataFrame(
        rows,
        columns=["plate", "well", "analyte", "type", "od", "concentration", "unit", "patient", "timepoint", "dilution"],
    )
    table.to_csv(OUT, sep="\t", index=False)


if __name__ == "__main__":
    main()
