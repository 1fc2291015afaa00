"""Identifiers: NPIs with a valid Luhn check digit, payer-shaped member ids, key strings.

Everything is vectorised: ids are built as byte matrices or with pyarrow string kernels.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_LETTERS = np.frombuffer(b"ABCDEFGHJKLMNPQRSTUVWXYZ", np.uint8)  # no I, O
_MBI_LETTERS = np.frombuffer(b"ACDEFGHJKMNPQRTUVWXY", np.uint8)  # CMS excludes S L O I B Z
_DIGITS = np.frombuffer(b"0123456789", np.uint8)
_MBI = "CANDANDAADD"  # C 1-9, A letter, N letter or digit, D digit


def npi_check_digit(base9: np.ndarray) -> np.ndarray:
    """Luhn check digit of 9-digit NPI bases, with the 80840 card-issuer prefix (+24)."""
    digits = (base9[:, None] // 10 ** np.arange(8, -1, -1)) % 10  # left to right
    doubled = digits[:, 0::2] * 2
    total = (doubled // 10 + doubled % 10).sum(1) + digits[:, 1::2].sum(1) + 24
    return (10 - total % 10) % 10


def npi_is_valid(npis: np.ndarray) -> np.ndarray:
    """10-digit NPIs (as int64) whose last digit is the Luhn check digit."""
    return npi_check_digit(npis // 10) == npis % 10


def make_npis(
    rng: np.random.Generator, n: int, first: int = 1, block: tuple[int, int] = (0, 1)
) -> np.ndarray:
    """n distinct valid NPIs (int64): type 1 (individual) start with 1, type 2 with 2; block
    (k, blocks): drawn from the k-th of ``blocks`` equal ranges, so blocks never share one."""
    k, blocks = block
    size = 10**8 // blocks
    base = first * 10**8 + k * size + rng.choice(size, size=n, replace=False).astype(np.int64)
    return base * 10 + npi_check_digit(base)


def npi_typo(rng: np.random.Generator, npis: np.ndarray) -> np.ndarray:
    """Change one digit (positions 2-9): the Luhn check then fails, as keying errors do."""
    power = 10 ** rng.integers(1, 9, size=len(npis)).astype(np.int64)
    digit = (npis // power) % 10
    new = (digit + rng.integers(1, 10, size=len(npis))) % 10
    return npis + (new - digit) * power


def _fill(rng: np.random.Generator, pattern: str, n: int) -> np.ndarray:
    """n ids shaped like pattern as an (n, len) uint8 matrix."""
    out = np.empty((n, len(pattern)), np.uint8)
    for i, ch in enumerate(pattern):
        if ch == "9" or ch == "D":
            out[:, i] = _DIGITS[rng.integers(0, 10, n)]
        elif ch == "C":
            out[:, i] = _DIGITS[rng.integers(1, 10, n)]
        elif ch == "A":
            out[:, i] = (_MBI_LETTERS if pattern == _MBI else _LETTERS)[
                rng.integers(0, len(_MBI_LETTERS if pattern == _MBI else _LETTERS), n)
            ]
        elif ch == "N":
            pool = np.concatenate([_MBI_LETTERS, _DIGITS])
            out[:, i] = pool[rng.integers(0, len(pool), n)]
        else:
            out[:, i] = ord(ch)
    return out


def member_ids(rng: np.random.Generator, pattern: str, n: int) -> np.ndarray:
    """n member ids for a payer's pattern ("M" = Medicare Beneficiary Identifier)."""
    pattern = _MBI if pattern == "M" else pattern
    return _as_str(_fill(rng, pattern, n))


def member_typos(rng: np.random.Generator, ids: np.ndarray) -> np.ndarray:
    """Each id with one digit mistyped (a letter when it has no digit)."""
    raw = ids.astype("S")
    width = raw.dtype.itemsize
    chars = raw.view(np.uint8).reshape(len(ids), width).copy()
    is_digit = (chars >= ord("0")) & (chars <= ord("9"))
    candidates = np.where(is_digit.any(1, keepdims=True), is_digit, chars > 0)
    spot = np.argmax(np.where(candidates, rng.random(chars.shape), -1.0), axis=1)
    rows = np.arange(len(ids))
    old = chars[rows, spot]
    digit = is_digit[rows, spot]
    shift = rng.integers(1, 10, len(ids)).astype(np.uint8)
    chars[rows, spot] = np.where(
        digit,
        ord("0") + (old - ord("0") + shift) % 10,
        np.where(old == ord("X"), ord("K"), ord("X")),
    )
    return _as_str(chars)


def _as_str(matrix: np.ndarray) -> np.ndarray:
    width = matrix.shape[1]
    return np.ascontiguousarray(matrix).view(f"S{width}").ravel().astype(object).astype(str)


def id_strings(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """prefix + zero-padded numbers, as an arrow string array (C++ kernels, no Python loop)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def npi_strings(npis: np.ndarray) -> pa.Array:
    """10-digit NPIs as strings."""
    return pc.cast(pa.array(npis, pa.int64()), pa.string())
