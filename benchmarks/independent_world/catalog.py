"""Static tables of the independent world: procedures, diagnoses, payers and their dialects.

Everything here is written from billing practice (CMS NCCI/MUE, LCDs, payer manuals), not from
claimrisk's feature code. Codes are real CPT/HCPCS/ICD-10-CM; fees and rates are plausible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- procedures -------------------------------------------------------------------------------

# code -> (fee in dollars, medically unlikely edit: max units per line/day)
FEES: dict[str, tuple[float, int]] = {
    "99203": (165.0, 1),
    "99204": (245.0, 1),
    "99213": (125.0, 1),
    "99214": (180.0, 1),
    "99215": (250.0, 1),
    "99395": (210.0, 1),
    "99396": (225.0, 1),
    "99397": (240.0, 1),
    "G0439": (175.0, 1),
    "99490": (95.0, 1),
    "36415": (12.0, 2),
    "80053": (38.0, 1),
    "85025": (28.0, 1),
    "83036": (35.0, 1),
    "80061": (42.0, 1),
    "93000": (55.0, 1),
    "71046": (95.0, 1),
    "20610": (145.0, 1),
    "J3301": (4.5, 8),
    "96372": (40.0, 1),
    "J1885": (3.0, 8),
    "90686": (32.0, 1),
    "90471": (28.0, 1),
    "G0008": (28.0, 1),
    "11102": (130.0, 1),
    "17110": (120.0, 1),
    "73562": (85.0, 1),
    "73721": (780.0, 1),
    "73722": (880.0, 1),
    "72148": (820.0, 1),
    "72149": (910.0, 1),
    "70551": (850.0, 1),
    "70553": (1150.0, 1),
    "97110": (48.0, 4),
    "97140": (45.0, 3),
    "97530": (52.0, 3),
    "97161": (110.0, 1),
    "97810": (70.0, 1),
}

EM_CODES = frozenset({"99203", "99204", "99213", "99214", "99215"})
PREVENTIVE = {"99395": (18, 39), "99396": (40, 64), "99397": (65, 120)}
PT_CODES = frozenset({"97110", "97140", "97530"})
IMAGING_CONTRAST = {"73721": "73722", "72148": "72149", "70551": "70553"}

# NCCI-style column-1/column-2 pairs: the column-2 code is denied when billed with the column-1
# code on the same day unless the modifier shown is on it. "EM" stands for any E/M code, and for
# E/M the modifier goes on the E/M line (modifier 25), as NCCI's global-surgery rules require.
NCCI_PAIRS: list[tuple[str, str, frozenset[str]]] = [
    ("20610", "EM", frozenset({"25"})),
    ("96372", "EM", frozenset({"25"})),
    ("17110", "EM", frozenset({"25"})),
    ("11102", "EM", frozenset({"25"})),
    ("97530", "97140", frozenset({"59", "XU", "XS"})),
    ("11102", "17110", frozenset({"59", "XS"})),
]

# --- diagnoses --------------------------------------------------------------------------------

CONDITIONS: dict[str, list[str]] = {
    "diabetes": ["E11.9", "E11.65", "E11.22"],
    "prediabetes": ["R73.03"],
    "hypertension": ["I10"],
    "lipids": ["E78.5", "E78.2"],
    "afib": ["I48.91"],
    "copd": ["J44.9"],
    "knee_oa": ["M17.11", "M17.12", "M25.561"],
    "back": ["M54.50", "M51.26", "M54.16"],
    "shoulder": ["M75.101", "M25.511"],
    "headache": ["G43.909", "R51.9"],
    "skin": ["B07.8", "L82.1", "D48.5"],
    "acute": ["J06.9", "R05.9", "R07.9", "R42", "J02.9"],
}
CHRONIC = ("diabetes", "hypertension", "lipids", "afib", "copd", "knee_oa", "back")
SCREENING = {"general": "Z00.00", "lipid": "Z13.220", "diabetes": "Z13.1", "preop": "Z01.810"}

# procedure -> diagnoses (prefixes) a line must point to for an LCD-enforcing payer to pay it
LCD_SUPPORT: dict[str, tuple[str, ...]] = {
    "83036": ("E11", "E13", "R73", "Z13.1"),
    "80061": ("E78", "I48", "I25", "Z13.220"),
    "93000": ("I10", "I48", "R07", "R42", "R00", "Z01.810"),
    "72148": ("M54", "M51", "M48"),
    "72149": ("M54", "M51", "M48"),
    "73721": ("M17", "M25.56", "M23", "S83"),
    "73722": ("M17", "M25.56", "M23", "S83"),
    "70551": ("G43", "R51", "R42", "G35"),
    "70553": ("G43", "R51", "R42", "G35"),
    "20610": ("M17", "M25.56", "M75", "M25.51", "M19"),
    "J3301": ("M17", "M25.56", "M75", "M25.51", "M19"),
    "71046": ("J44", "R05", "J18", "R06", "R07", "Z01.810"),
    "97110": ("M17", "M54", "M51", "M75", "M25", "M62"),
    "97140": ("M17", "M54", "M51", "M75", "M25", "M62"),
    "97530": ("M17", "M54", "M51", "M75", "M25", "M62"),
}

# --- payers -----------------------------------------------------------------------------------

CAUSES = (
    "eligibility_terminated",
    "member_id_mismatch",
    "timely_filing",
    "duplicate_resubmission",
    "credentialing_gap",
    "cob_other_primary",
    "missing_rendering_npi",
    "auth_missing",
    "auth_expired_or_window",
    "auth_other_provider",
    "auth_other_codes",
    "auth_units_exhausted",
    "auth_number_unmatched",
    "referral_missing",
    "ncci_pair_modifier",
    "mue_units",
    "age_code_mismatch",
    "telehealth_modifier",
    "wrong_payer_code",
    "diagnosis_not_supported",
    "frequency_limit",
    "non_covered_plan",
    "records_request_unanswered",
    "payer_system_glitch",
    "random_noise",
)


@dataclass(frozen=True)
class Payer:
    """One payer: its plan type, filing limit, auth list, review habits and CARC dialect."""

    payer_id: str
    name: str
    plan_type: str
    filing_limit: int
    # (day offset into the history, new filing limit): a contract amendment nobody announced
    filing_change: tuple[int, int] | None
    auth_codes: frozenset[str]
    # (day offset, codes added, codes dropped): auth list change the practice is not told of
    auth_change: tuple[int, frozenset[str], frozenset[str]] | None
    checks_auth_provider: bool
    enforces_lcd: float  # probability an unsupported-diagnosis line is caught
    adjudication_days: float
    allowed_share: float
    noise: float
    member_id_style: str
    # mechanism -> (CARC, RARC or "") as this payer reports it
    dialect: dict[str, tuple[str, str]] = field(default_factory=dict)


_BASE_DIALECT: dict[str, tuple[str, str]] = {
    "eligibility_terminated": ("27", "N30"),
    "member_id_mismatch": ("31", ""),
    "timely_filing": ("29", ""),
    "duplicate_resubmission": ("18", "N522"),
    "credentialing_gap": ("185", "N290"),
    "cob_other_primary": ("22", "MA04"),
    "missing_rendering_npi": ("16", "N290"),
    "auth_missing": ("197", "N54"),
    "auth_expired_or_window": ("197", "N54"),
    "auth_other_provider": ("15", "N54"),
    "auth_other_codes": ("15", "N54"),
    "auth_units_exhausted": ("198", "N362"),
    "auth_number_unmatched": ("15", "N54"),
    "referral_missing": ("243", "N54"),
    "ncci_pair_modifier": ("97", "M80"),
    "mue_units": ("151", "N362"),
    "age_code_mismatch": ("6", "N129"),
    "telehealth_modifier": ("5", "M77"),
    "wrong_payer_code": ("181", "M51"),
    "diagnosis_not_supported": ("11", "M76"),
    "frequency_limit": ("119", "N362"),
    "non_covered_plan": ("204", "N130"),
    "records_request_unanswered": ("252", "N706"),
    "payer_system_glitch": ("16", "MA130"),
    "random_noise": ("16", "MA130"),
}


def _dialect(**overrides: tuple[str, str]) -> dict[str, tuple[str, str]]:
    return {**_BASE_DIALECT, **overrides}


_IMAGING = frozenset({"73721", "73722", "72148", "72149", "70551", "70553"})

PAYERS: dict[str, Payer] = {
    p.payer_id: p
    for p in [
        Payer(
            "MCR01",
            "Medicare Part B (MAC)",
            "medicare",
            365,
            None,
            frozenset(),
            None,
            False,
            0.92,
            15.0,
            0.42,
            0.006,
            "mbi",
            _dialect(
                credentialing_gap=("B7", "N570"),
                diagnosis_not_supported=("50", "N386"),
                records_request_unanswered=("16", "M127"),
                non_covered_plan=("49", "N130"),
                cob_other_primary=("22", "MA04"),
                wrong_payer_code=("4", "M51"),
                frequency_limit=("119", "N117"),
            ),
        ),
        Payer(
            "MA001",
            "Medicare Advantage HMO",
            "medicare_advantage",
            180,
            None,
            _IMAGING | {"20610"},
            (210, frozenset({"97110", "97140", "97530"}), frozenset()),
            True,
            0.85,
            21.0,
            0.40,
            0.008,
            "alnum",
            _dialect(
                credentialing_gap=("242", "N570"),
                diagnosis_not_supported=("11", "M76"),
                auth_other_codes=("198", "N54"),
                non_covered_plan=("96", "N130"),
            ),
        ),
        Payer(
            "BCX10",
            "Blue Cross commercial PPO",
            "commercial",
            180,
            None,
            _IMAGING,
            (270, frozenset({"97110", "97140", "97530"}), frozenset()),
            False,
            0.55,
            18.0,
            0.55,
            0.007,
            "prefix",
            _dialect(
                ncci_pair_modifier=("236", "M80"),
                member_id_mismatch=("140", ""),
                records_request_unanswered=("252", "N706"),
            ),
        ),
        Payer(
            "AET20",
            "Aetna-style commercial",
            "commercial",
            180,
            (240, 90),
            _IMAGING,
            None,
            True,
            0.6,
            21.0,
            0.52,
            0.008,
            "alnum",
            _dialect(
                auth_missing=("62", "N54"),
                auth_expired_or_window=("62", "N54"),
                mue_units=("119", "N362"),
                diagnosis_not_supported=("50", "N386"),
                credentialing_gap=("170", "N95"),
                records_request_unanswered=("16", "N706"),
                member_id_mismatch=("33", ""),
            ),
        ),
        Payer(
            "UHC30",
            "United-style commercial",
            "commercial",
            90,
            None,
            _IMAGING,
            (180, frozenset({"20610"}), frozenset({"70551", "70553"})),
            True,
            0.5,
            16.0,
            0.50,
            0.007,
            "numeric",
            _dialect(
                ncci_pair_modifier=("4", "N657"),
                diagnosis_not_supported=("167", "N386"),
                credentialing_gap=("242", "N570"),
                records_request_unanswered=("226", "N706"),
            ),
        ),
        Payer(
            "MCD77",
            "State Medicaid managed care",
            "medicaid",
            120,
            None,
            _IMAGING | frozenset({"97110", "97140", "97530"}),
            (330, frozenset(), frozenset({"97110", "97140", "97530"})),
            True,
            0.7,
            30.0,
            0.35,
            0.012,
            "numeric8",
            _dialect(
                eligibility_terminated=("177", "N30"),
                credentialing_gap=("B7", "N570"),
                diagnosis_not_supported=("50", "N386"),
                auth_missing=("62", "N54"),
                records_request_unanswered=("16", "MA130"),
                frequency_limit=("149", "N362"),
                member_id_mismatch=("31", ""),
            ),
        ),
        Payer(
            "TRI40",
            "TRICARE regional contractor",
            "tricare",
            365,
            None,
            _IMAGING,
            None,
            False,
            0.6,
            24.0,
            0.45,
            0.007,
            "numeric",
            _dialect(
                credentialing_gap=("B7", "N570"),
                diagnosis_not_supported=("50", "N386"),
                records_request_unanswered=("226", "N706"),
            ),
        ),
    ]
}

# plans whose other coverage is primary for some of their members (COB): payer -> share
COB_SHARE = {
    "MCR01": 0.03,
    "MA001": 0.015,
    "MCD77": 0.05,
    "BCX10": 0.015,
    "AET20": 0.015,
    "UHC30": 0.015,
    "TRI40": 0.025,
}
# share of members whose coverage with the payer ends inside the timeline, and how terminations
# become known: "retro" (recorded after the fact) or "planned" (known ahead)
TERMINATION = {
    "MCR01": (0.01, "retro"),
    "MA001": (0.10, "planned"),
    "MCD77": (0.30, "retro"),
    "BCX10": (0.13, "retro"),
    "AET20": (0.13, "retro"),
    "UHC30": (0.13, "planned"),
    "TRI40": (0.06, "planned"),
}
# credentialing turnaround in days after a provider applies: (low, high)
CREDENTIALING_DAYS = {
    "MCR01": (30, 75),
    "MA001": (45, 110),
    "MCD77": (60, 150),
    "BCX10": (45, 120),
    "AET20": (45, 110),
    "UHC30": (45, 120),
    "TRI40": (45, 120),
}
