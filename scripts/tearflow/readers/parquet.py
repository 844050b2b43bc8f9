"""Parquet tables (DIA-NN ≥ 1.9 ``report.parquet``) read with pyarrow, one needed column at a time.

pyarrow is imported when a Parquet file is met, so steps that read text tables do not pay for it.
:mod:`tearflow.readers.long` builds on :class:`ParquetColumns`; its messages number rows from 1.
"""

import numpy as np
import pandas as pd

from tearflow.errors import TearflowError
from tearflow.readers.text import check_readable

# Rows of a text column decoded at a time (whole row groups): bounds the memory of the per-row-group
# dictionaries a large report carries.
SLAB_ROWS = 10_000_000


def _parquet_file(path):
    import pyarrow.parquet as pq

    check_readable(path, parquet_ok=True)
    try:
        return pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError, ... for a damaged file
        raise TearflowError(
            f"{path}: the file starts like a Parquet file but cannot be read as Parquet ({error}); "
            "expected a complete report.parquet as DIA-NN writes it"
        ) from error


def parquet_columns(path):
    """The column names of a Parquet file (from its schema; no data is read)."""
    return list(_parquet_file(path).schema_arrow.names)


def _is_text(arrow_type):
    import pyarrow as pa

    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_string_view(arrow_type)


class ParquetColumns:
    """Column-at-a-time access to one Parquet file, so that a large report is never held whole.

    :meth:`codes` gives a text column as integer codes plus the distinct values (read with
    dictionary encoding: strings are never materialised per row); :meth:`numbers` a numeric column
    as a float array (null → NaN); :meth:`flags` a 0/1 or boolean column as booleans.
    """

    def __init__(self, path):
        self.path = path
        self.source = _parquet_file(path)
        self.columns = list(self.source.schema_arrow.names)
        self.rows = self.source.metadata.num_rows

    def _column(self, name):
        if name not in self.columns:
            raise TearflowError(f"{self.path}: missing column {name!r}; found {', '.join(self.columns[:15])} ...")
        try:
            table = self.source.read(columns=[name], use_threads=True)
        except Exception as error:
            raise TearflowError(f"{self.path}: cannot read column {name!r} from Parquet ({error})") from error
        return table.column(0)

    def codes(self, name):
        """(codes, values): ``values[codes[i]]`` is row i's text; code -1 for a null.

        Text is read with dictionary encoding, :data:`SLAB_ROWS` rows (whole row groups) at a time,
        and each slab's distinct values are merged into the file's: memory stays bounded by a slab
        however many runs the report has.
        """
        if name not in self.columns:
            self._column(name)  # the error naming what the file has
        if not _is_text(self.source.schema_arrow.field(name).type):
            column = self._column(name).cast("string").dictionary_encode()
            categorical = column.to_pandas().astype("category")
            return np.asarray(categorical.cat.codes), np.asarray(categorical.cat.categories, dtype=object)
        import pyarrow.parquet as pq

        source = pq.ParquetFile(self.path, read_dictionary=[name])
        values, parts = None, []
        for groups in self._slabs():
            try:
                slab = source.read_row_groups(groups, columns=[name], use_threads=True).column(0)
            except Exception as error:
                raise TearflowError(f"{self.path}: cannot read column {name!r} from Parquet ({error})") from error
            categorical = slab.to_pandas()
            del slab
            if not isinstance(categorical.dtype, pd.CategoricalDtype):
                categorical = categorical.astype("category")
            names = pd.Index(np.asarray(categorical.cat.categories, dtype=object))
            codes = np.asarray(categorical.cat.codes).astype(np.int32)
            if values is None:
                values = names
                parts.append(codes)
                continue
            where = values.get_indexer(names)
            if (where < 0).any():
                values = values.append(names[where < 0])
                where = values.get_indexer(names)
            parts.append(np.append(where.astype(np.int32), np.int32(-1))[codes])
        _release()
        if values is None:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=object)
        return np.concatenate(parts), np.asarray(values, dtype=object)

    def distinct(self, name):
        """The distinct non-null values of a text column (small ones, such as DIA-NN's ``Channel``).

        When every row group's statistics say it holds one value, that is the answer without reading.
        """
        index = self.columns.index(name) if name in self.columns else None
        metadata = self.source.metadata
        if index is not None and metadata.num_row_groups:
            seen = set()
            for group in range(metadata.num_row_groups):
                statistics = metadata.row_group(group).column(index).statistics
                if statistics is None or not statistics.has_min_max:
                    seen = None
                    break
                seen |= {statistics.min, statistics.max}
            if seen is not None and len(seen) == 1:
                return list(seen)
        return list(self.codes(name)[1])

    def _slabs(self):
        metadata = self.source.metadata
        groups, rows = [], 0
        for index in range(metadata.num_row_groups):
            groups.append(index)
            rows += metadata.row_group(index).num_rows
            if rows >= SLAB_ROWS:
                yield groups
                groups, rows = [], 0
        if groups:
            yield groups

    def numbers(self, name):
        """A numeric column as a float array (its own precision; null → NaN)."""
        import pyarrow as pa

        column = self._column(name)
        if pa.types.is_boolean(column.type):
            column = column.cast(pa.int8())
        if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
            raise TearflowError(
                f"{self.path}: column {name!r} holds {column.type} values; expected numbers "
                "(as in a DIA-NN report.parquet)"
            )
        values = column.to_numpy()
        del column
        _release()
        if values.dtype.kind != "f":
            values = values.astype(np.float64)
        return values

    def flags(self, name):
        """A 0/1 or boolean column as booleans (null → False); text columns as true/1/yes/+."""
        import pyarrow as pa
        import pyarrow.compute as pc

        field = self.source.schema_arrow.field(name) if name in self.columns else None
        if field is not None and _is_text(field.type):
            codes, values = self.codes(name)
            truthy = np.array([str(v).strip().lower() in ("1", "true", "yes", "+") for v in values] + [False])
            return truthy[codes]
        column = self._column(name)
        if not pa.types.is_boolean(column.type):
            if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
                raise TearflowError(
                    f"{self.path}: column {name!r} holds {column.type} values; expected 0/1 or booleans"
                )
            column = pc.not_equal(column, 0)
        flags = pc.fill_null(column, False).to_numpy()
        del column
        _release()
        return flags


def _release():
    """Hand memory pyarrow freed back to the system (its allocator keeps it otherwise)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
