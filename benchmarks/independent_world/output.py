"""Writes a simulated world in the data contract's shapes: history CSVs, requests, truth."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.independent_world.adjudication import category
from benchmarks.independent_world.catalog import CAUSES, PAYERS
from benchmarks.independent_world.population import Enrollment
from benchmarks.independent_world.records import Auth, Check, Claim
from benchmarks.independent_world.simulate import World

JOIN = "|"


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


class Writer:
    """Turns the world into contract records; `rng` only decides what an export leaves out."""

    def __init__(self, world: World):
        self.world = world
        self.rng = np.random.default_rng(world.seed + 7919)
        self.history = [c for c in world.claims if c.submission_date <= world.history_end]
        self.requests = [
            c for c in world.claims if world.history_end < c.submission_date <= world.request_end
        ]
        self.checks: dict[tuple[str, str], list[Check]] = defaultdict(list)
        for ch in sorted(world.checks, key=lambda c: c.checked_on):
            self.checks[(ch.member_id, ch.payer_id)].append(ch)
        self.auths: dict[tuple[str, str], list[Auth]] = defaultdict(list)
        for a in world.auths:
            self.auths[(a.payer_id, a.member_id)].append(a)
        self.roster: dict[tuple[str, str], list[Enrollment]] = defaultdict(list)
        for e in world.roster:
            self.roster[(e.npi, e.payer_id)].append(e)
        self.no_birth_date = {c.claim_id for c in world.claims if self.rng.random() < 0.04}

    # --- one claim -------------------------------------------------------------------------
    def _dx(self, claim: Claim) -> list[str]:
        dotted = self.world.practices[claim.practice].dotted_dx
        return claim.diagnoses if dotted else [d.replace(".", "") for d in claim.diagnoses]

    def claim_fields(self, claim: Claim) -> dict[str, Any]:
        payer = PAYERS[claim.coverage.payer_id]
        return {
            "claim_id": claim.claim_id,
            "patient_id": claim.patient.patient_id,
            "member_id": claim.member_id,
            "patient_birth_date": None
            if claim.claim_id in self.no_birth_date
            else _iso(claim.patient.birth_date),
            "patient_sex": claim.patient.sex,
            "payer_id": payer.payer_id,
            "plan_type": payer.plan_type,
            "billing_npi": claim.billing_npi,
            "rendering_npi": claim.rendering_npi,
            "place_of_service": claim.place_of_service,
            "frequency_code": claim.frequency_code,
            "service_date": _iso(claim.service_date),
            "submission_date": _iso(claim.submission_date),
            "total_charge": claim.total_charge,
            "prior_auth_number": claim.prior_auth_number,
            "referral_number": claim.referral_number,
        }

    def line_fields(self, claim: Claim) -> list[dict[str, Any]]:
        return [
            {
                "line_number": i + 1,
                "procedure_code": ln.code,
                "modifiers": list(dict.fromkeys(ln.modifiers))[:4],
                "units": ln.units,
                "line_charge": charge,
                "diagnosis_pointers": ln.pointers[:4],
            }
            for i, (ln, charge) in enumerate(zip(claim.lines, claim.charges, strict=True))
        ]

    # --- history ---------------------------------------------------------------------------
    def write_history(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        end = self.world.history_end
        claims, lines, outcomes = [], [], []
        for c in self.history:
            row = self.claim_fields(c)
            row["diagnosis_codes"] = JOIN.join(self._dx(c))
            row["has_attachment"] = "true" if c.has_attachment else "false"
            claims.append(row)
            for ln in self.line_fields(c):
                ln["modifiers"] = JOIN.join(ln["modifiers"])
                ln["diagnosis_pointers"] = JOIN.join(map(str, ln["diagnosis_pointers"]))
                lines.append({"claim_id": c.claim_id, **ln})
            if c.outcome and c.adjudicated_on and c.adjudicated_on <= end:
                o = c.outcome
                outcomes.append(
                    {
                        "claim_id": c.claim_id,
                        "adjudication_date": _iso(c.adjudicated_on),
                        "claim_status_code": o["claim_status_code"],
                        "paid_amount": o["paid_amount"],
                        "adjustments": JOIN.join(o["adjustments"]),  # type: ignore[arg-type]
                        "remark_codes": JOIN.join(o["remark_codes"]),  # type: ignore[arg-type]
                    }
                )
        checks = [
            {
                "member_id": ch.member_id,
                "payer_id": ch.payer_id,
                "checked_on": _iso(ch.checked_on),
                "status": ch.status,
                "coverage_start": _iso(ch.coverage_start),
                "coverage_end": _iso(ch.coverage_end),
            }
            for ch in self.world.checks
            if ch.checked_on <= end
        ]
        auths = [
            self.auth_fields(a) | {"payer_id": a.payer_id, "member_id": a.member_id}
            for a in self.world.auths
            if a.created <= end
        ]
        for a in auths:
            a["procedure_codes"] = JOIN.join(a["procedure_codes"])
        roster = [
            {
                "npi": e.npi,
                "payer_id": e.payer_id,
                "effective_date": _iso(e.recorded_effective),
                "end_date": _iso(e.recorded_end),
            }
            for e in self.world.roster
            if e.on_roster and e.recorded_effective <= end
        ]
        tables = {
            "claims": claims,
            "claim_lines": lines,
            "outcomes": outcomes,
            "eligibility_checks": checks,
            "authorizations": auths,
            "provider_enrollments": roster,
        }
        for name, rows in tables.items():
            pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)

    @staticmethod
    def auth_fields(a: Auth) -> dict[str, Any]:
        return {
            "auth_number": a.number,
            "procedure_codes": list(a.codes),
            "start_date": _iso(a.start),
            "end_date": _iso(a.end),
            "provider_npi": a.provider_npi,
            "units": a.units,
        }

    # --- requests --------------------------------------------------------------------------
    def request(self, c: Claim) -> dict[str, Any]:
        body = self.claim_fields(c)
        body["diagnosis_codes"] = self._dx(c)
        body["has_attachment"] = c.has_attachment
        body["lines"] = self.line_fields(c)
        sub = c.submission_date
        rng = self.rng
        known = [
            ch for ch in self.checks[(c.member_id, c.coverage.payer_id)] if ch.checked_on <= sub
        ]
        if known and rng.random() > 0.07:
            ch = known[-1]
            body["eligibility"] = {
                "checked_on": _iso(ch.checked_on),
                "status": ch.status,
                "coverage_start": _iso(ch.coverage_start),
                "coverage_end": _iso(ch.coverage_end),
            }
        if rng.random() > 0.05:
            body["authorizations"] = [
                self.auth_fields(a)
                for a in self.auths[(c.coverage.payer_id, c.coverage.member_id)]
                if a.created <= sub and (c.service_date - a.created).days <= 365
            ]
        npi = c.rendering_npi or c.billing_npi
        rows = sorted(
            (e for e in self.roster[(npi, c.coverage.payer_id)] if e.on_roster),
            key=lambda e: e.recorded_effective,
        )
        current = [e for e in rows if e.recorded_effective <= sub] or rows
        if current and rng.random() > 0.06:
            e = current[-1] if current[-1].recorded_effective <= sub else current[0]
            body["provider_enrollment"] = {
                "effective_date": _iso(e.recorded_effective),
                "end_date": _iso(e.recorded_end),
            }
        return body

    def write_requests(self, path: Path) -> None:
        with path.open("w") as f:
            for c in self.requests:
                f.write(json.dumps(self.request(c)) + "\n")

    # --- truth -----------------------------------------------------------------------------
    def truth(self) -> pd.DataFrame:
        rows = []
        for split, claims in (("history", self.history), ("request", self.requests)):
            for c in claims:
                first = c.reported[0] if c.reported else None
                rows.append(
                    {
                        "claim_id": c.claim_id,
                        "split": split,
                        "true_probability": c.probability,
                        "denied": c.denied,
                        "true_category": category(first.carc) if first else None,
                        "n_fired": len(c.fired),
                        "true_cause": first.name if first else None,
                    }
                )
        return pd.DataFrame(rows).astype({"n_fired": "int64", "denied": "bool"})

    def parameters(self, truth: pd.DataFrame) -> dict[str, Any]:
        present: Counter[str] = Counter()
        fired: Counter[str] = Counter()
        for c in self.history + self.requests:
            present.update({x.name for x in c.causes})
            fired.update({x.name for x in c.fired})
        n = len(truth)
        first = truth["true_cause"].value_counts()
        w = self.world
        return {
            "seed": w.seed,
            "size": w.size,
            "history_end": _iso(w.history_end),
            "request_end": _iso(w.request_end),
            "counts": {
                "history_claims": len(self.history),
                "requests": len(self.requests),
                "labelled_history": int(
                    sum(
                        1
                        for c in self.history
                        if c.adjudicated_on and c.adjudicated_on <= w.history_end
                    )
                ),
                "denial_rate": float(truth["denied"].mean()),
            },
            "payers": [
                {k: v for k, v in asdict(p).items()}
                | {
                    "auth_codes": sorted(p.auth_codes),
                    "auth_change": None
                    if p.auth_change is None
                    else [p.auth_change[0], sorted(p.auth_change[1]), sorted(p.auth_change[2])],
                }
                for p in PAYERS.values()
            ],
            "practices": [
                {
                    "code": p.code,
                    "profile": p.profile,
                    "payer_mix": p.payer_mix,
                    "providers": len(p.providers),
                    "check_rate": round(p.check_rate, 3),
                    "records_failure": round(p.records_failure, 3),
                    "attach_rate": round(p.attach_rate, 3),
                    "dotted_dx": p.dotted_dx,
                    "blank_rendering": p.blank_rendering,
                    "holds_for_credentialing": p.holds_for_credentialing,
                    "late_share": round(p.late_share, 3),
                }
                for p in w.practices
            ],
            "mechanisms": {
                name: {
                    "present_share": round(present[name] / n, 5),
                    "fired_share": round(fired[name] / n, 5),
                    "first_cause_share": round(int(first.get(name, 0)) / n, 5),
                }
                for name in CAUSES
            },
        }


def write_world(world: World, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    writer = Writer(world)
    writer.write_history(out / "history")
    writer.write_requests(out / "requests.jsonl")
    truth = writer.truth()
    truth.to_parquet(out / "ground_truth.parquet", index=False)
    params = writer.parameters(truth)
    (out / "world.json").write_text(json.dumps(params, indent=2, default=str) + "\n")
    return params
