"""The cells emerging-pattern detection watches, and their daily sums.

A cell is a slice of claims whose denial rate has a past of its own:

- ``payer_code``: claims of a payer billing a procedure code (a claim counts once per code);
- ``payer_category``: claims of a payer, counting as denied those denied in one category;
- ``provider_payer``: claims of a provider (rendering NPI, else billing) at a payer.

Two untested parent kinds give each cell the prior its baseline is shrunk toward: ``payer``
(all claims of a payer) for payer x code and provider x payer cells, ``category`` (all claims,
denied in one category) for payer x category cells.

Daily sums are stored cumulatively (cells x days), so the sum over any window of days is one
subtraction: a weekly scan of two years costs milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from features.categories import CATEGORIES

TESTED_KINDS = ("payer_code", "payer_category", "provider_payer")
PARENT_KINDS = ("payer", "category")
KEY_COLUMNS = ("payer_id", "procedure_code", "category", "provider_npi")
N_CATEGORIES = len(CATEGORIES)


@dataclass(frozen=True)
class CellIndex:
    """Which claims (rows of the adjudicated claim table) belong to which cells."""

    cells: pd.DataFrame  # kind, payer_id, procedure_code, category, provider_npi, label
    parent: np.ndarray  # per cell: its parent cell, -1 for the parents themselves
    tested: np.ndarray  # per cell: a kind the caller asked to test
    member_claim: np.ndarray  # (claim row, cell) pairs of the plain kinds
    member_cell: np.ndarray
    expanded: tuple[np.ndarray, ...]  # per category-expanded kind: base cell id per claim row

    def __len__(self) -> int:
        return len(self.cells)

    @cached_property
    def kind_codes(self) -> np.ndarray:
        """Per cell: its kind as an integer (one per kind present)."""
        return pd.factorize(self.cells["kind"])[0]

    def sums(
        self, day: np.ndarray, n_days: int, values: np.ndarray, by_category: np.ndarray
    ) -> np.ndarray:
        """Cumulative daily sums (cells x n_days + 1, first column 0): ``values`` (per claim)
        for the plain kinds, ``by_category[:, c]`` for category c of the expanded kinds."""
        size = len(self) * n_days
        total = np.bincount(
            self.member_cell * n_days + day[self.member_claim],
            weights=values[self.member_claim],
            minlength=size,
        )
        for base in self.expanded:
            for c in range(N_CATEGORIES):
                total += np.bincount(
                    (base + c) * n_days + day, weights=by_category[:, c], minlength=size
                )
        daily = total.reshape(len(self), n_days)
        return np.concatenate([np.zeros((len(self), 1)), np.cumsum(daily, axis=1)], axis=1)


def _label(kind: str, payer: str, code: str, category: str, npi: str) -> str:
    return {
        "payer": f"payer {payer}",
        "category": f"{category} denials (all payers)",
        "payer_code": f"payer {payer} x code {code}",
        "payer_category": f"payer {payer} x {category} denials",
        "provider_payer": f"provider {npi} x payer {payer}",
    }[kind]


def _frame(kind: str, **keys: np.ndarray | str) -> pd.DataFrame:
    n = max(len(v) for v in keys.values() if not isinstance(v, str))
    columns = {name: keys.get(name, np.full(n, "", dtype=object)) for name in KEY_COLUMNS}
    return pd.DataFrame({"kind": kind, **columns})


def build_cells(
    claims: pd.DataFrame, codes: pd.DataFrame, kinds: tuple[str, ...] = TESTED_KINDS
) -> CellIndex:
    """Cells of the adjudicated ``claims`` (``tables.claim_outcomes`` rows) and their codes
    (``tables.claim_codes``); ``kinds`` are the ones to test."""
    unknown = set(kinds) - set(TESTED_KINDS)
    if unknown:
        raise ValueError(f"unknown pattern kinds {sorted(unknown)}; choose from {TESTED_KINDS}")
    n = len(claims)
    payer_idx, payers = pd.factorize(claims["payer_id"], sort=True)
    n_payers = len(payers)
    payers = np.asarray(payers, dtype=object)
    categories = np.asarray(CATEGORIES, dtype=object)
    frames: list[pd.DataFrame] = []
    member_claim: list[np.ndarray] = []
    member_cell: list[np.ndarray] = []
    expanded: list[np.ndarray] = []
    parents: list[np.ndarray] = []
    offset = 0

    def add(frame: pd.DataFrame, parent: np.ndarray) -> int:
        nonlocal offset
        start = offset
        frames.append(frame)
        parents.append(parent)
        offset += len(frame)
        return start

    payer_base = add(_frame("payer", payer_id=payers), np.full(n_payers, -1))
    member_claim.append(np.arange(n))
    member_cell.append(payer_base + payer_idx)
    category_base = add(_frame("category", category=categories), np.full(N_CATEGORIES, -1))
    expanded.append(np.full(n, category_base))

    if "payer_code" in kinds:
        rows = pd.Index(claims["claim_id"]).get_indexer(codes["claim_id"])
        rows, code_values = rows[rows >= 0], codes["procedure_code"].to_numpy(object)[rows >= 0]
        code_idx, code_names = pd.factorize(code_values, sort=True)
        pair, first = np.unique(payer_idx[rows] * len(code_names) + code_idx, return_inverse=True)
        cell_payer = pair // len(code_names)
        base = add(
            _frame(
                "payer_code",
                payer_id=payers[cell_payer],
                procedure_code=np.asarray(code_names, dtype=object)[pair % len(code_names)],
            ),
            payer_base + cell_payer,
        )
        member_claim.append(rows)
        member_cell.append(base + first)
    if "payer_category" in kinds:
        cell_payer = np.repeat(np.arange(n_payers), N_CATEGORIES)
        base = add(
            _frame(
                "payer_category",
                payer_id=payers[cell_payer],
                category=np.tile(categories, n_payers),
            ),
            category_base + np.tile(np.arange(N_CATEGORIES), n_payers),
        )
        expanded.append(base + payer_idx * N_CATEGORIES)
    if "provider_payer" in kinds:
        npi_idx, npis = pd.factorize(claims["provider_npi"], sort=True)
        pair, inverse = np.unique(npi_idx * n_payers + payer_idx, return_inverse=True)
        cell_payer = pair % n_payers
        base = add(
            _frame(
                "provider_payer",
                payer_id=payers[cell_payer],
                provider_npi=np.asarray(npis, dtype=object)[pair // n_payers],
            ),
            payer_base + cell_payer,
        )
        member_claim.append(np.arange(n))
        member_cell.append(base + inverse)

    cells = pd.concat(frames, ignore_index=True)
    cells["label"] = [
        _label(*row) for row in cells[["kind", *KEY_COLUMNS]].itertuples(index=False, name=None)
    ]
    return CellIndex(
        cells=cells,
        parent=np.concatenate(parents).astype(np.int64),
        tested=cells["kind"].isin(kinds).to_numpy(),
        member_claim=np.concatenate(member_claim),
        member_cell=np.concatenate(member_cell).astype(np.int64),
        expanded=tuple(expanded),
    )


def category_matrix(category: pd.Series) -> np.ndarray:
    """(claims x categories) one-hot of each claim's denial category (all zero if paid)."""
    index = pd.Index(CATEGORIES).get_indexer(category.fillna("").astype(str))
    matrix = np.zeros((len(category), N_CATEGORIES))
    rows = np.flatnonzero(index >= 0)
    matrix[rows, index[rows]] = 1.0
    return matrix


def members(index: CellIndex, cell: int, n_claims: int) -> np.ndarray:
    """Boolean mask of the claim rows in ``cell`` (for a category-expanded cell: all claims
    of its payer, or all claims)."""
    mask = np.zeros(n_claims, dtype=bool)
    mask[index.member_claim[index.member_cell == cell]] = True
    for base in index.expanded:
        mask |= (cell - base >= 0) & (cell - base < N_CATEGORIES)
    return mask
