"""Rule params that are safe in Snakemake's HTML report.

Snakemake writes every job's params into the report (``snakemake --report``) as ``str(value)``
inside a ``<script>`` block of JSON, and ``json.dumps`` does not escape ``</script>``: a sample,
patient, visit, analyte or file name holding ``</script><script>…`` would end the block and run
when a colleague opens the report from an e-mail. Every param a rule gets from the config or the
sample sheet is therefore wrapped by :func:`report_safe`: the step receives an ordinary dict or
list, and only its text form changes, to JSON with ``<``, ``>`` and ``&`` written as ``\\u003c``,
``\\u003e``, ``\\u0026`` (still readable in the report's "Job parameters"). ``repr`` — what
Snakemake's ``params`` rerun trigger compares — stays the built-in one, so wrapping reruns nothing.

``workflow/Snakefile`` checks after the rules are defined that no rule has an unwrapped text
param (:func:`unsafe_params`), so a new rule cannot forget it.
"""

import json

_HTML_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def report_text(value):
    """``value`` as JSON with HTML's special characters escaped (safe inside ``<script>``)."""
    return json.dumps(value, ensure_ascii=False, default=str).translate(_HTML_ESCAPES)


class ReportSafeDict(dict):
    """A dict param whose ``str`` is :func:`report_text` (see the module docstring)."""

    def __str__(self):
        return report_text(self)

    def __reduce__(self):  # unpickled in the step as a plain dict: the step needs no tearflow class
        return (dict, (dict(self),))


class ReportSafeList(list):
    """A list param whose ``str`` is :func:`report_text` (see the module docstring)."""

    def __str__(self):
        return report_text(self)

    def __reduce__(self):
        return (list, (list(self),))


def report_safe(value):
    """A dict or list (or tuple) param wrapped so its text in the report is escaped."""
    if isinstance(value, dict):
        return ReportSafeDict(value)
    if isinstance(value, (list, tuple)):
        return ReportSafeList(value)
    raise TypeError(f"report_safe: expected a dict or a list, got {type(value).__name__}; put text in a dict")


def unsafe_params(params):
    """Names of the ``(name, value)`` params whose text form could carry markup into the report:
    text, or a dict / list not wrapped by :func:`report_safe`. Numbers, booleans and None are safe."""
    return [
        name
        for name, value in params
        if not (value is None or isinstance(value, (bool, int, float, ReportSafeDict, ReportSafeList)))
    ]
