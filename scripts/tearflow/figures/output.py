"""Writing a figure: every tearflow figure is saved here, in the format and resolution of the config
section ``figures`` (``format``: png, pdf or svg; ``dpi``; defaults and allowed values in the config
schema), atomically, and byte for byte the same on every run.

Reproducible files: matplotlib stamps the creation date into a PDF (``CreationDate``) and an SVG
(``dc:date``) and gives an SVG's clip paths and glyphs random ids unless ``svg.hashsalt`` is set;
the dates are left out and the salt is fixed, so a rerun rewrites the same bytes. PDF text is embedded
as TrueType (``pdf.fonttype: 42``), which journals and vector editors accept as editable text; SVG text
is drawn as paths (matplotlib's default), so it looks the same without the fonts installed.
"""

import os
from pathlib import Path

from tearflow.atomic import temporary_beside

#: metadata matplotlib would write that changes from run to run (per format), left out
VOLATILE_METADATA = {"png": {"Software": None}, "pdf": {"CreationDate": None}, "svg": {"Date": None}}
#: fixed salt of the SVG element ids (matplotlib draws a random one per process otherwise)
SVG_HASH_SALT = "tearflow"


def figure_suffix(settings):
    """The file suffix of a figure in the configured format (``.png``, ``.pdf``, ``.svg``)."""
    return f".{settings['format']}"


def save_figure(figure, path, settings):
    """Save the matplotlib ``figure`` to ``path`` in ``settings["format"]`` at ``settings["dpi"]``
    (the config section ``figures``), atomically, and close it.

    ``path`` must end in the format's suffix (the rules build it from the same setting; anything else
    is a bug). Figures are cropped to what they draw (``bbox_inches="tight"``), except those laid out
    by matplotlib's constrained layout, which already fit the canvas: cropping would draw them twice.
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    image_format = settings["format"]
    if Path(path).suffix != figure_suffix(settings):
        plt.close(figure)
        raise ValueError(f"figure {path}: the file name does not end in {figure_suffix(settings)} (figures.format)")
    constrained = isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine)
    temporary = temporary_beside(path, figure_suffix(settings))
    try:
        with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT, "pdf.fonttype": 42}):
            figure.savefig(
                temporary,
                format=image_format,
                dpi=settings["dpi"],
                bbox_inches=None if constrained else "tight",
                metadata=VOLATILE_METADATA.get(image_format),
            )
        os.replace(temporary, path)
    finally:
        plt.close(figure)
        if os.path.exists(temporary):
            os.remove(temporary)
