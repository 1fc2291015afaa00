"""The records the world produces: claims with their hidden facts, auths, eligibility checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from benchmarks.independent_world.encounters import Line
from benchmarks.independent_world.population import Coverage, Patient


@dataclass
class Auth:
    number: str
    payer_id: str
    member_id: str
    codes: list[str]
    start: date
    end: date
    provider_npi: str | None
    units: int | None
    created: date
    reversed_entry: bool = False  # the PM's log swapped start and end (the payer's window is 1 day)
    used: int = 0


@dataclass
class Check:
    member_id: str
    payer_id: str
    checked_on: date
    status: str
    coverage_start: date | None
    coverage_end: date | None


@dataclass
class Cause:
    name: str
    p: float
    carc: str
    rarc: str
    claim_level: bool
    line: int | None = None  # 0-based line the edit hits (line-level causes)


@dataclass
class Claim:
    claim_id: str
    patient: Patient
    practice: int
    coverage: Coverage
    member_id: str  # as typed on the claim
    billing_npi: str
    rendering_npi: str | None  # as on the claim (None: billing provider rendered)
    provider_npi: str  # who actually rendered
    place_of_service: str
    service_date: date
    submission_date: date
    receipt_date: date  # when the payer logged it (clearinghouse delay)
    lines: list[Line]
    diagnoses: list[str]
    charges: list[float]
    prior_auth_number: str | None = None
    referral_number: str | None = None
    has_attachment: bool = False
    frequency_code: str = "1"
    line_auth: dict[int, Auth] = field(default_factory=dict)
    auth_number_state: str = "ok"  # ok | mistyped | omitted
    typo_member: bool = False
    duplicate_of: Claim | None = None
    seen_elsewhere: bool = False  # the member had this preventive service at another office
    specialty: bool = False  # specialist service (TRICARE Prime needs a PCM referral)
    records_failure: float = 0.5  # the practice's chance of missing a records request deadline
    # filled by adjudication
    causes: list[Cause] = field(default_factory=list)
    fired: list[Cause] = field(default_factory=list)
    reported: list[Cause] = field(default_factory=list)  # what the 835 says, in order
    probability: float = 0.0
    adjudicated_on: date | None = None
    outcome: dict[str, object] | None = None

    @property
    def total_charge(self) -> float:
        return round(sum(self.charges), 2)

    @property
    def denied(self) -> bool:
        return bool(self.fired)
