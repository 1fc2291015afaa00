"""The payers of the simulated world and their rules (static: the same for every seed).

Each rule is a fact a model can learn from past outcomes for that payer (and code): filing
limit, which codes need a prior authorization or an attachment, which codes the plan excludes,
how strictly it enforces modifiers and medical necessity, whether it needs a referral and
whether it checks the rendering provider's enrollment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from features.contract import PlanType

IMAGING_AUTH = frozenset({"72148", "73721", "70553"})
PREVENTIVE_CODES = frozenset({"99385", "99386", "99387", "99395", "99396", "99397"})


@dataclass(frozen=True)
class Payer:
    """One payer and the rules it adjudicates by."""

    payer_id: str
    name: str
    plan_type: PlanType
    filing_limit_days: int
    auth_codes: frozenset[str]
    attachment_codes: frozenset[str] = frozenset()
    non_covered_codes: frozenset[str] = frozenset()
    non_covered_carc: str = "96"
    referral_required: bool = False  # HMO-like: specialist claims need a referral number
    mod25_strictness: float = 0.5  # P(deny E/M) when E/M + minor procedure lacks modifier 25
    telehealth_strictness: float = 0.3  # P(deny) telehealth POS 02/10 without modifier 95
    medical_necessity_strictness: float = 0.5  # P(deny) a line no pointed diagnosis supports
    screening_labs_covered: bool = True  # labs pointed only at Z00.0x pass medical necessity
    checks_rendering_enrollment: bool = True
    records_review_over: float | None = None  # total_charge above which records are requested
    allowed_ratio: float = 0.6
    adjudication_days: tuple[int, int] = (7, 18)  # minimum, median
    background_rate: float = 0.01  # hidden payer edits that no claim fact explains
    member_id_pattern: str = "AAA999999"  # A letter, 9 digit, M Medicare MBI, other literal
    copay: float = 0.0
    coinsurance: float = 0.0
    sequestration: bool = False
    market_share: float = 1.0  # weight among payers of its plan type


@dataclass(frozen=True)
class PolicyChange:
    """A payer starts requiring prior authorization for a code on a date."""

    payer_id: str
    procedure_code: str
    effective: dt.date
    kind: str = "prior_authorization_required"
    description: str = field(default="", compare=False)


PAYERS: tuple[Payer, ...] = (
    Payer(
        "60054", "Evergreen Mutual PPO", "commercial", 120,
        auth_codes=frozenset({"70553", "95810"}),
        non_covered_codes=frozenset({"17110"}),
        mod25_strictness=0.85, telehealth_strictness=0.2, medical_necessity_strictness=0.42,
        allowed_ratio=0.62, adjudication_days=(6, 14), background_rate=0.008,
        member_id_pattern="W99999999", copay=30.0, coinsurance=0.0, market_share=0.5,
    ),
    Payer(
        "87726", "Summit Health HMO", "commercial", 90,
        auth_codes=IMAGING_AUTH | {"64483", "95810", "97110", "97140"},
        attachment_codes=frozenset({"64483", "95810"}),
        referral_required=True,
        mod25_strictness=0.9, telehealth_strictness=0.85, medical_necessity_strictness=0.55,
        allowed_ratio=0.55, adjudication_days=(8, 20), background_rate=0.011,
        member_id_pattern="999999999", copay=25.0, market_share=0.22,
    ),
    Payer(
        "62308", "Keystone Benefit Plans (grandfathered)", "commercial", 180,
        auth_codes=frozenset({"70553", "64483", "95810"}),
        non_covered_codes=PREVENTIVE_CODES,
        non_covered_carc="204",
        mod25_strictness=0.15, telehealth_strictness=0.1, medical_necessity_strictness=0.26,
        allowed_ratio=0.68, adjudication_days=(7, 16), background_rate=0.007,
        member_id_pattern="U99999999", copay=35.0, market_share=0.14,
    ),
    Payer(
        "00590", "Bluebonnet Blue Cross", "commercial", 180,
        auth_codes=IMAGING_AUTH | {"64483", "95810"},
        attachment_codes=frozenset({"95810", "45380"}),
        mod25_strictness=0.6, telehealth_strictness=0.6, medical_necessity_strictness=0.38,
        records_review_over=1800.0,
        allowed_ratio=0.6, adjudication_days=(6, 15), background_rate=0.009,
        member_id_pattern="AAA999999", copay=30.0, market_share=0.28,
    ),
    Payer(
        "04412", "Medicare Part B (MAC J-L)", "medicare", 365,
        auth_codes=frozenset(),
        non_covered_codes=PREVENTIVE_CODES | {"17110"},
        non_covered_carc="49",
        mod25_strictness=0.9, telehealth_strictness=0.05, medical_necessity_strictness=0.72,
        screening_labs_covered=False,
        allowed_ratio=0.42, adjudication_days=(14, 16), background_rate=0.006,
        member_id_pattern="M", coinsurance=0.2, sequestration=True,
    ),
    Payer(
        "61101", "Silverline Medicare Advantage", "medicare_advantage", 180,
        auth_codes=IMAGING_AUTH | {"64483", "95810", "97110", "97140", "45380"},
        non_covered_codes=PREVENTIVE_CODES,
        non_covered_carc="96",
        mod25_strictness=0.85, telehealth_strictness=0.5, medical_necessity_strictness=0.64,
        screening_labs_covered=False, records_review_over=1500.0,
        allowed_ratio=0.45, adjudication_days=(8, 20), background_rate=0.012,
        member_id_pattern="SL999999999", copay=20.0, sequestration=True, market_share=0.6,
    ),
    Payer(
        "07205", "Harbor Senior Advantage", "medicare_advantage", 120,
        auth_codes=IMAGING_AUTH | {"64483", "95810"},
        non_covered_codes=PREVENTIVE_CODES,
        non_covered_carc="96",
        mod25_strictness=0.7, telehealth_strictness=0.4, medical_necessity_strictness=0.59,
        screening_labs_covered=False,
        allowed_ratio=0.44, adjudication_days=(9, 22), background_rate=0.01,
        member_id_pattern="H9999999999", copay=15.0, sequestration=True, market_share=0.4,
    ),
    Payer(
        "77027", "State Medicaid Managed Care", "medicaid", 95,
        auth_codes=IMAGING_AUTH | {"64483", "95810", "97110", "97140"},
        attachment_codes=frozenset({"64483", "95810", "70553"}),
        non_covered_codes=frozenset({"17110"}),
        referral_required=True,
        mod25_strictness=0.8, telehealth_strictness=0.7, medical_necessity_strictness=0.51,
        allowed_ratio=0.35, adjudication_days=(12, 28), background_rate=0.014,
        member_id_pattern="99999999A",
    ),
    Payer(
        "99726", "Tricare Regional", "tricare", 365,
        auth_codes=frozenset({"70553", "64483", "95810"}),
        attachment_codes=frozenset({"95810"}),
        referral_required=True,
        mod25_strictness=0.6, telehealth_strictness=0.3, medical_necessity_strictness=0.42,
        allowed_ratio=0.5, adjudication_days=(10, 21), background_rate=0.01,
        member_id_pattern="99999999999", copay=15.0,
    ),
    Payer(
        "09102", "Granite Workers Compensation", "workers_comp", 90,
        auth_codes=frozenset({"72148", "73721", "64483", "97110", "97140"}),
        attachment_codes=frozenset({"99203", "99204", "99213", "99214", "97161"}),
        non_covered_codes=PREVENTIVE_CODES | {"90686", "90471", "90715", "G0439"},
        checks_rendering_enrollment=False,
        mod25_strictness=0.5, telehealth_strictness=0.3, medical_necessity_strictness=0.3,
        allowed_ratio=0.8, adjudication_days=(12, 30), background_rate=0.012,
        member_id_pattern="WC9999999",
    ),
)  # fmt: skip

PAYER_INDEX: dict[str, int] = {p.payer_id: i for i, p in enumerate(PAYERS)}
POLICY_PAYER = "60054"
POLICY_CODE = "72148"


def policy_changes(start: dt.date, months: int) -> tuple[PolicyChange, ...]:
    """The mid-history policy change(s): at about two thirds of the history, on a 1st."""
    month = round(months * 2 / 3)
    year, month0 = divmod(start.month - 1 + month, 12)
    effective = dt.date(start.year + year, month0 + 1, 1)
    return (
        PolicyChange(
            POLICY_PAYER,
            POLICY_CODE,
            effective,
            description=(
                "Evergreen Mutual PPO requires prior authorization for lumbar spine MRI "
                "(72148) for dates of service on or after the effective date."
            ),
        ),
    )


def payer_rules(payer: Payer) -> dict[str, Any]:
    """A payer's rules as plain JSON-able data (for world.json)."""
    data = asdict(payer)
    for key, value in data.items():
        if isinstance(value, frozenset):
            data[key] = sorted(value)
        elif isinstance(value, tuple):
            data[key] = list(value)
    return data
