"""Rule params in Snakemake's report: escaped text, unchanged repr (rerun triggers), plain in the step."""

import pickle

import pytest

from tearflow.report_safe import report_safe, unsafe_params

HOSTILE = "</script><script>alert(1)</script> & <b>"


def test_text_form_escapes_markup_and_keeps_the_content():
    section = report_safe({"followup": HOSTILE, "n": [1, 2]})
    text = f"{section}"  # what Snakemake's format_dict writes into the report
    assert "<" not in text and ">" not in text and "&" not in text
    escaped = "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e \\u0026 \\u003cb\\u003e"
    assert text == '{"followup": "' + escaped + '", "n": [1, 2]}'
    assert str(report_safe([HOSTILE])).startswith('["\\u003c/script')


def test_repr_is_the_builtin_one_so_wrapping_reruns_nothing():
    plain = {"followup": HOSTILE, "n": [1, 2]}
    assert repr(report_safe(plain)) == repr(plain)
    assert report_safe(plain) == plain


def test_the_step_receives_a_plain_dict_or_list():
    for value in ({"a": HOSTILE}, [HOSTILE]):
        received = pickle.loads(pickle.dumps(report_safe(value)))
        assert type(received) is type(value) and received == value


def test_unwrapped_text_params_are_found():
    params = [("seed", 1), ("ok", True), ("none", None), ("section", report_safe({})), ("label", "week2"), ("raw", {})]
    assert unsafe_params(params) == ["label", "raw"]
    with pytest.raises(TypeError, match="put text in a dict"):
        report_safe("week2")
