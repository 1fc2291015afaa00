"""Domain knowledge about codes that any practice's claims share (not learned from history).

Payer-specific behaviour is learned from outcomes (``features.learned``); what lives here is the
public coding rules that hold for every payer: office E/M visits, the minor procedures that
need modifier 25 on a same-day visit, medically unlikely unit counts, sex- and age-specific
procedures, telehealth places of service, non-billable diagnosis codes, which diagnoses
support a procedure, and typical filing limits by plan type. The simulator's payers apply the
same published rules (``simulator`` imports them from here).
"""

from __future__ import annotations

from functools import cache, lru_cache

EM_CODES = frozenset(
    [f"9920{i}" for i in range(2, 6)]
    + [f"9921{i}" for i in range(1, 6)]
    + [f"9938{i}" for i in range(1, 8)]
    + [f"9939{i}" for i in range(1, 8)]
    + ["G0438", "G0439"]
)
# Minor procedures (0/10-day global, NCCI) that need modifier 25 on a same-day E/M visit.
MODIFIER_25_PROCEDURES = frozenset(
    {"20610", "20611", "96372", "64483", "11102", "11103", "11104", "11105", "17000", "17003",
     "17004", "17110", "17111", "10060", "12001", "69210"}
)  # fmt: skip
MODIFIER_25 = "25"


def needs_modifier_25(code: str) -> bool:
    """Whether a same-day E/M visit billed with ``code`` needs modifier 25."""
    return code in MODIFIER_25_PROCEDURES


# Medically unlikely edits: the most units one practitioner bills for a code on one day
# (a code not listed has no limit here).
MAX_UNITS: dict[str, float] = {
    **{code: 1.0 for code in EM_CODES},
    "20610": 2, "J3301": 8, "96372": 1, "J1100": 20, "72148": 1, "73721": 1, "70553": 1,
    "64483": 1, "95810": 1, "97161": 1, "97110": 4, "97140": 4, "93000": 1, "36415": 1,
    "80053": 1, "85025": 1, "83036": 1, "80061": 1, "81002": 1, "87880": 1, "11102": 1,
    "11103": 6, "17110": 1, "17000": 1, "17003": 13, "90471": 1, "90686": 1, "90715": 1,
    "45378": 1, "45380": 1, "77067": 1, "G0103": 1, "Q0091": 1,
}  # fmt: skip

FEMALE_ONLY_CODES = frozenset({"77067", "88175", "88142", "57452", "58300", "G0101", "Q0091"})
MALE_ONLY_CODES = frozenset({"55700", "55250", "G0102", "G0103"})

# Preventive medicine visits are defined by the patient's age (CPT 99381-99387, 99391-99397).
AGE_BANDS: dict[str, tuple[int, int]] = {
    "99381": (0, 0), "99382": (1, 4), "99383": (5, 11), "99384": (12, 17),
    "99385": (18, 39), "99386": (40, 64), "99387": (65, 200),
    "99391": (0, 0), "99392": (1, 4), "99393": (5, 11), "99394": (12, 17),
    "99395": (18, 39), "99396": (40, 64), "99397": (65, 200),
}  # fmt: skip

TELEHEALTH_POS = frozenset({"02", "10"})
TELEHEALTH_MODIFIERS = frozenset({"95", "GT", "FQ", "93"})


@cache
def diagnosis_billable(code: str) -> bool:
    """Whether an (undotted) ICD-10-CM code can be billed: a code of the current code set
    (``simple_icd_10_cm``'s release) with no subdivisions. A deleted code, a header that
    needs more characters (E11, M54.5 since 2021-10-01, G35 since 2025-10-01) or an injury
    code without its 7th character cannot. The code set loads on first use (about 2 s)."""
    import simple_icd_10_cm as icd10cm

    return bool(icd10cm.is_valid_item(code) and icd10cm.is_leaf(code))


_MSK_PT = ("M5450", "M5416", "M5126", "M5116", "M48061", "S39012A", "M25561", "M25562",
           "M1711", "M1712", "M170", "S83241A", "M75101")  # fmt: skip
_KNEE = ("M1711", "M1712", "M170")
_COLON = ("Z1211", "K635", "Z860100", "Z860101", "Z860102", "Z860109", "K921")
_SKIN = ("D485", "L989", "D225", "L821")
# Diagnoses (undotted ICD-10-CM) that support a procedure under common LCD/NCD policy.
# A procedure not listed is supported by any billable diagnosis.
SUPPORTING_DIAGNOSES: dict[str, frozenset[str]] = {
    code: frozenset(dx)
    for code, dx in {
        "20610": _KNEE, "J3301": _KNEE,
        "J1100": ("J45909", "J209", "M5450", "M5416", "L309"),
        "72148": ("M5450", "M5126", "M5416", "M5116", "M48061", "S39012A"),
        "73721": ("M25561", "M25562", "S83241A", "M1711", "M1712", "M170"),
        "70553": ("G43909", "G40909", "G35A", "G35B0", "G35B1", "G35B2", "G35C0", "G35C1",
                  "G35C2", "G35D"),
        "64483": ("M5416", "M5116", "M48061"),
        "95810": ("G4733",),
        "97161": _MSK_PT, "97110": _MSK_PT, "97140": _MSK_PT,
        "93000": ("R079", "I10", "R002", "I4891", "R55", "Z01810"),
        "80053": ("I10", "E119", "E785", "R7303", "R5383"),
        "85025": ("R5383", "I10", "E119"),
        "83036": ("E119", "R7303"),
        "80061": ("E785", "E119"),
        "81002": ("N390",),
        "87880": ("J029",),
        "11102": _SKIN, "11103": _SKIN,
        "17110": ("B079", "B078"),
        "17000": ("L570",), "17003": ("L570",),
        "90471": ("Z23",), "90686": ("Z23",), "90715": ("Z23",),
        "45378": _COLON, "45380": _COLON,
        "77067": ("Z1231",),
        "G0103": ("Z125",),
        "Q0091": ("Z01419",),
    }.items()
}  # fmt: skip

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


@cache
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


@lru_cache(maxsize=1 << 16)
def diagnosis_supports(code: str, diagnoses: tuple[str, ...]) -> bool:
    """Whether any of ``diagnoses`` (undotted ICD-10-CM) supports procedure ``code``;
    a non-billable diagnosis supports nothing. Cached: a batch repeats the same pairs."""
    billable = [dx for dx in diagnoses if diagnosis_billable(dx)]
    supporting = SUPPORTING_DIAGNOSES.get(code)
    if supporting is None:
        return bool(billable) or not diagnoses
    return any(dx in supporting for dx in billable)
