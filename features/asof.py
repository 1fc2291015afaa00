"""As-of tables: values accumulated over time per key, looked up strictly before a date.

This is how the leakage rule is kept: a claim submitted on day ``t`` sees only events dated
before ``t`` (outcomes adjudicated before it, claims submitted before it). The same lookup
serves a history row and a request; a request after the history simply sees every event.
Lookups are numpy ``searchsorted`` on a sorted ``key << DAY_BITS | day`` array, so one row
costs microseconds and a million rows a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from pandas._libs.hashing import hash_object_array  # the kernel of pd.util.hash_array

DAY_BITS = 17  # day numbers since 1970 up to the year 2328
Accumulate = Literal["sum", "min", "max", "last"]
_MIX = np.uint64(0x9E3779B97F4A7C15)
_PANDAS_HASH_KEY = "0123456789123456"  # pandas' default key: hashes stay what they were
_SPLITMIX_1, _SPLITMIX_2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
FEW = 32  # lookups of at most this many rows try the per-key dictionary first


def day_numbers(dates: pd.Series | np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 as int64; unknown dates become -1."""
    values = np.asarray(dates)
    if values.dtype.kind == "i":
        return values.astype(np.int64)
    if values.dtype.kind == "f":
        return np.where(np.isnan(values), -1, values).astype(np.int64)
    days = values.astype("datetime64[D]")
    return np.where(np.isnat(days), -1, days.astype(np.int64))


def column_hash(column: np.ndarray | pd.Series) -> np.ndarray:
    """A uint64 hash per value, equal to ``pd.util.hash_array(values, categorize=False)``
    (a test pins this), minus that wrapper's ~8 µs of dispatch per call, which a one-claim
    feature pass would pay a few dozen times. NaN in a float column hashes as -1."""
    values = np.asarray(column)
    if values.dtype.kind in "OUS" and len(values) <= FEW:
        try:  # a one-claim pass hashes the same few codes again and again
            return np.fromiter(map(_text_hash, values.tolist()), np.uint64, len(values))
        except TypeError:  # not only text and nulls: the whole column's rule below
            pass
    return _hash_values(values)


@lru_cache(maxsize=1 << 16)
def _text_hash(value: str | bytes | None) -> int:
    if value is not None and not isinstance(value, str | bytes):
        raise TypeError("only text and None are hashed one by one")
    return int(_hash_values(np.array([value], dtype=object))[0])


def _hash_values(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        values = np.where(np.isnan(values), -1, values).astype(np.int64)
    kind = values.dtype.kind
    if kind in "OUS":
        objects = values.astype(object, copy=False)
        try:
            hashed = hash_object_array(objects, _PANDAS_HASH_KEY, "utf8")
        except TypeError:  # mixed types: pandas hashes their text
            hashed = hash_object_array(objects.astype(str).astype(object), _PANDAS_HASH_KEY, "utf8")
    elif kind == "b":
        hashed = values.astype(np.uint64)
    else:
        hashed = values.view(f"u{values.dtype.itemsize}").astype(np.uint64)
    hashed ^= hashed >> 30
    hashed *= _SPLITMIX_1
    hashed ^= hashed >> 27
    hashed *= _SPLITMIX_2
    hashed ^= hashed >> 31
    return hashed


def combine_hashes(hashes: list[np.ndarray]) -> np.ndarray:
    """One uint64 per row from the column hashes of a key, in order."""
    if not hashes:
        raise ValueError("a key needs at least one column")
    combined = hashes[0]
    for hashed in hashes[1:]:
        combined = (combined * _MIX) ^ hashed
    return combined


def key_hash(*columns: np.ndarray | pd.Series) -> np.ndarray:
    """A uint64 hash per row of the given key columns (equal values, equal hashes)."""
    return combine_hashes([column_hash(column) for column in columns])


def _group_starts(sorted_values: np.ndarray) -> np.ndarray:
    if len(sorted_values) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])


def _running(values: np.ndarray, group_starts: np.ndarray, how: Accumulate) -> np.ndarray:
    """Running accumulation within consecutive groups starting at ``group_starts``."""
    if how == "last" or len(values) == 0:
        return values
    if how == "sum":
        total = np.cumsum(values)
        before = np.r_[0.0, total][group_starts]
        sizes = np.diff(np.r_[group_starts, len(values)])
        return total - np.repeat(before, sizes)
    groups = np.repeat(np.arange(len(group_starts)), np.diff(np.r_[group_starts, len(values)]))
    running = pd.Series(values).groupby(groups)
    return (running.cummin() if how == "min" else running.cummax()).to_numpy(float)


_DAILY = {"sum": np.add, "min": np.minimum, "max": np.maximum}


@dataclass(frozen=True)
class AsOfTable:
    """Per key, the running accumulation of event values in date order.

    ``sum``, ``min`` and ``max`` accumulate over all earlier days; ``last`` keeps the value of
    the latest day (the last event of that day in input order).
    """

    keys: np.ndarray  # sorted unique uint64 key hashes; a key's code is its position
    composite: np.ndarray
    values: np.ndarray
    columns: tuple[str, ...]
    how: tuple[Accumulate, ...] = ()  # per column; what ``merge`` combines them with

    @classmethod
    def build(
        cls,
        keys: np.ndarray,
        days: np.ndarray,
        values: dict[str, np.ndarray],
        how: dict[str, Accumulate],
    ) -> AsOfTable:
        days = day_numbers(days)
        known = days >= 0
        uniques, codes = np.unique(np.asarray(keys, dtype=np.uint64)[known], return_inverse=True)
        composite = (codes.astype(np.int64) << DAY_BITS) | days[known]
        order = np.argsort(composite, kind="stable")
        composite = composite[order]
        day_starts = _group_starts(composite)
        day_ends = np.r_[day_starts[1:], len(composite)] - 1
        daily_composite = composite[day_starts]
        key_starts = _group_starts(daily_composite >> DAY_BITS)
        columns = []
        for name, column in values.items():
            ordered = np.asarray(column, dtype=float)[known][order]
            if how[name] == "last":
                daily = ordered[day_ends] if len(ordered) else ordered
            else:
                daily = _DAILY[how[name]].reduceat(ordered, day_starts) if len(ordered) else ordered
            columns.append(_running(daily, key_starts, how[name]))
        return cls(
            keys=uniques,
            composite=daily_composite,
            values=np.column_stack(columns) if columns else np.zeros((len(daily_composite), 0)),
            columns=tuple(values),
            how=tuple(how[name] for name in values),
        )

    @classmethod
    def merge(cls, tables: list[AsOfTable]) -> AsOfTable:
        """One table from tables built on disjoint sets of events (partitions of a history):
        at every (key, day) of any of them, each table's accumulation through that day,
        combined. The same table as one built on all the events (sums up to rounding); for
        ``last``, the latest event of any table, and of events on one day in two tables the
        larger value (the same as one table when each day's events are built in value order)."""
        first = tables[0]
        if len(tables) == 1:
            return first
        if len(first.how) != len(first.columns):
            raise ValueError("a table without its accumulations cannot be merged")
        mask = (1 << DAY_BITS) - 1
        points = [(t.keys[t.composite >> DAY_BITS], t.composite & mask) for t in tables]
        all_keys = np.concatenate([k for k, _ in points])
        keys, codes = np.unique(all_keys, return_inverse=True)
        composite = np.unique(
            (codes.astype(np.int64) << DAY_BITS) | np.concatenate([d for _, d in points])
        )
        point_keys, point_days = keys[composite >> DAY_BITS], composite & mask
        identity = {"sum": 0.0, "min": np.inf, "max": -np.inf, "last": np.nan}
        combine = {"sum": np.add, "min": np.minimum, "max": np.maximum}
        values = np.array([identity[h] for h in first.how]) * np.ones((len(composite), 1))
        latest_day = np.full(len(composite), -1, dtype=np.int64)
        for table in tables:  # "last": the table whose latest event is latest
            through, day = table._before(point_keys, point_days + 1)  # on or before the day
            newer = (day >= 0) & (day > latest_day)
            tied = (day >= 0) & (day == latest_day)
            for column, how in enumerate(first.how):
                if how == "last":  # events of one day in two tables: the larger value
                    take = newer | (tied & ~(through[:, column] <= values[:, column]))
                    values[take, column] = through[take, column]
                    continue
                seen = ~np.isnan(through[:, column])
                values[seen, column] = combine[how](values[seen, column], through[seen, column])
            latest_day = np.maximum(latest_day, day)
        return cls(keys, composite, values, first.columns, first.how)

    @cached_property
    def _latest(self) -> dict[int, tuple[int, tuple[float, ...]]]:
        """Per key hash: its last event day and the values accumulated through it."""
        if len(self.composite) == 0:
            return {}
        code = self.composite >> DAY_BITS
        last = np.flatnonzero(np.r_[code[1:] != code[:-1], True])
        day = self.composite & ((1 << DAY_BITS) - 1)
        return {
            key: (d, tuple(row))
            for key, d, row in zip(
                self.keys[code[last]].tolist(),
                day[last].tolist(),
                self.values[last].tolist(),
                strict=True,
            )
        }

    def lookup(self, keys: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Accumulated values of each key over events dated strictly before its day.

        Rows whose key has no earlier event get NaN. A few rows dated after their key's last
        event (a request scored after the history) are answered from a dictionary of each
        key's final values; anything else goes through the sorted arrays. Same answers.
        """
        days = day_numbers(days)
        if len(keys) <= FEW:
            latest = self.latest(keys.tolist(), days.tolist())
            if latest is not None:
                missing = (np.nan,) * len(self.columns)
                rows = [missing if row is None else row for row in latest]
                return np.array(rows, dtype=float).reshape(len(keys), len(self.columns))
        return self._before(keys, days)[0]

    def _before(self, keys: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``lookup`` through the sorted arrays, and the day of the latest event it read
        (-1: none)."""
        result = np.full((len(keys), len(self.columns)), np.nan)
        event_day = np.full(len(keys), -1, dtype=np.int64)
        if len(self.composite) == 0 or len(keys) == 0:
            return result, event_day
        codes = self.codes(keys)
        query = (codes << DAY_BITS) | np.maximum(days, 0)
        position = np.searchsorted(self.composite, query, side="left") - 1
        safe = np.maximum(position, 0)
        found = (codes >= 0) & (days >= 0) & (position >= 0)
        found &= (self.composite[safe] >> DAY_BITS) == codes
        result[found] = self.values[safe[found]]
        event_day[found] = self.composite[safe[found]] & ((1 << DAY_BITS) - 1)
        return result, event_day

    def lookup_dated(self, keys: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``lookup``, and the day of the latest event each row read (-1: none)."""
        return self._before(keys, day_numbers(days))

    def latest(self, keys: list[int], days: list[int]) -> list[tuple[float, ...] | None] | None:
        """``lookup`` for rows dated after their key's last event, as plain tuples (None: no
        event yet, or the day is unknown); None when a row is dated inside its key's history."""
        dated = self.latest_dated(keys, days)
        return None if dated is None else [None if row is None else row[1] for row in dated]

    def latest_dated(
        self, keys: list[int], days: list[int]
    ) -> list[tuple[int, tuple[float, ...]] | None] | None:
        """``latest``, each row with its key's last event day."""
        latest = self._latest
        result: list[tuple[int, tuple[float, ...]] | None] = []
        for key, day in zip(keys, days, strict=True):
            found = latest.get(key)
            if found is None or day < 0:
                result.append(None)
            elif day <= found[0]:
                return None  # dated inside the key's history: needs the as-of search
            else:
                result.append(found)
        return result

    def codes(self, keys: np.ndarray) -> np.ndarray:
        """Position of each key among the table's keys, -1 for keys it has never seen."""
        position = np.searchsorted(self.keys, keys)
        safe = np.minimum(position, max(len(self.keys) - 1, 0))
        hit = (position < len(self.keys)) & (self.keys[safe] == keys)
        return np.where(hit, position, -1).astype(np.int64)
