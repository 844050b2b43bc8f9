"""Tests of tearflow.genesets: the one GMT reader and gene-cell matching every step uses."""

import pytest
from conftest import REPO

from tearflow.errors import TearflowError
from tearflow.genesets import library_genes, read_gmt, set_membership, split_genes

FOCUS_GMT = REPO / "resources" / "genesets" / "th17_il17_focus.gmt"


def test_read_gmt_upper_cases_keeps_order_and_skips_comments(tmp_path):
    path = tmp_path / "sets.gmt"
    path.write_text(
        "# made by hand\n"
        "\n"
        "TH17\tTh17 cells\til17a\tIL17F\t IL17A \t\tRORC\n"
        "IL23\thttp://example.org/il23\tIL23R\tIL12B\n",
        encoding="utf-8",
    )
    library = read_gmt(path, focus=True)
    assert library.name == "sets" and library.focus is True
    assert library.sets == {"TH17": ["IL17A", "IL17F", "RORC"], "IL23": ["IL23R", "IL12B"]}
    assert library.descriptions["IL23"] == "http://example.org/il23"
    assert library_genes(library) == {"IL17A", "IL17F", "RORC", "IL23R", "IL12B"}
    assert read_gmt(path, "focus").name == "focus"


@pytest.mark.parametrize(
    "text, message",
    [
        ("only_a_name\n", "line 1 has 1 tab-separated field"),
        ("A\tdesc\tG1\nA\tdesc\tG2\n", "line 2: set name 'A' appears twice"),
        ("", "no gene sets found"),
        ("# only a comment\n\n", "no gene sets found"),
        ("TH17,my set,IL17A\n", "line 1 has 1 tab-separated field"),
    ],
)
def test_bad_gmt_is_a_user_error_naming_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.gmt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TearflowError, match=f"gene-set file {path}.*{message}"):
        read_gmt(path)


def test_unreadable_gmt_is_a_user_error(tmp_path):
    with pytest.raises(TearflowError, match="cannot be read"):
        read_gmt(tmp_path / "missing.gmt")
    latin = tmp_path / "latin.gmt"
    latin.write_bytes("S\tcaf\xe9\tG1\n".encode("latin-1"))
    with pytest.raises(TearflowError, match="cannot be read"):
        read_gmt(latin)


def test_shipped_focus_gmt_reads():
    focus = read_gmt(FOCUS_GMT, focus=True)
    assert len(focus.sets) == 6 and "IL17RA" in library_genes(focus)


def test_split_genes_and_set_membership():
    assert split_genes(" il17ra ; IL17RC;") == ["IL17RA", "IL17RC"]
    assert split_genes(None) == [] and split_genes(float("nan")) == []
    mask = set_membership(["IL17RA;IL17RC", "ALB", None], {"S": ["IL17RC"], "T": ["ALB", "IL17RA"]})
    assert mask["S"].tolist() == [True, False, False]
    assert mask["T"].tolist() == [True, True, False]
    assert mask.dtypes.tolist() == [bool, bool]


def test_default_go_library_is_named_and_propagated():
    from conftest import config_section

    path = REPO / config_section("enrichment")["libraries"]["go_bp"]
    go = read_gmt(path, "go_bp")
    assert len(go.sets) == 7647
    assert go.descriptions["GO:0006954"] == "inflammatory response"
    assert go.descriptions["GO:0097400"] == "interleukin-17-mediated signaling pathway"
    # propagated: the genes of a child term belong to its parent
    assert set(go.sets["GO:0002526"]) <= set(go.sets["GO:0006954"])  # acute inflammatory response
    assert set(go.sets["GO:0097400"]) <= set(go.sets["GO:0019221"])  # IL-17 ⊂ cytokine-mediated signaling
    assert len(go.sets["GO:0006954"]) == 890
