"""The subgroup colours of every tearflow figure: one colour per subgroup, the same in every plot.

Subgroups take the palette's colours in the order they are given; pass them in sample-sheet order
(``tearflow.samples.subgroup_order``), so a subgroup has one colour across QC, heatmaps, ELISA and
clinical figures. Light module: no plotting library is imported.
"""

# Colour-blind-friendly enough for two to six groups; it repeats after six.
SUBGROUP_COLOURS = ("#1b6ca8", "#d1495b", "#2a9d8f", "#edae49", "#6a4c93", "#8d6e63")


def subgroup_colours(subgroups):
    """Subgroup → hex colour, in the given order (duplicates ignored; the palette repeats after six)."""
    names = dict.fromkeys(subgroups)
    return {name: SUBGROUP_COLOURS[i % len(SUBGROUP_COLOURS)] for i, name in enumerate(names)}
