"""The world's clock: visits happen, the practice bills what it believes, payers adjudicate.

Events run in date order. A visit becomes a claim billed to the plan the practice believes is
right, with the authorizations it believes are needed; the payer adjudicates on receipt by the
true facts. The practice learns only from what comes back (denials), days later.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from benchmarks.independent_world import adjudication as adj
from benchmarks.independent_world.catalog import PAYERS, PT_CODES, Payer
from benchmarks.independent_world.encounters import Coder, Visit, contrast_switch, line_charge
from benchmarks.independent_world.population import (
    PROFILES,
    Coverage,
    Enrollment,
    Patient,
    Practice,
    enrollments,
    make_patient,
    make_practice,
)
from benchmarks.independent_world.records import Auth, Check, Claim

START = date(2025, 3, 3)
HISTORY_DAYS = 548
REQUEST_DAYS = 45
# size -> practices (profile, payer mix, established providers, patients), claim targets
SIZES: dict[str, dict[str, Any]] = {
    "small": {"practices": [("mixed", "balanced", 3, 900)], "history": 2300, "requests": 600},
    "regular": {
        "practices": [
            ("family", "senior", 5, 2200),
            ("msk", "commercial", 4, 1600),
            ("family", "safety_net", 4, 2000),
            ("mixed", "balanced", 5, 1800),
        ],
        "history": 22500,
        "requests": 7000,
    },
}
SPECIALTY_CODES = frozenset(
    {"73721", "73722", "72148", "72149", "70551", "70553", "20610", "97810", *PT_CODES}
)
PT_EPISODE_VISITS = 11


@dataclass
class World:
    seed: int
    size: str
    history_end: date
    request_end: date
    practices: list[Practice]
    claims: list[Claim] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    auths: list[Auth] = field(default_factory=list)
    roster: list[Enrollment] = field(default_factory=list)


@dataclass
class Encounter:
    day: date
    practice: int
    patient: Patient
    kind: str
    provider: str
    episode: dict[str, Any] | None = None


class Simulation:
    def __init__(self, seed: int, size: str):
        self.rng = np.random.default_rng(seed)
        self.size = size
        self.history_end = START + timedelta(days=HISTORY_DAYS - 1)
        self.request_end = self.history_end + timedelta(days=REQUEST_DAYS)
        spec = SIZES[size]
        rng = self.rng
        self.practices = [
            make_practice(rng, i, prof, mix, n, START, HISTORY_DAYS)
            for i, (prof, mix, n, _) in enumerate(spec["practices"])
        ]
        self.patients: list[list[Patient]] = []
        self.ledger = adj.Ledger()
        self.world = World(seed, size, self.history_end, self.request_end, self.practices)
        for i, (_, _, _, n_pat) in enumerate(spec["practices"]):
            pr = self.practices[i]
            self.patients.append(
                [
                    make_patient(rng, f"P{i + 1}{k:05d}", i, pr, START, HISTORY_DAYS)
                    for k in range(n_pat)
                ]
            )
            for e in enrollments(rng, pr, START, HISTORY_DAYS):
                self.ledger.enrollments[(e.npi, e.payer_id)].append(e)
                self.world.roster.append(e)
        for pats in self.patients:
            for p in pats:
                if p.coverages[0].payer_id == "TRI40" and rng.random() < 0.6:
                    p.extra["prime"] = START
        self.heap: list[tuple[date, int, int, Any]] = []
        self.seq = 0
        self.claim_seq = 0
        self.seen: set[str] = set()
        self.typos: dict[str, str] = {}  # patient -> member id as mistyped at registration
        self.learned: dict[tuple[int, str, str], date] = {}
        self.auth_denials: dict[tuple[int, str, str], int] = defaultdict(int)

    # --- scheduling ---------------------------------------------------------------------
    def push(self, day: date, kind: int, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (day, kind, self.seq, payload))

    def schedule_visits(self) -> None:
        spec = SIZES[self.size]
        total_pat = sum(p[3] for p in spec["practices"])
        rng = self.rng
        for i, (profile, _, _, n_pat) in enumerate(spec["practices"]):
            weights = PROFILES[profile]
            kinds = list(weights)
            probs = np.array([weights[k] for k in kinds])
            probs /= probs.sum()
            per_start = (
                1 + probs[kinds.index("pt_episode")] * PT_EPISODE_VISITS
                if ("pt_episode" in kinds)
                else 1.0
            )
            share = n_pat / total_pat / per_start / 1.02
            lam_h = spec["history"] * share / (HISTORY_DAYS * 5 / 7)
            lam_r = spec["requests"] * share / (REQUEST_DAYS * 5 / 7)
            pats = self.patients[i]
            starts = np.array([p.coverages[0].start.toordinal() for p in pats])
            w = np.array([p.weight for p in pats])
            practice = self.practices[i]
            for d in range(HISTORY_DAYS + REQUEST_DAYS):
                day = START + timedelta(days=d)
                if day.weekday() >= 5:
                    continue
                n = int(rng.poisson(lam_h if d < HISTORY_DAYS else lam_r))
                if not n:
                    continue
                eligible = np.flatnonzero(starts <= day.toordinal())
                pw = w[eligible] / w[eligible].sum()
                provs = [p.npi for p in practice.providers if p.joined <= day]
                # a new provider builds a panel: few visits in the first months
                provw = np.array(
                    [
                        1.0 if (day - p.joined).days > 120 else 0.25
                        for p in practice.providers
                        if p.joined <= day
                    ]
                )
                provw /= provw.sum()
                for k in rng.choice(eligible, size=n, p=pw):
                    kind = kinds[int(rng.choice(len(kinds), p=probs))]
                    prov = provs[int(rng.choice(len(provs), p=provw))]
                    if kind == "pt_episode":
                        self._pt_episode(day, i, pats[int(k)], prov)
                    else:
                        self.push(day, 0, Encounter(day, i, pats[int(k)], kind, prov))

    def _pt_episode(self, day: date, practice: int, patient: Patient, prov: str) -> None:
        rng = self.rng
        region = next(
            (c for c in ("back", "knee_oa", "shoulder") if c in patient.conditions), "back"
        )
        episode: dict[str, Any] = {"region": region, "auth": None, "visits": 0}
        d = day
        for _ in range(int(rng.integers(6, 17))):
            if d > self.request_end:
                break
            self.push(d, 0, Encounter(d, practice, patient, "pt", prov, episode))
            d += timedelta(days=int(rng.integers(2, 6)))

    # --- the practice ------------------------------------------------------------------
    def _coverage(self, enc: Encounter) -> Coverage | None:
        """The plan the practice bills on this day, after any eligibility check it runs."""
        rng, p, day = self.rng, enc.patient, enc.day
        practice = self.practices[enc.practice]
        covs = p.coverages
        switched = p.extra.get("switched")
        cov = covs[1] if len(covs) > 1 and switched and switched <= day else covs[0]
        if cov is covs[0] and cov.end and day > cov.end and len(covs) > 1 and rng.random() < 0.35:
            p.extra["switched"] = day  # the patient brought the new card
            cov = covs[1]
        if cov is covs[0] and p.other_primary and p.cob_fixed_on and p.cob_fixed_on <= day:
            cov = p.other_primary
        if day < cov.start:
            return None  # between plans: self-pay, no claim
        if rng.random() < practice.check_rate:
            checked = day - timedelta(days=int(rng.integers(0, 4)))
            status, end = "active", None
            if cov.end and cov.known_on and checked >= cov.known_on:
                end = cov.end
                status = "inactive" if checked > cov.end else "active"
            start = None if rng.random() < 0.05 else cov.start
            if status == "inactive" and rng.random() < 0.3:
                end = None  # the 271 said inactive without dates
            typo = self.typos.get(p.patient_id)
            if typo:
                self.world.checks.append(
                    Check(typo, cov.payer_id, checked, "not_found", None, None)
                )
                if rng.random() < 0.7:  # the front desk fixed the id it had typed
                    del self.typos[p.patient_id]
            else:
                self.world.checks.append(
                    Check(cov.member_id, cov.payer_id, checked, status, start, end)
                )
            if status == "inactive" and rng.random() < 0.85:
                if cov is covs[0] and len(covs) > 1:
                    p.extra["switched"] = checked
                    cov = covs[1]
                    if day < cov.start:
                        return None
                    self.world.checks.append(
                        Check(cov.member_id, cov.payer_id, checked, "active", cov.start, None)
                    )
                else:
                    return None
        return cov

    def _believed_auth(self, practice: int, payer: Payer, code: str, day: date) -> bool:
        if code in payer.auth_codes:
            return True
        learned = self.learned.get((practice, payer.payer_id, code))
        return learned is not None and learned <= day

    def _new_auth(
        self, enc: Encounter, cov: Coverage, codes: list[str], units: int | None, length: int
    ) -> Auth:
        rng, day = self.rng, enc.day
        start = day - timedelta(days=int(rng.integers(2, 21)))
        end = start + timedelta(days=length)
        if rng.random() < 0.05:  # scheduled after the window closed
            end = day - timedelta(days=int(rng.integers(1, 11)))
            start = min(start, end - timedelta(days=length))
        provider = enc.provider
        others = [p.npi for p in self.practices[enc.practice].providers if p.npi != provider]
        if rng.random() < 0.08 and others:  # the ordering doctor's NPI went on the request
            provider = others[int(rng.integers(len(others)))]
        auth = Auth(
            f"PA{int(rng.integers(10**6, 10**7))}",
            cov.payer_id,
            cov.member_id,
            codes,
            start,
            end,
            provider,
            units,
            created=start,
        )
        if rng.random() < 0.02:  # typed into the PM's log the wrong way round
            auth.start, auth.end, auth.reversed_entry = end, start, True
        self.world.auths.append(auth)
        return auth

    def _authorize(self, enc: Encounter, cov: Coverage, visit: Visit) -> dict[int, Auth]:
        rng = self.rng
        payer = PAYERS[cov.payer_id]
        out: dict[int, Auth] = {}
        if enc.episode is not None:
            ep = enc.episode
            need = any(self._believed_auth(enc.practice, payer, c, enc.day) for c in PT_CODES)
            auth = ep["auth"]
            if need and (auth is None or auth.payer_id != cov.payer_id):
                auth = self._new_auth(enc, cov, sorted(PT_CODES), enc.patient.pt_auth_units, 60)
                if rng.random() < 0.08:
                    auth = None
                ep["auth"], ep["since"] = auth, 0
            elif (
                need
                and auth is not None
                and ep["since"] >= (auth.units or 0)
                and (rng.random() < 0.5)
            ):
                auth = self._new_auth(enc, cov, sorted(PT_CODES), 6, 45)
                ep["auth"], ep["since"] = auth, 0
            if auth is not None:
                ep["since"] += 1
                for i, ln in enumerate(visit.lines):
                    if ln.code in PT_CODES:
                        out[i] = auth
            return out
        plain = contrast_switch(rng, visit)
        for i, ln in enumerate(visit.lines):
            code = (
                plain if plain and ln.code != plain and ln.code.startswith(plain[:3]) else (ln.code)
            )
            if not self._believed_auth(enc.practice, payer, code, enc.day):
                continue
            if rng.random() < 0.1:  # nobody requested it
                continue
            out[i] = self._new_auth(
                enc, cov, [code], 1, {"MA001": 30, "AET20": 90}.get(cov.payer_id, 60)
            )
        return out

    def on_visit(self, enc: Encounter) -> None:
        rng, p = self.rng, enc.patient
        practice = self.practices[enc.practice]
        new_patient = p.patient_id not in self.seen
        self.typos.pop(p.patient_id, None)
        mistyped = rng.random() < 0.006 + 0.02 * new_patient
        cov_now = p.coverages[0]
        if mistyped:
            self.typos[p.patient_id] = _mistype(rng, cov_now.member_id)
        cov = self._coverage(enc)
        if cov is None:
            return
        self.seen.add(p.patient_id)
        typo = self.typos.pop(p.patient_id, None) if cov is cov_now else None
        payer = PAYERS[cov.payer_id]
        medicare = payer.plan_type in ("medicare", "medicare_advantage")
        skill = next(x.modifier_skill for x in practice.providers if x.npi == enc.provider)
        coder = Coder(rng, p, skill, medicare)
        if enc.episode is not None:
            visit = coder.pt_visit(enc.episode["visits"] == 0, enc.episode["region"])
            enc.episode["visits"] += 1
        else:
            visit = coder.visit(enc.kind, new_patient, enc.day)
        mult = float(rng.uniform(1.0, 1.15))
        self.claim_seq += 1
        claim = Claim(
            claim_id=f"C{practice.code}{self.claim_seq:06d}",
            patient=p,
            practice=enc.practice,
            coverage=cov,
            member_id=cov.member_id,
            billing_npi=practice.billing_npi,
            rendering_npi=None if rng.random() < practice.blank_rendering else enc.provider,
            provider_npi=enc.provider,
            place_of_service=visit.place_of_service,
            service_date=enc.day,
            submission_date=enc.day,
            receipt_date=enc.day,
            lines=visit.lines,
            diagnoses=visit.diagnoses,
            charges=[line_charge(ln, mult) for ln in visit.lines],
            records_failure=practice.records_failure,
        )
        if typo:
            claim.typo_member = True
            claim.member_id = typo
        claim.line_auth = self._authorize(enc, cov, visit)
        if claim.line_auth:
            claim.prior_auth_number = next(iter(claim.line_auth.values())).number
            u = rng.random()
            if u < 0.025:
                claim.auth_number_state = "mistyped"
                claim.prior_auth_number = _mistype(rng, claim.prior_auth_number)
            elif u < 0.055:
                claim.auth_number_state = "omitted"
                claim.prior_auth_number = None
        codes = {ln.code for ln in visit.lines}
        claim.specialty = bool(codes & SPECIALTY_CODES)
        # TRICARE Prime needs the PCM's referral for specialty care; Select does not, and offices
        # rarely record one for Select members
        need_referral = p.extra.get("prime") is not None
        if (
            claim.specialty
            and cov.payer_id == "TRI40"
            and rng.random() < (0.75 if need_referral else 0.15)
        ):
            claim.referral_number = f"R{int(rng.integers(10**7, 10**8))}"
        review_prone = bool(codes & {"99215", "20610", "70551", "70553", "97530", "99490"}) or any(
            {"59", "XS", "XU"} & set(ln.modifiers) for ln in visit.lines
        )
        claim.has_attachment = bool(rng.random() < (practice.attach_rate if review_prone else 0.02))
        claim.seen_elsewhere = bool(codes & {"99395", "99396", "99397", "G0439"}) and bool(
            rng.random() < 0.05
        )
        claim.submission_date = self._submission(claim, practice)
        claim.receipt_date = claim.submission_date + timedelta(days=int(rng.integers(0, 3)))
        self.push(claim.submission_date, 1, claim)
        if rng.random() < 0.012:  # no 277CA came back, so the biller sent it again
            self.claim_seq += 1
            dup = Claim(**{**claim.__dict__, "claim_id": f"C{practice.code}{self.claim_seq:06d}"})
            dup.duplicate_of = claim
            dup.frequency_code = "7" if rng.random() < 0.15 else "1"
            dup.submission_date = claim.submission_date + timedelta(days=int(rng.integers(3, 26)))
            dup.receipt_date = dup.submission_date + timedelta(days=int(rng.integers(0, 3)))
            dup.causes, dup.fired, dup.reported = [], [], []
            self.push(dup.submission_date, 1, dup)

    def _submission(self, claim: Claim, practice: Practice) -> date:
        rng = self.rng
        u = rng.random()
        if u < practice.late_share:
            lag = int(rng.integers(31, 200)) if rng.random() < 0.85 else int(rng.integers(200, 420))
        elif u < practice.late_share + 0.2:
            lag = int(rng.integers(6, 31))
        else:
            lag = int(rng.integers(0, 6))
        sub = claim.service_date + timedelta(days=lag)
        if practice.holds_for_credentialing and claim.rendering_npi:
            rows = [
                e
                for e in self.ledger.enrollments[(claim.rendering_npi, claim.coverage.payer_id)]
                if e.on_roster
            ]
            believed = min((e.recorded_effective for e in rows), default=None)
            if believed and believed > claim.service_date:
                sub = max(sub, believed + timedelta(days=int(rng.integers(2, 11))))
        return sub

    # --- the payer and the feedback --------------------------------------------------------
    def on_receipt(self, claim: Claim) -> None:
        rng = self.rng
        claim.causes = adj.evaluate(claim, self.ledger, START)
        adj.decide(rng, claim)
        adj.remit(rng, claim, self.ledger)
        self.world.claims.append(claim)
        if not claim.reported or claim.adjudicated_on is None:
            return
        seen_on = claim.adjudicated_on + timedelta(days=int(rng.integers(1, 15)))
        p = claim.patient
        for cause in claim.reported:
            if cause.name == "cob_other_primary" and rng.random() < 0.7:
                p.cob_fixed_on = min(p.cob_fixed_on or seen_on, seen_on)
            elif (
                cause.name == "eligibility_terminated"
                and len(p.coverages) > 1
                and (rng.random() < 0.85)
            ):
                p.extra["switched"] = min(p.extra.get("switched", seen_on), seen_on)
            elif cause.name == "auth_missing" and cause.line is not None:
                key = (claim.practice, claim.coverage.payer_id, claim.lines[cause.line].code)
                self.auth_denials[key] += 1
                if self.auth_denials[key] == 2:
                    self.learned[key] = seen_on + timedelta(days=7)

    def run(self) -> World:
        self.schedule_visits()
        while self.heap:
            day, kind, _, payload = heapq.heappop(self.heap)
            if day > self.request_end:
                break
            if kind == 0:
                self.on_visit(payload)
            else:
                self.on_receipt(payload)
        return self.world


def _mistype(rng: np.random.Generator, value: str) -> str:
    i = int(rng.integers(len(value)))
    ch = value[i]
    new = (
        str((int(ch) + int(rng.integers(1, 9))) % 10)
        if ch.isdigit()
        else ("Z" if ch != "Z" else "Y")
    )
    return value[:i] + new + value[i + 1 :]


def simulate(seed: int, size: str) -> World:
    return Simulation(seed, size).run()
