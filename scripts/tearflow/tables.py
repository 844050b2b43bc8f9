"""Reading and writing tearflow's TSV tables, the same way in every step.

Tables are tab-separated, UTF-8, with ``NA`` for missing values. Writes are atomic: the table is
written beside its target and renamed into place, so a step that dies mid-write leaves no file that
looks finished.
"""

import os

import pandas as pd

from tearflow.atomic import temporary_beside
from tearflow.errors import TearflowError

MISSING = "NA"


def write_tsv(table, path, index=False):
    """Write ``table`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    temporary = temporary_beside(path, ".tsv")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as stream:
            table.to_csv(stream, sep="\t", index=index, na_rep=MISSING)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def read_tsv(path, **kwargs):
    """Read a table tearflow wrote (``NA`` and empty cells are missing)."""
    kwargs.setdefault("sep", "\t")
    kwargs.setdefault("keep_default_na", False)
    kwargs.setdefault("na_values", [MISSING, ""])
    return pd.read_csv(path, **kwargs)


def read_text_table(path, what, required):
    """A small user table (sample sheet, analyte map, endpoint table) as strings, header cells
    stripped, with the ``required`` columns present; ``what`` names it in every error."""
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment="#")
    except pd.errors.EmptyDataError:
        raise TearflowError(
            f"{what} {path}: the file is empty; expected a header line with {', '.join(required)} "
            "and one row per entry"
        ) from None
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise TearflowError(f"{what} {path}: cannot be read as a TSV ({error})") from error
    table.columns = [str(column).strip() for column in table.columns]
    missing = [column for column in required if column not in table.columns]
    if missing and len(table.columns) == 1:
        header = table.columns[0]
        separator = next((name for mark, name in ((",", "comma"), (";", "semicolon")) if mark in header), None)
        if separator:
            raise TearflowError(
                f"{what} {path}: line 1 has no tab; the file looks {separator}-separated ({header[:80]!r}); "
                f"expected tab-separated columns {', '.join(required)} (save it as tab-separated text)"
            )
    if missing:
        raise TearflowError(
            f"{what} {path}: missing column(s) {', '.join(missing)}; expected at least "
            f"{', '.join(required)} (found {', '.join(table.columns)})"
        )
    return table


def save_figure(figure, path, dpi=150):
    """Save a matplotlib figure atomically as PNG and close it.

    Figures are cropped to what they draw (``bbox_inches="tight"``), except those laid out by
    matplotlib's constrained layout, which already fit the canvas: cropping would draw them twice.
    """
    import matplotlib.pyplot as plt
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    constrained = isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine)
    temporary = temporary_beside(path, ".png")
    try:
        figure.savefig(
            temporary, dpi=dpi, bbox_inches=None if constrained else "tight", metadata={"Software": None}
        )
        os.replace(temporary, path)
    finally:
        plt.close(figure)
        if os.path.exists(temporary):
            os.remove(temporary)
