"""What was done at a visit: service lines, diagnoses and pointers, as a coder would write them.

Coding mistakes happen here, at realistic rates, and are recorded only as the lines they
produce; whether a payer objects is decided in `adjudication`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from benchmarks.independent_world.catalog import (
    CONDITIONS,
    FEES,
    IMAGING_CONTRAST,
    LCD_SUPPORT,
    NCCI_PAIRS,
    PREVENTIVE,
    SCREENING,
)
from benchmarks.independent_world.population import Patient


@dataclass
class Line:
    code: str
    units: int = 1
    modifiers: list[str] = field(default_factory=list)
    pointers: list[int] = field(default_factory=list)


@dataclass
class Visit:
    lines: list[Line]
    diagnoses: list[str]
    place_of_service: str = "11"


def age_on(patient: Patient, day: date) -> int:
    b = patient.birth_date
    return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


def supports(code: str, dx: str) -> bool:
    return dx.startswith(LCD_SUPPORT.get(code, ("",)))


class Coder:
    """Writes the lines of one visit; `skill` is the chance a needed modifier is added."""

    def __init__(self, rng: np.random.Generator, patient: Patient, skill: float, medicare: bool):
        self.rng = rng
        self.patient = patient
        self.skill = skill
        self.medicare = medicare

    def _dx(self, condition: str) -> str:
        codes = CONDITIONS[condition]
        return codes[int(self.rng.integers(len(codes)))]

    def _has(self, *conditions: str) -> list[str]:
        return [c for c in conditions if c in self.patient.conditions]

    def _em(self, new_patient: bool) -> Line:
        if new_patient:
            return Line("99204" if self.rng.random() < 0.45 else "99203")
        return Line(str(self.rng.choice(["99213", "99214", "99215"], p=[0.45, 0.42, 0.13])))

    def _visit_dx(self, focus: list[str]) -> list[str]:
        dx = [self._dx(c) for c in focus]
        others = [c for c in self.patient.conditions if c not in focus]
        for c in others[: int(self.rng.integers(0, 3))]:
            dx.append(self._dx(c))
        if self.rng.random() < 0.25 or not dx:
            dx.append(self._dx("acute"))
        return list(dict.fromkeys(dx))[:6]

    def _point(self, lines: list[Line], dx: list[str]) -> None:
        for line in lines:
            if line.pointers:
                continue
            good = [i + 1 for i, d in enumerate(dx) if supports(line.code, d)]
            if line.code in LCD_SUPPORT and good and self.rng.random() > 0.06:
                line.pointers = good[:2]
            else:  # no supporting diagnosis on the claim, or the pointer slipped to the first
                line.pointers = [1] if len(dx) == 1 or self.rng.random() < 0.7 else [1, 2]

    def _modifiers(self, lines: list[Line]) -> None:
        codes = {ln.code for ln in lines}
        has_em = any(ln.code.startswith("992") for ln in lines)
        for col1, col2, mods in NCCI_PAIRS:
            if (
                col1 not in codes
                or (col2 == "EM" and not has_em)
                or (col2 != "EM" and col2 not in codes)
            ):
                continue
            for ln in lines:
                target = ln.code.startswith("992") if col2 == "EM" else ln.code == col2
                if target and self.rng.random() < self.skill:
                    ln.modifiers.append(sorted(mods)[0])

    def visit(self, kind: str, new_patient: bool, day: date) -> Visit:
        rng = self.rng
        pos = "11"
        lines: list[Line]
        if kind == "flu" and day.month not in (9, 10, 11, 12, 1, 2):
            kind = "visit"
        last = self.patient.extra.get("preventive")
        if kind == "preventive" and last and (day - last).days < 300 and rng.random() < 0.9:
            kind = "visit"  # the front desk knows the physical was done this year
        if kind == "preventive":
            self.patient.extra["preventive"] = day
        if kind == "ccm" and not (self.medicare and len(self._has(*CONDITIONS)) >= 2):
            kind = "visit"
        if kind == "visit_labs":
            focus = self._has("diabetes", "prediabetes", "lipids") or self._has("hypertension")
            dx = self._visit_dx(focus[:2])
            lines = [self._em(new_patient), Line("36415")]
            if self._has("diabetes", "prediabetes") or rng.random() < 0.03:
                lines.append(Line("83036"))
            if self._has("lipids") or rng.random() < 0.08:
                lines.append(Line("80061"))
                if not self._has("lipids") and rng.random() < 0.6:
                    dx.append(SCREENING["lipid"])
            if rng.random() < 0.5:
                lines.append(Line("80053"))
            if rng.random() < 0.4 or len(lines) == 2:
                lines.append(Line("85025"))
        elif kind == "visit_injection":
            joint = self._has("knee_oa", "shoulder")
            if joint or rng.random() < 0.5:
                dx = self._visit_dx(joint[:1] or ["knee_oa"])
                bilateral = rng.random() < 0.08
                inj = Line("20610", units=2 if bilateral else 1)
                inj.modifiers = [] if bilateral else [str(rng.choice(["RT", "LT"]))]
                drug_units = 4 if rng.random() > 0.05 else int(rng.choice([10, 12]))
                lines = [self._em(new_patient), inj, Line("J3301", units=drug_units)]
            else:
                dx = self._visit_dx(self._has("back")[:1] or ["acute"])
                lines = [self._em(new_patient), Line("96372"), Line("J1885", units=2)]
        elif kind == "visit_ecg":
            focus = self._has("hypertension", "afib")
            dx = self._visit_dx(focus[:1]) if focus else [SCREENING["preop"], *self._visit_dx([])]
            lines = [self._em(new_patient), Line("93000")]
        elif kind == "visit_xray":
            if self._has("knee_oa") and rng.random() < 0.7:
                dx = self._visit_dx(["knee_oa"])
                lines = [self._em(new_patient), Line("73562", modifiers=["RT"])]
            else:
                dx = self._visit_dx(self._has("copd")[:1])
                if not self._has("copd"):
                    dx.insert(0, "R05.9")
                lines = [self._em(new_patient), Line("71046")]
        elif kind == "preventive":
            age = age_on(self.patient, day)
            if self.medicare and rng.random() < 0.85:
                code = "G0439"
            else:
                code = next(c for c, (lo, hi) in PREVENTIVE.items() if lo <= age <= hi)
                if rng.random() < 0.05:  # the age band slipped
                    code = str(rng.choice([c for c in PREVENTIVE if c != code]))
            dx = [SCREENING["general"], *[self._dx(c) for c in self.patient.conditions[:2]]]
            lines = [Line(code)]
            if rng.random() < 0.4:
                lines += [Line("36415"), Line("80053")]
                if "lipids" not in self.patient.conditions:
                    dx.append(SCREENING["lipid"])
                lines.append(Line("80061"))
        elif kind == "ccm":
            dx = [self._dx(c) for c in self.patient.conditions][:4]
            lines = [Line("99490")]
        elif kind == "flu":
            dx = ["Z23"]
            admin = "G0008" if self.medicare else "90471"
            if rng.random() < 0.12:  # the admin code of the other world
                admin = "90471" if self.medicare else "G0008"
            lines = [Line("90686"), Line(admin)]
        elif kind == "skin":
            dx = [self._dx("skin")]
            lines = [Line("17110")] if dx[0].startswith("B07") else [Line("11102")]
            if rng.random() < 0.15:
                other = "11102" if lines[0].code == "17110" else "17110"
                lines.append(Line(other))
                dx.append("B07.8" if other == "17110" else "D48.5")
            if rng.random() < 0.35:
                lines.insert(0, self._em(new_patient))
                dx += self._visit_dx([])
        elif kind == "telehealth":
            dx = self._visit_dx(self.patient.conditions[:1])
            em = Line(str(rng.choice(["99213", "99214"])))
            if rng.random() < 0.75:
                em.modifiers.append("95")
            lines = [em]
            pos = str(rng.choice(["02", "10"], p=[0.4, 0.6]))
        elif kind == "imaging":
            region = (self._has("knee_oa", "back", "headache") or ["back"])[0]
            code = {"knee_oa": "73721", "back": "72148", "headache": "70551"}[region]
            dx = self._visit_dx([region])
            lines = [Line(code, modifiers=["RT"] if code == "73721" else [])]
        elif kind == "acupuncture":
            dx = self._visit_dx((self._has("back", "knee_oa", "headache") or ["back"])[:1])
            lines = [Line("97810")]
        else:
            dx = self._visit_dx(self.patient.conditions[:1])
            lines = [self._em(new_patient)]
        dx = list(dict.fromkeys(dx))[:12]
        self._modifiers(lines)
        self._point(lines, dx)
        return Visit(lines, dx, pos)

    def pt_visit(self, first: bool, region: str) -> Visit:
        rng = self.rng
        dx = self._visit_dx([region])
        lines: list[Line] = []
        if first:
            lines.append(Line("97161", modifiers=["GP"]))
        lines.append(
            Line(
                "97110",
                units=int(rng.choice([2, 3, 3, 4, 5], p=[0.3, 0.3, 0.22, 0.16, 0.02])),
                modifiers=["GP"],
            )
        )
        if rng.random() < 0.6:
            lines.append(Line("97140", units=int(rng.integers(1, 3)), modifiers=["GP"]))
        if rng.random() < 0.5:
            lines.append(Line("97530", units=int(rng.integers(1, 3)), modifiers=["GP"]))
        self._modifiers(lines)
        self._point(lines, dx)
        return Visit(lines, dx)


def contrast_switch(rng: np.random.Generator, visit: Visit) -> str | None:
    """The radiologist added contrast at the scanner: returns the authorized (plain) code."""
    for ln in visit.lines:
        if ln.code in IMAGING_CONTRAST and rng.random() < 0.06:
            plain = ln.code
            ln.code = IMAGING_CONTRAST[plain]
            return plain
    return None


def line_charge(line: Line, multiplier: float) -> float:
    return round(FEES[line.code][0] * line.units * multiplier, 2)
