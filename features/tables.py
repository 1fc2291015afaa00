"""Turn raw table columns into the contract's normalised form, vectorised, with row-level issues.

The same conversion serves a history file (strings from CSV, typed columns from Parquet) and a
claim request turned into one-row tables, so both reach the features in identical form:

- text: pandas string with NA for unknown; codes upper-cased where the contract says so
- dates: ``datetime64[s]`` with NaT for unknown
- numbers: float64; integers: int64; booleans: pandas ``boolean``
- lists: Python lists in an object column, ``[]`` for unknown
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contract import ColumnSpec, normalize_diagnosis, table_spec

# Columns whose values are PHI or tied to a patient: errors name the row, never the value.
PHI_COLUMNS = frozenset(
    {"patient_id", "member_id", "patient_birth_date", "diagnosis_codes", "patient_sex"}
)
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
DATE_DTYPE = "datetime64[s]"


@dataclass(frozen=True)
class Issue:
    """One problem with one column of some rows of a table."""

    table: str
    column: str
    rows: np.ndarray  # 0-based positions in the file
    problem: str
    example: str | None = None

    def describe(self, source: str, limit: int = 5) -> str:
        shown = ", ".join(str(r + 1) for r in self.rows[:limit])
        more = f" and {len(self.rows) - limit} more" if len(self.rows) > limit else ""
        example = f" (e.g. {self.example!r})" if self.example is not None else ""
        rows = "row" if len(self.rows) == 1 else "rows"
        return f"{source}: {rows} {shown}{more}, column {self.column!r}: {self.problem}{example}"


def _blank_cell(value: object) -> bool:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | np.ndarray) and len(value) == 0


def _blank(values: pd.Series, kind: str) -> np.ndarray:
    if kind.startswith("list"):
        return np.fromiter((_blank_cell(v) for v in values), bool, len(values))
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        text = values.astype("string")
        return np.asarray(text.isna() | (text.str.strip() == ""), dtype=bool)
    return np.asarray(values.isna(), dtype=bool)


class _Column:
    """Converts one column and collects its issues."""

    def __init__(self, table: str, spec: ColumnSpec, values: pd.Series) -> None:
        self.table, self.spec, self.values = table, spec, values.reset_index(drop=True)
        self.issues: list[Issue] = []
        self.blank = _blank(self.values, spec.kind)

    def flag(self, bad: np.ndarray, problem: str, shown: pd.Series | None = None) -> None:
        rows = np.flatnonzero(bad)
        if len(rows) == 0:
            return
        example = None
        if shown is not None and self.spec.name not in PHI_COLUMNS:
            example = str(shown.iloc[rows[0]])
        self.issues.append(Issue(self.table, self.spec.name, rows, problem, example))

    def convert(self) -> pd.Series:
        spec = self.spec
        if spec.required:
            self.flag(self.blank, "required value is missing")
        kind = spec.kind
        if kind == "str":
            return self._text()
        if kind == "date":
            return self._date()
        if kind in ("number", "int"):
            return self._number()
        if kind == "bool":
            return self._bool()
        return self._list()

    def _text(self) -> pd.Series:
        values = self.values
        if pd.api.types.is_numeric_dtype(values.dtype):
            self.flag(~self.blank, "expected text, got numbers (codes keep leading zeros)")
        text = values.astype("string").str.strip()
        text = text.mask(pd.Series(self.blank), pd.NA)
        if self.spec.upper:
            text = text.str.upper()
        if self.spec.choices is not None:
            bad = ~self.blank & ~text.isin(self.spec.choices).fillna(False).to_numpy(bool)
            self.flag(bad, f"must be one of {', '.join(self.spec.choices)}", text)
        if self.spec.pattern is not None:
            ok = text.str.fullmatch(self.spec.pattern.pattern).fillna(True).to_numpy(bool)
            self.flag(~ok, "is not in the expected format", text)
        return text

    def _date(self) -> pd.Series:
        values = self.values
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            parsed = values.astype(DATE_DTYPE)
        else:
            as_text = values.astype("string").str.strip()
            parsed = pd.to_datetime(as_text, format="%Y-%m-%d", errors="coerce")
            self.flag(~self.blank & parsed.isna().to_numpy(), "is not a date YYYY-MM-DD", as_text)
            parsed = parsed.astype(DATE_DTYPE)
        days = np.asarray(parsed, dtype="datetime64[D]").astype(np.int64).astype(float)
        days[np.isnat(np.asarray(parsed, dtype="datetime64[D]"))] = np.nan
        low, high = self.spec.minimum, self.spec.maximum
        if low is not None and high is not None:
            self.flag((days < low) | (days > high), "is outside 1900-01-01 to 2199-12-31")
        return parsed

    def _number(self) -> pd.Series:
        raw = self.values
        numbers = pd.to_numeric(
            raw.astype("string").str.strip() if raw.dtype == object else raw, errors="coerce"
        ).astype("float64")
        array = numbers.to_numpy()
        self.flag(~self.blank & ~np.isfinite(array), "is not a number", raw)
        spec = self.spec
        finite = np.isfinite(array)
        if spec.minimum is not None:
            low = array <= spec.minimum if spec.minimum_exclusive else array < spec.minimum
            sign = ">" if spec.minimum_exclusive else ">="
            self.flag(finite & low, f"must be {sign} {spec.minimum:g}", raw)
        if spec.maximum is not None:
            self.flag(finite & (array > spec.maximum), f"must be <= {spec.maximum:g}", raw)
        if spec.kind == "int":
            self.flag(finite & (array != np.round(array)), "must be a whole number", raw)
            return pd.Series(np.where(finite, array, 0).astype("int64"))
        return numbers

    def _bool(self) -> pd.Series:
        values = self.values
        if pd.api.types.is_bool_dtype(values.dtype):
            return values.astype("boolean")
        text = values.astype("string").str.strip().str.lower()
        truthy = text.isin(_TRUE).fillna(False).to_numpy(bool)
        falsy = text.isin(_FALSE).fillna(False).to_numpy(bool)
        self.flag(~self.blank & ~truthy & ~falsy, "must be true or false", values)
        result = pd.array(np.where(truthy, True, False), dtype="boolean")
        result[~truthy & ~falsy] = pd.NA
        return pd.Series(result)

    def _list(self) -> pd.Series:
        items = [_as_list(v) for v in self.values]
        flat = pd.Series([x for row in items for x in row], dtype=object)
        owner = np.repeat(np.arange(len(items)), [len(row) for row in items])
        if self.spec.kind == "list_int":
            numbers = pd.to_numeric(flat.astype("string").str.strip(), errors="coerce")
            bad_item = numbers.isna().to_numpy() | (numbers.to_numpy() != np.round(numbers))
            low, high = self.spec.minimum, self.spec.maximum
            if low is not None:
                bad_item |= numbers.to_numpy() < low
            if high is not None:
                bad_item |= numbers.to_numpy() > high
            self._flag_items(owner, bad_item, len(items), "must be whole numbers in range")
            clean = numbers.fillna(0).astype("int64").tolist()
        else:
            text = flat.astype("string").str.strip()
            if self.spec.upper:
                text = text.str.upper()
            bad_item = text.isna().to_numpy() | (text == "").to_numpy(bool)
            if self.spec.pattern is not None:
                ok = text.str.fullmatch(self.spec.pattern.pattern).fillna(False).to_numpy(bool)
                bad_item |= ~ok
            self._flag_items(owner, bad_item, len(items), "has an item in the wrong format")
            clean = text.fillna("").tolist()
            if self.spec.name == "diagnosis_codes":
                clean = [normalize_diagnosis(c) for c in clean]
        if self.spec.required:
            empty = np.fromiter((len(r) == 0 for r in items), bool, len(items))
            self.flag(empty & ~self.blank, "must not be empty")
        return pd.Series(_regroup(clean, owner, len(items)), dtype=object)

    def _flag_items(self, owner: np.ndarray, bad_item: np.ndarray, n: int, problem: str) -> None:
        if not bad_item.any():
            return
        bad = np.zeros(n, dtype=bool)
        bad[owner[bad_item]] = True
        self.flag(bad, problem, self.values.map(lambda v: "|".join(map(str, _as_list(v)))))


def _as_list(value: object) -> list[object]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        stripped = value.strip()
        return list(stripped.split("|")) if stripped else []
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    return [value]


def _regroup(flat: list[object], owner: np.ndarray, n: int) -> list[list[object]]:
    groups: list[list[object]] = [[] for _ in range(n)]
    for row, value in zip(owner.tolist(), flat, strict=True):
        groups[row].append(value)
    return groups


@dataclass(frozen=True)
class Normalized:
    """A table in normalised form and the issues its rows had."""

    frame: pd.DataFrame
    issues: list[Issue]
    extra_columns: list[str]


def normalize_table(table: str, raw: pd.DataFrame) -> Normalized:
    """Convert ``raw`` to the normalised form of ``table``; missing required columns raise."""
    specs = table_spec(table)
    missing = [s.name for s in specs if s.required and s.name not in raw.columns]
    if missing:
        raise MissingColumnsError(table, missing)
    columns: dict[str, pd.Series] = {}
    issues: list[Issue] = []
    for spec in specs:
        values = raw[spec.name] if spec.name in raw.columns else pd.Series([None] * len(raw))
        column = _Column(table, spec, values)
        columns[spec.name] = column.convert()
        issues.extend(column.issues)
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(raw)))
    extra = [c for c in raw.columns if c not in columns]
    return Normalized(frame, issues, extra)


class MissingColumnsError(ValueError):
    def __init__(self, table: str, columns: list[str]) -> None:
        self.table, self.columns = table, columns
        super().__init__(f"missing required column(s): {', '.join(columns)}")


def empty_table(table: str) -> pd.DataFrame:
    """A zero-row table in normalised form (a context table the history does not have)."""
    return normalize_table(table, pd.DataFrame({s.name: [] for s in table_spec(table)})).frame
