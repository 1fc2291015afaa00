"""What "a reason" is, for the API, the analytics and the promotion gate alike.

Reasons work like adverse-action codes in credit scoring: exact TreeSHAP in log-odds from
LightGBM's ``pred_contrib``, summed over the features of each category; only categories that
push toward denial by at least ``REASON_FLOOR``, at most ``MAX_REASONS``, strongest first
(ties by the contract's category order).
"""

from __future__ import annotations

import numpy as np

from features.categories import CATEGORIES, Category

REASON_FLOOR = 0.15  # log-odds: below this a category is not worth a biller's time
MAX_REASONS = 4


def top_reasons(category_contributions: np.ndarray) -> list[list[tuple[Category, float]]]:
    """Per row: (category, contribution) of its reasons, strongest first."""
    result = []
    for row in category_contributions:
        order = sorted(
            (i for i in range(len(CATEGORIES)) if row[i] >= REASON_FLOOR),
            key=lambda i: (-row[i], i),
        )[:MAX_REASONS]
        result.append([(CATEGORIES[i], float(row[i])) for i in order])
    return result


def top_reason(category_contributions: np.ndarray) -> np.ndarray:
    """Per row: the category of the first reason, None when no category reaches the floor."""
    return np.array(
        [reasons[0][0] if reasons else None for reasons in top_reasons(category_contributions)],
        dtype=object,
    )


def reason_mask(category_contributions: np.ndarray) -> np.ndarray:
    """(rows x categories) True where the category is one of the row's reasons."""
    mask = np.zeros(category_contributions.shape, dtype=bool)
    for row, reasons in enumerate(top_reasons(category_contributions)):
        mask[row, [CATEGORIES.index(category) for category, _ in reasons]] = True
    return mask
