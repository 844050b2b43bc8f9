"""Build the Th17 / IL-17 focus collection ``th17_il17_focus.gmt`` from the shipped libraries.

Run from anywhere (paths are relative to this file)::

    python resources/genesets/make_focus_gmt.py

Each focus set is copied unchanged (same genes, same order) from one source GMT in this folder and
given a readable name; the GMT description column (column 2) records where it came from: source,
identifier, the name in the source file and the release. The output is deterministic: running the
script twice writes the same bytes.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "th17_il17_focus.gmt"

REACTOME = "ReactomePathways_2024-09-18.gmt"
WIKIPATHWAYS = "wikipathways-20260410-gmt-Homo_sapiens.gmt"
GO_BP = "GO_BP_human.gmt"

# readable name, source file, how the set is keyed in that file (column 1), description
FOCUS_SETS = [
    (
        "IL-17 signaling (Reactome)",
        REACTOME,
        "Interleukin-17 signaling",
        "Reactome R-HSA-448424 'Interleukin-17 signaling', release 2024-09-18, CC BY 4.0",
    ),
    (
        "IL-17 signaling (WikiPathways)",
        WIKIPATHWAYS,
        "IL17 signaling",
        "WikiPathways 'IL17 signaling' (WP id not in the source file), release 20260410, CC0",
    ),
    (
        "Th17 cell differentiation (WikiPathways)",
        WIKIPATHWAYS,
        "Th17 cell differentiation pathway",
        "WikiPathways 'Th17 cell differentiation pathway' (WP id not in the source file), release 20260410, CC0",
    ),
    (
        "IL-17-mediated signaling (GO)",
        GO_BP,
        "GO:0097400",
        "GO BP GO:0097400 interleukin-17-mediated signaling pathway, direct annotations only, "
        "GO_BP_human.gmt (FragPipe-Analyst 5268746b853c), CC BY 4.0",
    ),
    (
        "Th17 cell differentiation (GO)",
        GO_BP,
        "GO:0072539",
        "GO BP GO:0072539 T-helper 17 cell differentiation, direct annotations only, "
        "GO_BP_human.gmt (FragPipe-Analyst 5268746b853c), CC BY 4.0",
    ),
    (
        "Th17 type immune response (GO)",
        GO_BP,
        "GO:0072538",
        "GO BP GO:0072538 T-helper 17 type immune response, direct annotations only, "
        "GO_BP_human.gmt (FragPipe-Analyst 5268746b853c), CC BY 4.0",
    ),
]


def read_gmt_rows(path):
    """{set name (column 1): [genes]} of a GMT file, genes in file order, empty cells dropped."""
    rows = {}
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3:
                continue
            rows[parts[0]] = [gene for gene in parts[2:] if gene.strip()]
    return rows


def focus_gmt_lines(folder=HERE):
    """The lines of the focus GMT (name, description, genes), built from the source files."""
    cache = {}
    lines = []
    for name, source, key, description in FOCUS_SETS:
        if source not in cache:
            cache[source] = read_gmt_rows(Path(folder) / source)
        if key not in cache[source]:
            raise SystemExit(f"{source}: gene set '{key}' not found; cannot build {OUTPUT.name}")
        genes = list(dict.fromkeys(cache[source][key]))
        lines.append("\t".join([name, description, *genes]))
    return lines


def main(output=OUTPUT):
    lines = focus_gmt_lines()
    with open(output, "w", encoding="utf-8", newline="\n") as stream:
        stream.write("\n".join(lines) + "\n")
    for line in lines:
        parts = line.split("\t")
        print(f"{parts[0]}: {len(parts) - 2} genes", file=sys.stderr)


if __name__ == "__main__":
    main()
