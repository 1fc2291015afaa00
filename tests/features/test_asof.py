"""As-of tables and key hashing: the lookups every learned feature stands on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.asof import AsOfTable, column_hash, key_hash


@pytest.mark.parametrize(
    "values",
    [
        np.array(["60054", None, "", "Ünïcode", "60054"], dtype=object),
        np.array([3, -1, 0, 2**62, -(2**40)], dtype=np.int64),
        np.array([3, -1, 0, 7], dtype=np.int32),
        np.array([True, False, True]),
        np.array([1, "a", None], dtype=object),
        np.array(["a", np.nan, None], dtype=object),
        np.array([f"code {i}" if i % 7 else None for i in range(100)], dtype=object),
    ],
)
def test_column_hash_is_pandas_hash_array(values):
    expected = pd.util.hash_array(values, categorize=False)
    np.testing.assert_array_equal(column_hash(values), expected)


def test_float_keys_hash_like_their_integers_and_nan_like_minus_one():
    floats = np.array([5.0, np.nan, 17000.0])
    np.testing.assert_array_equal(column_hash(floats), column_hash(np.array([5, -1, 17000])))


def test_key_hash_depends_on_every_column_and_their_order():
    a = np.array(["x", "y", "x"], dtype=object)
    b = np.array(["y", "x", "x"], dtype=object)
    ab, ba = key_hash(a, b), key_hash(b, a)
    assert ab[0] != ab[1] and ab[0] != ba[0]
    assert ab[2] == key_hash(np.array(["x"], dtype=object), np.array(["x"], dtype=object))[0]


def test_lookup_sees_only_events_strictly_before_the_day():
    keys = key_hash(np.array(["p", "p", "p", "q"], dtype=object))
    table = AsOfTable.build(keys, np.array([10, 12, 12, 11]), {"n": np.ones(4)}, {"n": "sum"})
    queries = key_hash(np.array(["p", "p", "p", "p", "q", "r"], dtype=object))
    found = table.lookup(queries, np.array([10, 11, 12, 13, 12, 99]))[:, 0]
    np.testing.assert_array_equal(found, [np.nan, 1, 1, 3, 1, np.nan])
    one = table.lookup(queries[3:4], np.array([13]))  # the one-request path: same answer
    np.testing.assert_array_equal(one[:, 0], [3])
    found, day = table.lookup_dated(queries, np.array([10, 11, 12, 13, 12, 99]))
    np.testing.assert_array_equal(day, [-1, 10, 10, 12, 11, -1])  # the latest event read
    assert table.latest_dated([int(queries[3])], [13]) == [(12, (3.0,))]


@pytest.mark.parametrize("how", ["sum", "min", "max"])
def test_tables_of_disjoint_partitions_merge_into_the_table_of_all_events(how):
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 40, 3000).astype(np.uint64)
    days = rng.integers(19000, 19400, 3000)
    values = {"v": rng.integers(0, 9, 3000).astype(float)}
    whole = AsOfTable.build(keys, days, values, {"v": how})
    side = rng.random(3000) < 0.3
    parts = [
        AsOfTable.build(keys[rows], days[rows], {"v": values["v"][rows]}, {"v": how})
        for rows in (side, ~side)
    ]
    merged = AsOfTable.merge(parts)
    np.testing.assert_array_equal(merged.keys, whole.keys)
    np.testing.assert_array_equal(merged.composite, whole.composite)
    np.testing.assert_array_equal(merged.values, whole.values)  # integers: exact sums
    probe_keys, probe_days = keys[:500], days[:500] + rng.integers(-5, 5, 500)
    np.testing.assert_array_equal(
        merged.lookup(probe_keys, probe_days), whole.lookup(probe_keys, probe_days)
    )


def test_last_value_tables_merge_to_the_latest_event_of_any_partition():
    """``last`` takes the value of the partition whose latest event is latest: the whole
    history's table, where no key has two partitions' events on one day."""
    rng = np.random.default_rng(4)
    pairs = np.unique(rng.integers(0, 40, 3000) * 1000 + rng.integers(0, 400, 3000))
    keys, days = (pairs // 1000).astype(np.uint64), 19000 + pairs % 1000
    values = {"v": rng.integers(0, 9, len(pairs)).astype(float)}
    whole = AsOfTable.build(keys, days, values, {"v": "last"})
    side = rng.random(len(pairs)) < 0.4
    parts = [
        AsOfTable.build(keys[rows], days[rows], {"v": values["v"][rows]}, {"v": "last"})
        for rows in (side, ~side)
    ]
    merged = AsOfTable.merge(parts)
    np.testing.assert_array_equal(merged.composite, whole.composite)
    np.testing.assert_array_equal(merged.values, whole.values)
