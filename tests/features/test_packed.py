"""List columns packed as Arrow arrays (how a cluster holds a history) read back as the same
Python lists, after the row filters, concatenations and slices a partitioned history goes
through."""

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from features.batch import _from_frame
from features.packed import is_packed, list_values, pack_lists, unpack_lists

CODES = st.lists(st.sampled_from(["M54.50", "I10", "Z23", "E11.9"]), max_size=4)
POINTERS = st.lists(st.integers(1, 12), max_size=4)
LINES = st.lists(st.tuples(st.text(min_size=1, max_size=3), CODES, POINTERS), min_size=1)


def _lines(rows: list[tuple[str, list[str], list[int]]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "claim_id": [claim for claim, _, _ in rows],
            "modifiers": [modifiers for _, modifiers, _ in rows],
            "diagnosis_pointers": [pointers for _, _, pointers in rows],
        }
    )


@given(LINES, LINES, st.integers(0, 5))
def test_packed_lists_read_back_after_filters_concatenation_and_slices(first, second, skip):
    frames = [pack_lists(_lines(rows), "claim_lines") for rows in (first, second)]
    assert all(is_packed(f["modifiers"]) and is_packed(f["diagnosis_pointers"]) for f in frames)
    combined = pd.concat(frames, ignore_index=True).iloc[skip:]
    kept = combined[combined["claim_id"] != "x"]
    expected = _lines(first + second).iloc[skip:]
    expected = expected[expected["claim_id"] != "x"]
    for name in ("modifiers", "diagnosis_pointers"):
        assert list_values(kept[name]).tolist() == expected[name].tolist()
    assert unpack_lists(kept, "claim_lines").equals(expected)
    assert pack_lists(kept, "claim_lines") is kept  # packing twice changes nothing


def test_a_batch_gets_python_lists_from_packed_and_plain_frames_alike():
    plain = _lines([("C1", ["25"], [1, 2]), ("C2", [], [])]).assign(
        line_number=[1, 1], procedure_code=["99214", "72148"], units=[1.0, 1.0],
        line_charge=[100.0, 50.0], service_date=pd.to_datetime(["2026-01-05", None]),
    )  # fmt: skip
    packed = _from_frame("claim_lines", pack_lists(plain, "claim_lines"))
    assert packed["modifiers"].tolist() == [["25"], []]
    assert packed["diagnosis_pointers"].tolist() == [[1, 2], []]
    assert all(type(m) is list for m in packed["modifiers"])
