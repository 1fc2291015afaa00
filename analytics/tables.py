"""One row per claim with its first-pass outcome, the shape every analytic starts from.

Only fields an analyst aggregates are kept: no member, patient, birth date or diagnosis
columns ever leave this module, so nothing downstream can put them in a report.
"""

from __future__ import annotations

import pandas as pd

from features.history import History

CLAIM_FIELDS = (
    "claim_id",
    "payer_id",
    "payer_name",
    "plan_type",
    "billing_npi",
    "rendering_npi",
    "place_of_service",
    "frequency_code",
    "service_date",
    "submission_date",
    "total_charge",
)


def claim_outcomes(history: History) -> pd.DataFrame:
    """Claims with their outcome: ``adjudicated`` (bool), ``denied`` (bool, False while
    pending), ``denial_category`` / ``denial_carc`` (NA unless denied), ``adjudication_date``
    ``paid_amount`` and ``remark_codes`` (NaT/NaN while pending), and ``provider_npi``
    (rendering, else billing).
    """
    claims = history.claims.loc[:, list(CLAIM_FIELDS)]
    outcomes = history.outcomes.loc[
        :, ["claim_id", "adjudication_date", "paid_amount", "remark_codes"]
    ]
    labels = history.labels.labels
    frame = claims.merge(outcomes, on="claim_id", how="left", validate="one_to_one").merge(
        labels, on="claim_id", how="left", validate="one_to_one"
    )
    frame["adjudicated"] = frame["denied"].notna().to_numpy(bool)
    frame["denied"] = frame["denied"].fillna(False).astype(bool)
    frame["provider_npi"] = frame["rendering_npi"].fillna(frame["billing_npi"])
    frame["denied_charge"] = frame["total_charge"].where(frame["denied"], 0.0)
    return frame


def claim_codes(history: History) -> pd.DataFrame:
    """Distinct (claim_id, procedure_code) pairs: a claim counts once per code it bills."""
    pairs = history.claim_lines.loc[:, ["claim_id", "procedure_code"]]
    return pairs.drop_duplicates().reset_index(drop=True)


def with_codes(claims: pd.DataFrame, codes: pd.DataFrame) -> pd.DataFrame:
    """One row per claim and procedure code it bills (claim fields repeated)."""
    return claims.merge(codes, on="claim_id", how="inner", validate="one_to_many")


def payer_names(claims: pd.DataFrame) -> dict[str, str]:
    """The name each payer id goes by in the history (its most frequent), where it has one."""
    named = claims.loc[claims["payer_name"].notna(), ["payer_id", "payer_name"]]
    if named.empty:
        return {}
    counts = named.value_counts().reset_index(name="n")
    first = counts.sort_values(["n", "payer_name"], ascending=[False, True])
    return dict(first.drop_duplicates("payer_id").loc[:, ["payer_id", "payer_name"]].values)
