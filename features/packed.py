"""List columns packed as Arrow arrays, for histories held in a cluster's memory.

In normal form a list column (diagnosis codes, modifiers, diagnosis pointers, adjustments,
remark codes, authorised procedure codes) is an object column of Python lists: two or three
Python objects per row, each one tracked by the garbage collector. At ten million claims that
is tens of millions of objects per copy of the history: more memory than the rest of the
history together, minutes of ``gc.collect()``, and slow pickling whenever Dask moves or spills
a frame. A packed column holds the same lists as one Arrow list array (an offsets buffer and a
values buffer), so a partitioned history keeps its frames packed and the feature code gets
Python lists back from ``list_values`` when it builds a batch.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.contract import table_spec

_ARROW_ITEM = {"list_str": pa.string(), "list_int": pa.int64()}


def _list_columns(table: str) -> dict[str, pa.DataType]:
    return {s.name: _ARROW_ITEM[s.kind] for s in table_spec(table) if s.kind in _ARROW_ITEM}


def is_packed(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.ArrowDtype)


def pack_lists(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """``frame`` with its list columns packed (columns packed already stay as they are)."""
    packed = {
        name: pd.Series(
            pd.arrays.ArrowExtensionArray(pa.array(frame[name].tolist(), pa.list_(item))),
            index=frame.index,
        )
        for name, item in _list_columns(table).items()
        if name in frame.columns and not is_packed(frame[name])
    }
    return frame.assign(**packed) if packed else frame


def unpack_lists(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """``frame`` in normal form: its packed list columns as object columns of Python lists."""
    unpacked = {
        name: pd.Series(list_values(frame[name]), index=frame.index, dtype=object)
        for name in _list_columns(table)
        if name in frame.columns and is_packed(frame[name])
    }
    return frame.assign(**unpacked) if unpacked else frame


def list_values(values: pd.Series) -> np.ndarray:
    """A list column, packed or not, as an object array of Python lists. Equal items share one
    Python object (there are few distinct codes), so unpacking a group stays cheap."""
    if not is_packed(values):
        return values.to_numpy(dtype=object)
    array = pa.chunked_array(values.array._pa_array).combine_chunks()
    flat = array.flatten()
    if pa.types.is_string(flat.type):
        encoded = pc.dictionary_encode(flat)
        words = np.array([*encoded.dictionary.to_pylist(), None], dtype=object)
        items = words[encoded.indices.fill_null(len(words) - 1).to_numpy()].tolist()
    else:
        items = flat.to_numpy(zero_copy_only=False).tolist()
    offsets = array.offsets.to_numpy()
    bounds = (offsets - offsets[0]).tolist()
    result = np.empty(len(array), dtype=object)
    for row, (start, end) in enumerate(pairwise(bounds)):
        result[row] = items[start:end]
    return result
