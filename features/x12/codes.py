"""Code lists the X12 layer maps: SBR09 / CLP06 claim filing indicator <-> plan_type."""

from __future__ import annotations

from typing import Final

# SBR09 claim filing indicator code (5010 and 4010) -> contract plan_type.
FILING_INDICATOR_PLAN: Final[dict[str, str]] = {
    "MA": "medicare",  # Medicare Part A
    "MB": "medicare",  # Medicare Part B
    "16": "medicare_advantage",  # HMO Medicare Risk
    "MC": "medicaid",
    "CH": "tricare",  # Champus
    "WC": "workers_comp",
    "CI": "commercial",
    "BL": "commercial",  # Blue Cross/Blue Shield
    "HM": "commercial",  # HMO
    "12": "commercial",  # PPO
    "13": "commercial",  # POS
    "14": "commercial",  # EPO
    "15": "commercial",  # Indemnity
    "17": "commercial",  # Dental Maintenance Organization
    "FI": "commercial",  # Federal Employees Program (carrier-administered)
}

# contract plan_type -> the code the writer puts in SBR09 / CLP06 (reads back to the same).
PLAN_FILING_INDICATOR: Final[dict[str, str]] = {
    "medicare": "MB",
    "medicare_advantage": "16",
    "medicaid": "MC",
    "tricare": "CH",
    "workers_comp": "WC",
    "commercial": "CI",
    "other": "ZZ",
}

ADJUSTMENT_GROUPS: Final[frozenset[str]] = frozenset({"CO", "OA", "PI", "PR", "CR"})
REVERSAL_STATUS: Final[str] = "22"

# HI code list qualifiers read as diagnoses: ICD-10-CM principal / other, ICD-9-CM ones.
ICD10_PRINCIPAL, ICD10_OTHER = "ABK", "ABF"
ICD9_PRINCIPAL, ICD9_OTHER = "BK", "BF"
DIAGNOSIS_QUALIFIERS: Final[frozenset[str]] = frozenset(
    {ICD10_PRINCIPAL, ICD10_OTHER, ICD9_PRINCIPAL, ICD9_OTHER}
)


def plan_type(filing_indicator: str) -> str:
    """SBR09 -> plan_type; unknown or empty codes are ``other``."""
    return FILING_INDICATOR_PLAN.get(filing_indicator.strip().upper(), "other")
