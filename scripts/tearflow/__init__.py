"""Shared pieces of tearflow's step scripts: column names, table I/O, the user-facing error type.

Step scripts in ``scripts/`` import from here; Snakemake puts ``scripts/`` on ``sys.path`` when it
runs a ``script:`` and ``tests/conftest.py`` does the same for pytest.
"""
