"""Domain knowledge about codes that any practice's claims share (not learned from history).

Payer-specific behaviour is learned from outcomes (``features.rates``); what lives here is the
public coding rules that hold for every payer: which codes are office E/M visits, which
procedures carry a global period (and so need modifier 25 on a same-day E/M), medically unlikely
unit counts, sex-specific procedures, telehealth places of service, which diagnoses support a
procedure, and typical filing limits by plan type.
"""

from __future__ import annotations

EM_CODES = frozenset(
    [f"9920{i}" for i in range(2, 6)]
    + [f"9921{i}" for i in range(1, 6)]
    + [f"9938{i}" for i in range(1, 8)]
    + [f"9939{i}" for i in range(1, 8)]
    + ["G0438", "G0439"]
)
# Surgical-range CPT (10004-69990) carries a global period, except specimen collection.
_NO_GLOBAL_PERIOD = frozenset({"36415", "36416"})
MODIFIER_25 = "25"


def has_global_period(code: str) -> bool:
    """Whether a same-day E/M visit billed with ``code`` needs modifier 25."""
    return code.isdigit() and 10004 <= int(code) <= 69990 and code not in _NO_GLOBAL_PERIOD


# Medically unlikely edits: the most units one practitioner bills for a code on one day
# (practitioner MUEs for common outpatient codes, rounded; a code not listed has no limit here).
MAX_UNITS: dict[str, float] = {
    **{code: 1.0 for code in EM_CODES},
    "20610": 2,
    "72148": 1,
    "73721": 2,
    "70553": 1,
    "64483": 1,
    "95810": 1,
    "97110": 6,
    "97140": 4,
    "97530": 6,
    "93000": 1,
    "36415": 2,
    "80053": 1,
    "85025": 1,
    "11102": 1,
    "17110": 1,
    "90471": 1,
    "90686": 1,
    "45378": 1,
    "77067": 1,
    "J1100": 40,
    "96372": 4,
    "81002": 2,
    "87880": 2,
    "99000": 1,
}

FEMALE_ONLY_CODES = frozenset({"77067", "88175", "88142", "57452", "58300", "G0101", "Q0091"})
MALE_ONLY_CODES = frozenset({"55700", "55250", "G0102", "G0103"})

TELEHEALTH_POS = frozenset({"02", "10"})
TELEHEALTH_MODIFIERS = frozenset({"95", "GT", "FQ", "93"})

# Diagnoses (ICD-10-CM prefixes, without the dot) that support each procedure under common
# LCD/NCD policy. A procedure not listed is supported by any diagnosis here.
SUPPORTING_DIAGNOSES: dict[str, tuple[str, ...]] = {
    "20610": ("M17", "M19", "M25", "M75", "M65", "M70"),
    "72148": ("M54", "M51", "M48", "M47", "M43", "G83"),
    "73721": ("M17", "M23", "M25", "S83", "M22"),
    "70553": ("G43", "G40", "R51", "G35", "R42", "G44", "R90"),
    "64483": ("M54", "M51", "M48", "M47"),
    "95810": ("G47", "R06"),
    "97110": ("M54", "M25", "M17", "M79", "S83", "M51", "M62", "Z96", "M75"),
    "97140": ("M54", "M25", "M17", "M79", "S83", "M51", "M62", "Z96", "M75"),
    "93000": ("I10", "I48", "R07", "R00", "I25", "R55", "Z01", "R06"),
    "11102": ("L98", "D48", "D22", "L82", "C44", "L57", "D23"),
    "17110": ("B07", "L82"),
    "90686": ("Z23",),
    "90471": ("Z23",),
    "45378": ("Z12", "K63", "K92", "R19", "Z86", "D12", "K57", "K50", "K51", "Z80"),
    "77067": ("Z12", "Z80"),
}

# Typical filing limits (days from service) by plan type, for payers whose limit the history
# has not shown yet: Medicare and TRICARE one year, most commercial plans 90 days.
TYPICAL_FILING_LIMIT_DAYS: dict[str, int] = {
    "commercial": 90,
    "medicare": 365,
    "medicare_advantage": 180,
    "medicaid": 180,
    "tricare": 365,
    "workers_comp": 180,
    "other": 180,
}


def npi_check_digit_ok(npi: str) -> bool:
    """Luhn check of a 10-digit NPI with the 80840 health-industry prefix."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    total = 24  # the Luhn sum contributed by the constant prefix 80840
    for position, char in enumerate(reversed(npi[:9])):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def diagnosis_supports(code: str, diagnoses: list[str]) -> bool:
    """Whether any of ``diagnoses`` (undotted ICD-10-CM) supports procedure ``code``."""
    prefixes = SUPPORTING_DIAGNOSES.get(code)
    return prefixes is None or any(dx.startswith(prefixes) for dx in diagnoses)
