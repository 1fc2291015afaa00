"""CPT/HCPCS and ICD-10-CM tables of small outpatient practices, and the visit templates.

A template is one kind of encounter (a knee injection visit, a lumbar MRI, a preventive exam):
its service lines, the diagnoses it is billed with (weights include the weak ones that do not
support the procedure), the specialties that see it, and the patients it fits (sex, age).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features import codes as rules

SPECIALTIES = ("family_medicine", "orthopedics", "internal_medicine", "dermatology")
FM, ORTHO, IM, DERM = SPECIALTIES

# kind: em | preventive | awv | minor (needs modifier 25 beside an E/M) | imaging | lab
#       | test | therapy | drug | vaccine | screening
PROCEDURES: tuple[tuple[str, str, float, str], ...] = (
    # code, description, fee per unit, kind (units limits, sex and age rules, modifier 25 and
    # diagnosis support are the published rules of ``features.codes``)
    ("99202", "Office visit, new patient, straightforward", 120, "em"),
    ("99203", "Office visit, new patient, low", 180, "em"),
    ("99204", "Office visit, new patient, moderate", 270, "em"),
    ("99205", "Office visit, new patient, high", 350, "em"),
    ("99211", "Office visit, established, minimal", 50, "em"),
    ("99212", "Office visit, established, straightforward", 95, "em"),
    ("99213", "Office visit, established, low", 145, "em"),
    ("99214", "Office visit, established, moderate", 210, "em"),
    ("99215", "Office visit, established, high", 290, "em"),
    ("99385", "Preventive visit, new, 18-39", 260, "preventive"),
    ("99386", "Preventive visit, new, 40-64", 290, "preventive"),
    ("99387", "Preventive visit, new, 65+", 320, "preventive"),
    ("99395", "Preventive visit, established, 18-39", 240, "preventive"),
    ("99396", "Preventive visit, established, 40-64", 265, "preventive"),
    ("99397", "Preventive visit, established, 65+", 290, "preventive"),
    ("G0438", "Annual wellness visit, initial", 290, "awv"),
    ("G0439", "Annual wellness visit, subsequent", 200, "awv"),
    ("20610", "Arthrocentesis/injection, major joint", 160, "minor"),
    ("J3301", "Triamcinolone acetonide, per 10 mg", 12, "drug"),
    ("96372", "Therapeutic injection, SC/IM", 45, "minor"),
    ("J1100", "Dexamethasone sodium phosphate, 1 mg", 6, "drug"),
    ("72148", "MRI lumbar spine without contrast", 1250, "imaging"),
    ("73721", "MRI lower extremity joint without contrast", 1150, "imaging"),
    ("70553", "MRI brain without and with contrast", 2300, "imaging"),
    ("64483", "Transforaminal epidural injection, lumbar, single level", 950, "minor"),
    ("95810", "Polysomnography, attended, 4+ parameters", 1900, "test"),
    ("97161", "PT evaluation, low complexity", 160, "therapy"),
    ("97110", "Therapeutic exercise, each 15 min", 55, "therapy"),
    ("97140", "Manual therapy, each 15 min", 50, "therapy"),
    ("93000", "Electrocardiogram, 12 leads, with report", 65, "test"),
    ("36415", "Routine venipuncture", 18, "lab"),
    ("80053", "Comprehensive metabolic panel", 55, "lab"),
    ("85025", "Complete blood count with differential", 35, "lab"),
    ("83036", "Hemoglobin A1c", 40, "lab"),
    ("80061", "Lipid panel", 60, "lab"),
    ("81002", "Urinalysis, non-automated, without microscopy", 15, "lab"),
    ("87880", "Rapid strep test", 30, "lab"),
    ("11102", "Tangential biopsy of skin, single lesion", 170, "minor"),
    ("11103", "Tangential biopsy, each additional lesion", 90, "minor"),
    ("17110", "Destruction of benign lesions (warts), up to 14", 170, "minor"),
    ("17000", "Destruction premalignant lesion, first", 120, "minor"),
    ("17003", "Destruction premalignant lesions, 2-14, each", 15, "minor"),
    ("90471", "Immunization administration, first", 30, "vaccine"),
    ("90686", "Influenza vaccine, quadrivalent, preservative free", 40, "vaccine"),
    ("90715", "Tdap vaccine", 65, "vaccine"),
    ("45378", "Colonoscopy, diagnostic", 1500, "screening"),
    ("45380", "Colonoscopy with biopsy", 1750, "screening"),
    ("77067", "Screening mammography, bilateral", 280, "screening"),
    ("G0103", "Prostate cancer screening, PSA", 45, "lab"),
    ("Q0091", "Screening Pap smear, obtaining specimen", 55, "screening"),
)
CODES = np.array([p[0] for p in PROCEDURES], dtype=object)
CODE_INDEX: dict[str, int] = {p[0]: i for i, p in enumerate(PROCEDURES)}
FEES = np.array([p[2] for p in PROCEDURES], dtype=np.float64)
KINDS = np.array([p[3] for p in PROCEDURES], dtype=object)
MAX_UNITS = np.array([rules.MAX_UNITS[code] for code in CODES], dtype=np.int16)
CODE_SEX = np.array(  # 1 F-only, 2 M-only
    [1 if c in rules.FEMALE_ONLY_CODES else 2 if c in rules.MALE_ONLY_CODES else 0
     for c in CODES], dtype=np.int8,
)  # fmt: skip
IS_EM = KINDS == "em"
NEEDS_25 = np.array([rules.needs_modifier_25(code) for code in CODES])
IS_LAB = KINDS == "lab"
IS_THERAPY = KINDS == "therapy"
IS_PREVENTIVE = KINDS == "preventive"
IS_MULTI_UNIT = MAX_UNITS > 1
# Preventive codes carry an age band (age edit, CARC 6)
AGE_MIN = np.array([rules.AGE_BANDS.get(c, (0, 200))[0] for c in CODES], np.int16)
AGE_MAX = np.array([rules.AGE_BANDS.get(c, (0, 200))[1] for c in CODES], np.int16)

DIAGNOSES: tuple[tuple[str, str], ...] = (
    ("Z00.00", "General adult exam without abnormal findings"),
    ("Z00.01", "General adult exam with abnormal findings"),
    ("I10", "Essential hypertension"),
    ("E11.9", "Type 2 diabetes without complications"),
    ("E78.5", "Hyperlipidemia, unspecified"),
    ("E66.9", "Obesity, unspecified"),
    ("R73.03", "Prediabetes"),
    ("J06.9", "Acute upper respiratory infection"),
    ("J02.9", "Acute pharyngitis"),
    ("J20.9", "Acute bronchitis"),
    ("J45.909", "Asthma, uncomplicated"),
    ("R05.9", "Cough, unspecified"),
    ("N39.0", "Urinary tract infection"),
    ("M17.11", "Primary osteoarthritis, right knee"),
    ("M17.12", "Primary osteoarthritis, left knee"),
    ("M17.0", "Bilateral primary osteoarthritis of knee"),
    ("M25.561", "Pain in right knee"),
    ("M25.562", "Pain in left knee"),
    ("S83.241A", "Other tear of medial meniscus, right knee, initial"),
    ("M79.606", "Pain in leg, unspecified"),
    ("M54.50", "Low back pain, unspecified"),
    ("M54.16", "Radiculopathy, lumbar region"),
    ("M51.26", "Other intervertebral disc displacement, lumbar"),
    ("M51.16", "Intervertebral disc disorder with radiculopathy, lumbar"),
    ("M48.061", "Spinal stenosis, lumbar, without neurogenic claudication"),
    ("M54.9", "Dorsalgia, unspecified"),
    ("S39.012A", "Strain of muscle of lower back, initial"),
    ("M75.101", "Rotator cuff tear, right shoulder, unspecified"),
    ("R52", "Pain, unspecified"),
    ("R07.9", "Chest pain, unspecified"),
    ("R00.2", "Palpitations"),
    ("I48.91", "Atrial fibrillation, unspecified"),
    ("R55", "Syncope and collapse"),
    ("Z01.810", "Preprocedural cardiovascular examination"),
    ("G47.33", "Obstructive sleep apnea"),
    ("R06.83", "Snoring"),
    ("R53.83", "Other fatigue"),
    ("G43.909", "Migraine, unspecified"),
    ("G40.909", "Epilepsy, unspecified"),
    ("G35.A", "Relapsing-remitting multiple sclerosis"),
    ("R51.9", "Headache, unspecified"),
    ("R42", "Dizziness and giddiness"),
    ("L98.9", "Disorder of skin, unspecified"),
    ("D48.5", "Neoplasm of uncertain behavior of skin"),
    ("D22.5", "Melanocytic nevi of trunk"),
    ("L82.1", "Other seborrheic keratosis"),
    ("B07.9", "Viral wart, unspecified"),
    ("B07.8", "Other viral warts"),
    ("L57.0", "Actinic keratosis"),
    ("L70.0", "Acne vulgaris"),
    ("L30.9", "Dermatitis, unspecified"),
    ("L40.0", "Psoriasis vulgaris"),
    ("Z23", "Encounter for immunization"),
    ("Z12.11", "Screening for malignant neoplasm of colon"),
    ("K63.5", "Polyp of colon"),
    ("Z86.0100", "Personal history of colon polyps, unspecified"),
    ("K92.1", "Melena"),
    ("R10.9", "Abdominal pain, unspecified"),
    ("Z12.31", "Screening mammogram for malignant neoplasm of breast"),
    ("Z12.5", "Screening for malignant neoplasm of prostate"),
    ("Z01.419", "Gynecological exam without abnormal findings"),
    # Invalid for 2024+ dates of service: deleted or truncated (non-billable header) codes,
    # left on an outdated superbill. They are the "code error" part of missing/invalid data.
    ("M54.5", "Low back pain (deleted 2021-10-01)"),
    ("M17.1", "Unilateral primary osteoarthritis of knee (header, needs laterality)"),
    ("R51", "Headache (deleted 2020-10-01)"),
    ("E11", "Type 2 diabetes mellitus (header, not billable)"),
    ("S83.241", "Other tear of medial meniscus, right knee (missing 7th character)"),
)
DX = np.array([d[0] for d in DIAGNOSES], dtype=object)
DX_UNDOTTED = np.array([d[0].replace(".", "") for d in DIAGNOSES], dtype=object)
DX_INDEX: dict[str, int] = {d[0]: i for i, d in enumerate(DIAGNOSES)}
INVALID_OF = {"M54.50": "M54.5", "M17.11": "M17.1", "R51.9": "R51", "E11.9": "E11",
              "S83.241A": "S83.241"}  # fmt: skip
DX_INVALID = np.array([not rules.diagnosis_billable(code) for code in DX_UNDOTTED])
# valid dx index -> its outdated/truncated form (or itself)
DX_OUTDATED = np.arange(len(DX))
for _valid, _bad in INVALID_OF.items():
    DX_OUTDATED[DX_INDEX[_valid]] = DX_INDEX[_bad]
HAS_OUTDATED = np.arange(len(DX)) != DX_OUTDATED
SCREENING_DX = ("Z00.00", "Z00.01")


def support_matrix(screening_labs: bool) -> np.ndarray:
    """[code, dx] -> the diagnosis supports the code (invalid diagnoses support nothing)."""
    table = np.ones((len(CODES), len(DX)), bool)
    for code, dxs in rules.SUPPORTING_DIAGNOSES.items():
        if code not in CODE_INDEX:
            continue
        row = np.isin(DX_UNDOTTED, list(dxs))
        if screening_labs and IS_LAB[CODE_INDEX[code]]:
            row[[DX_INDEX[d] for d in SCREENING_DX]] = True
        table[CODE_INDEX[code]] = row
    table[:, DX_INVALID] = False
    return table


MODIFIERS = np.array(["25", "95", "RT", "LT", "GP", "33"], dtype=object)
MOD_25, MOD_95, MOD_RT, MOD_LT, MOD_GP, MOD_33 = (1 << i for i in range(len(MODIFIERS)))

Weighted = tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Slot:
    """One service line of a template: which code, how likely, how many units, which dx."""

    codes: Weighted
    prob: float = 1.0
    units: tuple[tuple[int, float], ...] = ((1, 1.0),)
    pointers: str = "principal"  # principal | all


@dataclass(frozen=True)
class Template:
    """One kind of encounter."""

    name: str
    weights: dict[str, float]
    slots: tuple[Slot, ...]
    principal: Weighted
    secondary: Weighted = ()
    secondary_prob: float = 0.0
    pos: Weighted = (("11", 1.0),)
    sex: str | None = None
    age: tuple[int, int] = (18, 200)
    flu_season: bool = False


EST = Slot((("99212", 0.2), ("99213", 0.5), ("99214", 0.3)), pointers="all")
EST_OPT = Slot((("99213", 0.6), ("99214", 0.4)), prob=0.6, pointers="all")
NEW = Slot((("99203", 0.5), ("99204", 0.4), ("99205", 0.1)), pointers="all")
PREVENTIVE = Slot((("PREVENTIVE", 1.0),), pointers="all")  # resolved by age and plan
CHRONIC: Weighted = (("I10", 0.35), ("E11.9", 0.25), ("E78.5", 0.25), ("E66.9", 0.07),
                     ("R73.03", 0.08))  # fmt: skip
ACUTE: Weighted = (("J06.9", 0.3), ("J02.9", 0.2), ("J20.9", 0.15), ("N39.0", 0.12),
                   ("R05.9", 0.13), ("J45.909", 0.1))  # fmt: skip
COMORBID: Weighted = (("I10", 0.4), ("E78.5", 0.3), ("E11.9", 0.2), ("E66.9", 0.1))
LBP: Weighted = (("M54.50", 0.47), ("M51.26", 0.18), ("M54.16", 0.18), ("M48.061", 0.08),
                 ("S39.012A", 0.05), ("M54.9", 0.02))  # fmt: skip
KNEE: Weighted = (("M17.11", 0.38), ("M17.12", 0.3), ("M17.0", 0.12), ("M25.561", 0.12),
                  ("M25.562", 0.08))  # fmt: skip
MSK: Weighted = (("M54.50", 0.3), ("M25.561", 0.15), ("M17.11", 0.15), ("S39.012A", 0.1),
                 ("M75.101", 0.15), ("M54.16", 0.1), ("S83.241A", 0.05))  # fmt: skip

TEMPLATES: tuple[Template, ...] = (
    Template("chronic_visit", {FM: 0.2, IM: 0.18},
             (EST, Slot((("36415", 1.0),), prob=0.3),
              Slot((("80053", 0.75), ("83036", 0.1), ("80061", 0.15)), prob=0.25, pointers="all")),
             CHRONIC, COMORBID, 0.45),
    Template("acute_visit", {FM: 0.16, IM: 0.05},
             (Slot((("99212", 0.35), ("99213", 0.55), ("99214", 0.1)), pointers="all"),
              Slot((("87880", 1.0),), prob=0.06), Slot((("81002", 1.0),), prob=0.04)),
             ACUTE),
    Template("new_patient", {FM: 0.05, ORTHO: 0.08, IM: 0.06, DERM: 0.1},
             (NEW,), CHRONIC + MSK[:3] + (("L30.9", 0.1),), COMORBID, 0.3),
    Template("preventive", {FM: 0.12, IM: 0.11},
             (PREVENTIVE, Slot((("36415", 1.0),), prob=0.4),
              Slot((("80053", 1.0),), prob=0.25, pointers="all"),
              Slot((("85025", 1.0),), prob=0.2, pointers="all")),
             (("Z00.00", 0.7), ("Z00.01", 0.3)), COMORBID, 0.5),
    Template("flu_shot", {FM: 0.07, IM: 0.05},
             (Slot((("90471", 1.0),)), Slot((("90686", 1.0),))), (("Z23", 1.0),),
             flu_season=True),
    Template("tdap", {FM: 0.01}, (Slot((("90471", 1.0),)), Slot((("90715", 1.0),))),
             (("Z23", 1.0),)),
    Template("knee_injection", {ORTHO: 0.17, FM: 0.025},
             (EST_OPT, Slot((("20610", 1.0),)),
              Slot((("J3301", 1.0),), units=((2, 0.3), (4, 0.5), (8, 0.2)))),
             (("M17.11", 0.46), ("M17.12", 0.38), ("M17.0", 0.15), ("M25.561", 0.01))),
    Template("lumbar_mri", {ORTHO: 0.36, FM: 0.07},
             (Slot((("99213", 0.5), ("99214", 0.5)), prob=0.4, pointers="all"),
              Slot((("72148", 1.0),))), LBP),
    Template("knee_mri", {ORTHO: 0.08},
             (Slot((("73721", 1.0),)),),
             (("M25.561", 0.3), ("M25.562", 0.2), ("S83.241A", 0.25), ("M17.11", 0.1),
              ("M79.606", 0.02), ("R52", 0.015))),
    Template("epidural_injection", {ORTHO: 0.06},
             (Slot((("64483", 1.0),)),),
             (("M54.16", 0.5), ("M51.16", 0.28), ("M48.061", 0.13), ("M54.50", 0.03),
              ("M54.9", 0.015)), pos=(("24", 0.6), ("11", 0.4))),
    Template("pt_evaluation", {ORTHO: 0.04},
             (Slot((("97161", 1.0),)), Slot((("97110", 1.0),), units=((1, 0.5), (2, 0.5)))),
             MSK),
    Template("pt_visit", {ORTHO: 0.13},
             (Slot((("97110", 1.0),), units=((1, 0.1), (2, 0.35), (3, 0.4), (4, 0.15))),
              Slot((("97140", 1.0),), prob=0.6, units=((1, 0.5), (2, 0.4), (3, 0.1)))),
             MSK),
    Template("ortho_followup", {ORTHO: 0.2},
             (EST,), KNEE + LBP[:3] + (("M75.101", 0.3), ("S83.241A", 0.1))),
    Template("ecg_visit", {IM: 0.15, FM: 0.05},
             (Slot((("99213", 0.4), ("99214", 0.5), ("99215", 0.1)), pointers="all"),
              Slot((("93000", 1.0),))),
             (("R07.9", 0.3), ("I10", 0.25), ("R00.2", 0.15), ("I48.91", 0.15), ("R55", 0.05),
              ("Z01.810", 0.04), ("Z00.00", 0.015)), COMORBID, 0.3),
    Template("sleep_study", {IM: 0.05},
             (Slot((("95810", 1.0),)),),
             (("G47.33", 0.92), ("R06.83", 0.05), ("R53.83", 0.03))),
    Template("brain_mri", {IM: 0.045},
             (Slot((("70553", 1.0),)),),
             (("G43.909", 0.42), ("G40.909", 0.25), ("G35.A", 0.15), ("R51.9", 0.07),
              ("R42", 0.04))),
    Template("colonoscopy", {IM: 0.05},
             (Slot((("45378", 0.6), ("45380", 0.4))),),
             (("Z12.11", 0.56), ("K63.5", 0.16), ("Z86.0100", 0.16), ("K92.1", 0.1),
              ("R10.9", 0.02)), pos=(("24", 0.7), ("22", 0.3)), age=(45, 200)),
    Template("mammogram", {IM: 0.05, FM: 0.02},
             (Slot((("77067", 1.0),)),), (("Z12.31", 1.0),), sex="F", age=(40, 200)),
    Template("psa_screen", {FM: 0.02, IM: 0.02},
             (Slot((("G0103", 1.0),)), Slot((("36415", 1.0),))), (("Z12.5", 1.0),), sex="M",
             age=(50, 200)),
    Template("pap_smear", {FM: 0.02},
             (Slot((("Q0091", 1.0),)),), (("Z01.419", 1.0),), sex="F", age=(21, 65)),
    Template("skin_biopsy", {DERM: 0.25, FM: 0.03},
             (Slot((("99213", 0.6), ("99214", 0.4)), prob=0.5, pointers="all"),
              Slot((("11102", 1.0),)),
              Slot((("11103", 1.0),), prob=0.3, units=((1, 0.7), (2, 0.3)))),
             (("D48.5", 0.4), ("L98.9", 0.3), ("D22.5", 0.17), ("L82.1", 0.13))),
    Template("wart_destruction", {DERM: 0.06, FM: 0.008},
             (Slot((("99213", 1.0),), prob=0.3, pointers="all"), Slot((("17110", 1.0),))),
             (("B07.9", 0.72), ("B07.8", 0.2), ("L82.1", 0.08))),
    Template("ak_destruction", {DERM: 0.18},
             (Slot((("17000", 1.0),)),
              Slot((("17003", 1.0),), prob=0.7, units=((2, 0.3), (4, 0.3), (6, 0.25),
                                                       (10, 0.15)))),
             (("L57.0", 1.0),)),
    Template("derm_visit", {DERM: 0.32},
             (EST,), (("L70.0", 0.3), ("L30.9", 0.3), ("L40.0", 0.2), ("D22.5", 0.2))),
    Template("injection_visit", {FM: 0.03},
             (EST, Slot((("96372", 1.0),)),
              Slot((("J1100", 1.0),), units=((4, 0.4), (8, 0.3), (10, 0.3)))),
             (("J45.909", 0.35), ("M54.50", 0.3), ("J20.9", 0.2), ("L30.9", 0.15))),
    Template("telehealth_visit", {FM: 0.07, IM: 0.07, ORTHO: 0.02, DERM: 0.03},
             (Slot((("99212", 0.3), ("99213", 0.5), ("99214", 0.2)), pointers="all"),),
             CHRONIC + ACUTE[:3], COMORBID, 0.3, pos=(("10", 0.7), ("02", 0.3))),
)  # fmt: skip
TEMPLATE_NAMES = np.array([t.name for t in TEMPLATES], dtype=object)
TEMPLATE_INDEX = {t.name: i for i, t in enumerate(TEMPLATES)}
POS_CODES = np.array(["11", "02", "10", "22", "24"], dtype=object)
POS_INDEX = {c: i for i, c in enumerate(POS_CODES)}
TELEHEALTH_POS = np.isin(POS_CODES, ["02", "10"])
