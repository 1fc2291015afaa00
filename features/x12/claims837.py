"""837P (005010X222A1, 4010 X098 where it maps) -> ``claims`` and ``claim_lines`` rows.

Loops read: 1000 (BHT04 submission date), 2000A/2010AA billing provider (NM1*85), 2000B
subscriber (SBR09 plan type, NM1*IL member id, DMG, NM1*PR payer id and name), 2000C patient (DMG),
2300 claim (CLM, REF*G1/9F/EA, HI, PWK, DTP*472), 2310B rendering provider (NM1*82),
2400 lines (LX, SV1, DTP*472, PWK) and 2420A line rendering provider. Loops 2320/2330
(other payers, prior-payer CAS) and 2430 (line adjudication) describe other payers'
decisions and are skipped on purpose.

A claim with a structural problem (CLM01 missing, an amount that is not a number...) is
skipped and kept in ``skipped`` with its error; the other claims of the file are read. A file
that is an 837I, or a claim that turns out institutional, raises ``UnsupportedTransaction``.
Real files repeat CLM01 (corrections, resubmissions): rows keep file order and are never keyed
by CLM01 alone (``claim_index`` links lines to their claim row).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from features.contract import ClaimIn, table_spec
from features.x12.codes import (
    DIAGNOSIS_QUALIFIERS,
    ICD9_OTHER,
    ICD9_PRINCIPAL,
    ICD10_PRINCIPAL,
    plan_type,
)
from features.x12.errors import UnsupportedTransaction, X12Error
from features.x12.segments import (
    Document,
    Segment,
    Transaction,
    paused_gc,
    read_document,
    read_text,
)
from features.x12.sniff import transaction_kind
from features.x12.values import amount, date_element, period_start

CLAIM_COLUMNS = [s.name for s in table_spec("claims")]
LINE_COLUMNS = [s.name for s in table_spec("claim_lines")]
# Columns the parser adds to the contract's: where the claim is, and which ICD revision.
CLAIM_META = ["segment", "icd9"]
LINE_META = ["claim_index"]
ICD9_PROBLEM = (
    "diagnosis codes are ICD-9-CM (HI qualifier BK/BF); the contract takes ICD-10-CM (ABK/ABF)"
)


def pseudonymous_patient_id(payer_id: str, member_id: str, birth_date: dt.date | None) -> str:
    """A stable patient key when the file carries none: sha256(payer|member|birth date)[:16].

    Dependants sharing the subscriber's member id get distinct keys through their birth date;
    same-day twins under one member id share a key.
    """
    birth = birth_date.isoformat() if birth_date else ""
    return hashlib.sha256(f"{payer_id}|{member_id}|{birth}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SkippedClaim:
    """A claim that could not be read: where its CLM is, its CLM01 if known, and why."""

    position: int
    claim_id: str | None
    error: X12Error


@dataclass(frozen=True)
class ClaimRequest:
    """One CLM of a file as a scoring request, or the reason it cannot be one."""

    position: int
    claim_id: str | None
    claim: ClaimIn | None
    problem: str | None


@dataclass
class Claims837:
    """The claims of one 837P file in contract form (not yet validated), in file order."""

    source: str
    claims: pd.DataFrame  # CLAIM_COLUMNS + CLAIM_META
    claim_lines: pd.DataFrame  # LINE_COLUMNS + LINE_META ("claim_index" = row in claims)
    skipped: list[SkippedClaim] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    transactions: int = 0

    def claim_requests(self) -> list[ClaimRequest]:
        """Every CLM of the file in file order, as a validated ``ClaimIn`` or its problem."""
        lines_of: dict[int, list[dict[str, Any]]] = {}
        for line in self.claim_lines.to_dict("records"):
            index = line.pop("claim_index")
            line.pop("claim_id", None)
            lines_of.setdefault(index, []).append(_drop_none(line))
        requests: list[ClaimRequest] = []
        for index, row in enumerate(self.claims.to_dict("records")):
            position, icd9 = row.pop("segment"), row.pop("icd9")
            claim_id = row["claim_id"]
            if icd9:
                requests.append(ClaimRequest(position, claim_id, None, ICD9_PROBLEM))
                continue
            try:
                claim = ClaimIn.model_validate(
                    {**_drop_none(row), "lines": lines_of.get(index, [])}
                )
            except ValidationError as error:
                problem = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
                )
                requests.append(ClaimRequest(position, claim_id, None, problem))
                continue
            requests.append(ClaimRequest(position, claim_id, claim, None))
        requests += [
            ClaimRequest(s.position, s.claim_id, None, s.error.describe()) for s in self.skipped
        ]
        return sorted(requests, key=lambda r: r.position)


def _drop_none(row: dict[str, Any]) -> dict[str, Any]:
    """The row without unknown values (``None``, or NaN where pandas stored text)."""
    return {k: v for k, v in row.items() if isinstance(v, list) or not pd.isna(v)}


class _Claim:
    __slots__ = (
        "attachment",
        "claim_date",
        "codes",
        "error",
        "fields",
        "icd9",
        "line_auth",
        "line_referral",
        "line_rendering",
        "lines",
        "patient_account",
        "position",
        "rendering",
    )

    def __init__(self, position: int) -> None:
        self.position = position
        self.fields: dict[str, Any] = {}
        self.lines: list[dict[str, Any]] = []
        self.codes: list[tuple[bool, str]] = []  # (principal, code)
        self.error: X12Error | None = None
        self.icd9 = self.attachment = False
        self.claim_date: dt.date | None = None
        self.rendering: str | None = None
        self.line_rendering: str | None = None
        self.line_auth: str | None = None
        self.line_referral: str | None = None
        self.patient_account: str | None = None


class _Parser:
    """Walks the segments of one file with the loop state the 837P needs."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.source = document.source
        self.claims: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []
        self.skipped: list[SkippedClaim] = []
        self.warnings: list[str] = list(document.warnings)
        self.notes: dict[str, int] = {}

    # --- loop state -------------------------------------------------------------------

    def _start_transaction(self, transaction: Transaction) -> None:
        self.transaction = transaction
        self.submission_date: dt.date | None = (
            transaction.group_date or transaction.interchange_date
        )
        self.submission_error: X12Error | None = None
        self.loop = "header"
        self.billing_npi: str | None = None
        self.billing_error: X12Error | None = None
        self._reset_subscriber()
        self.claim: _Claim | None = None
        self.line: dict[str, Any] | None = None

    def _reset_subscriber(self) -> None:
        self.plan: str | None = None
        self.member_id: str | None = None
        self.payer_id: str | None = None
        self.payer_name: str | None = None
        self.subscriber_demographics: tuple[dt.date | None, str | None] = (None, None)
        self.subscriber_error: X12Error | None = None
        self._reset_patient()

    def _reset_patient(self) -> None:
        self.patient_demographics: tuple[dt.date | None, str | None] | None = None
        self.patient_error: X12Error | None = None

    def note(self, text: str) -> None:
        self.notes[text] = self.notes.get(text, 0) + 1

    # --- walking ------------------------------------------------------------------------

    def run(self) -> Claims837:
        for transaction in self.document.transactions:
            kind = transaction_kind(transaction)
            if kind == "837I":
                raise UnsupportedTransaction(
                    self.source,
                    "837I",
                    f"the transaction set at segment {transaction.position} is an institutional "
                    f"claim ({transaction.version or 'CLM05-2 A / SV2'}); only 837P is read",
                )
            if kind != "837P":
                raise X12Error(
                    self.source,
                    f"is a {transaction.code or 'unknown'} transaction set, not an 837P",
                    position=transaction.position,
                    segment_id="ST",
                )
            self._start_transaction(transaction)
            for segment in transaction.segments:
                try:
                    self._segment(segment)
                except UnsupportedTransaction:
                    raise
                except X12Error as error:
                    self._fail(error)
            self._close_claim()
        self.warnings += [f"{self.source}: {text} ({n}x)" for text, n in self.notes.items()]
        return self._result()

    def _fail(self, error: X12Error) -> None:
        if self.claim is not None:
            if self.claim.error is None:
                self.claim.error = error
        elif self.loop == "2000A":
            self.billing_error = self.billing_error or error
        elif self.loop == "2000B":
            self.subscriber_error = self.subscriber_error or error
        elif self.loop == "2000C":
            self.patient_error = self.patient_error or error
        else:
            self.submission_error = self.submission_error or error

    def _segment(self, segment: Segment) -> None:
        tag = segment.tag
        claim = self.claim
        if claim is not None:
            if tag == "LX":
                self._line_start(segment, claim)
            elif tag == "SV1":
                self._sv1(segment, claim)
            elif tag == "DTP":
                if segment.get(1) == "472":
                    date = period_start(segment, 2, 3)
                    if self.line is not None:
                        self.line["service_date"] = date
                    elif self.loop == "2300":
                        claim.claim_date = date
            elif tag == "HI":
                if self.loop == "2300":
                    self._hi(segment, claim)
            elif tag == "REF":
                self._claim_ref(segment, claim)
            elif tag == "NM1":
                if segment.get(1) == "82":
                    npi = segment.get(9) if segment.get(8) == "XX" else ""
                    if self.loop == "2300" and npi:
                        claim.rendering = npi
                    elif self.loop == "2400" and npi and claim.line_rendering is None:
                        claim.line_rendering = npi
            elif tag == "PWK":
                if self.loop in ("2300", "2400"):
                    claim.attachment = True
            elif tag == "SBR":
                self.loop, self.line = "2320", None  # other payer: not this claim's facts
            elif tag == "SV2":
                raise UnsupportedTransaction(
                    self.source,
                    "837I",
                    f"segment {segment.position} (SV2) is an institutional service line",
                )
            elif tag in ("CLM", "HL", "SE"):
                self._close_claim()
                self._segment(segment)
            return
        if tag == "CLM":
            self._clm(segment)
        elif tag == "HL":
            self._hl(segment)
        elif tag == "NM1":
            self._nm1(segment)
        elif tag == "SBR":
            if self.loop == "2000B":
                self.plan = plan_type(segment.get(9))
        elif tag == "DMG":
            self._dmg(segment)
        elif tag == "BHT":
            self.submission_date = date_element(segment, 4)
        elif tag in ("LX", "SV1"):
            raise segment.error("appears before any CLM")

    def _hl(self, segment: Segment) -> None:
        level = segment.get(3)
        if level == "20":
            self.loop, self.billing_npi, self.billing_error = "2000A", None, None
            self._reset_subscriber()
        elif level == "22":
            self.loop = "2000B"
            self._reset_subscriber()
        elif level == "23":
            self.loop = "2000C"
            self._reset_patient()
            self.patient_demographics = (None, None)
        else:
            self.loop = f"HL{level}"

    def _nm1(self, segment: Segment) -> None:
        entity, loop = segment.get(1), self.loop
        if loop == "2000A" and entity == "85":
            if segment.get(8) == "XX":
                self.billing_npi = segment.get(9) or None
            else:
                self.note("billing provider NM1*85 without an NPI (NM108 is not XX)")
        elif loop == "2000B":
            if entity == "IL":
                self.member_id = segment.get(9) or None
            elif entity == "PR":
                self.payer_id = segment.get(9) or None
                self.payer_name = segment.get(3) or None

    def _dmg(self, segment: Segment) -> None:
        if segment.get(1) not in ("D8", ""):
            raise segment.error(f"date format {segment.get(1)!r} is not D8", 1)
        birth = date_element(segment, 2, required=False)
        sex = segment.get(3) or None
        if sex is not None and sex not in ("F", "M", "U"):
            raise segment.error(f"is not F, M or U ({sex!r})", 3)
        if self.loop == "2000B":
            self.subscriber_demographics = (birth, sex)
        elif self.loop == "2000C":
            self.patient_demographics = (birth, sex)

    def _clm(self, segment: Segment) -> None:
        claim = self.claim = _Claim(segment.position)
        self.loop, self.line = "2300", None
        claim_id = segment.get(1)
        claim.fields["claim_id"] = claim_id or None
        if not claim_id:
            raise segment.error("is missing", 1)
        claim.fields["total_charge"] = amount(segment, 2)
        place = segment.components(5)
        if not place or not place[0]:
            raise segment.error("is missing", 5, 1)
        if len(place) > 1 and place[1] == "A":
            raise UnsupportedTransaction(
                self.source,
                "837I",
                f"segment {segment.position} (CLM): CLM05-2 'A' is an institutional facility "
                "type code",
            )
        if len(place) < 3 or not place[2]:
            raise segment.error("is missing", 5, 3)
        claim.fields["place_of_service"] = place[0]
        claim.fields["frequency_code"] = place[2]

    def _claim_ref(self, segment: Segment, claim: _Claim) -> None:
        qualifier, value = segment.get(1), segment.get(2) or None
        if self.loop == "2300":
            if qualifier == "G1":
                claim.fields["prior_auth_number"] = value
            elif qualifier == "9F":
                claim.fields["referral_number"] = value
            elif qualifier == "EA":
                claim.patient_account = value
        elif self.loop == "2400":
            if qualifier == "G1" and claim.line_auth is None:
                claim.line_auth = value
            elif qualifier == "9F" and claim.line_referral is None:
                claim.line_referral = value

    def _hi(self, segment: Segment, claim: _Claim) -> None:
        for index in range(1, min(len(segment.elements), 13)):
            parts = segment.components(index)
            if not parts:
                continue
            qualifier = parts[0]
            if qualifier not in DIAGNOSIS_QUALIFIERS:
                continue
            if len(parts) < 2 or not parts[1]:
                raise segment.error("is missing", index, 2)
            if qualifier in (ICD9_PRINCIPAL, ICD9_OTHER):
                claim.icd9 = True
            claim.codes.append((qualifier in (ICD10_PRINCIPAL, ICD9_PRINCIPAL), parts[1]))

    def _line_start(self, segment: Segment, claim: _Claim) -> None:
        self.loop = "2400"
        text = segment.get(1)
        if not text.isdigit():
            raise segment.error(f"is not a line number ({text!r})" if text else "is missing", 1)
        self.line = {"line_number": int(text), "position": segment.position}
        claim.lines.append(self.line)

    def _sv1(self, segment: Segment, claim: _Claim) -> None:
        line = self.line
        if line is None or "procedure_code" in line:
            if self.loop not in ("2300", "2400"):
                raise segment.error("appears outside a service line (loop 2400)")
            line = self.line = {"line_number": len(claim.lines) + 1}
            claim.lines.append(line)
            self.loop = "2400"
            self.note("SV1 without its LX: line numbered by position")
        procedure = segment.components(1)
        if len(procedure) < 2 or not procedure[1]:
            raise segment.error("is missing", 1, 2)
        line["procedure_code"] = procedure[1]
        line["modifiers"] = [m for m in procedure[2:6] if m]
        line["line_charge"] = amount(segment, 2)
        line["units"] = amount(segment, 4)
        pointers = []
        for number, text in enumerate(segment.components(7), start=1):
            if not text.isdigit():
                whole, _, zeros = text.partition(".")
                if not (whole.isdigit() and zeros.strip("0") == ""):
                    raise segment.error(f"is not a diagnosis pointer ({text!r})", 7, number)
                text = whole
                self.note("diagnosis pointer written as a decimal (SV107 '1.00'), read as whole")
            pointers.append(int(text))
        line["diagnosis_pointers"] = pointers

    # --- closing a claim ----------------------------------------------------------------

    def _close_claim(self) -> None:
        claim, self.claim, self.line = self.claim, None, None
        if claim is None:
            return
        self.loop = "claim-closed"
        error = (
            claim.error
            or self.submission_error
            or self.billing_error
            or self.subscriber_error
            or self.patient_error
        )
        if error is None:
            error = next(
                (
                    X12Error(
                        self.source,
                        "is missing: the service line has no SV1",
                        position=line["position"],
                        segment_id="LX",
                        element="SV1",
                    )
                    for line in claim.lines
                    if "procedure_code" not in line
                ),
                None,
            )
        if error is not None:
            self.skipped.append(SkippedClaim(claim.position, claim.fields.get("claim_id"), error))
            return
        self._emit(claim)

    def _emit(self, claim: _Claim) -> None:
        fields = claim.fields
        birth, sex = self.patient_demographics or self.subscriber_demographics
        member_id, payer_id = self.member_id, self.payer_id
        if claim.patient_account:
            patient_id: str | None = claim.patient_account
        elif member_id and payer_id:
            patient_id = pseudonymous_patient_id(payer_id, member_id, birth)
        else:
            patient_id = None
        dates = [
            d for d in [claim.claim_date, *(ln.get("service_date") for ln in claim.lines)] if d
        ]
        principal = [code for first, code in claim.codes if first]
        others = [code for first, code in claim.codes if not first]
        index = len(self.claims)
        claim_id = fields["claim_id"]
        self.claims.append(
            {
                "claim_id": claim_id,
                "patient_id": patient_id,
                "member_id": member_id,
                "patient_birth_date": birth,
                "patient_sex": sex,
                "payer_id": payer_id,
                "payer_name": self.payer_name,
                "plan_type": self.plan or "other",
                "billing_npi": self.billing_npi,
                "rendering_npi": claim.rendering or claim.line_rendering,
                "place_of_service": fields["place_of_service"],
                "frequency_code": fields["frequency_code"],
                "service_date": min(dates) if dates else None,
                "submission_date": self.submission_date,
                "total_charge": fields["total_charge"],
                "prior_auth_number": fields.get("prior_auth_number") or claim.line_auth,
                "referral_number": fields.get("referral_number") or claim.line_referral,
                "diagnosis_codes": principal + others,
                "has_attachment": claim.attachment,
                "segment": claim.position,
                "icd9": claim.icd9,
            }
        )
        for line in claim.lines:
            self.lines.append(
                {
                    "claim_id": claim_id,
                    "line_number": line["line_number"],
                    "procedure_code": line["procedure_code"],
                    "modifiers": line["modifiers"],
                    "units": line["units"],
                    "line_charge": line["line_charge"],
                    "diagnosis_pointers": line["diagnosis_pointers"],
                    "service_date": line.get("service_date"),
                    "claim_index": index,
                }
            )

    def _result(self) -> Claims837:
        claims = pd.DataFrame(self.claims, columns=CLAIM_COLUMNS + CLAIM_META)
        lines = pd.DataFrame(self.lines, columns=LINE_COLUMNS + LINE_META)
        return Claims837(
            self.source,
            claims,
            lines,
            self.skipped,
            self.warnings,
            len(self.document.transactions),
        )


def parse_837p_document(document: Document) -> Claims837:
    """The claims of a document's transactions, all of which must be 837P."""
    return _Parser(document).run()


def parse_837p(text: str, source: str = "<837P>") -> Claims837:
    """Read an 837P text; raises ``X12Error`` for a broken file, ``UnsupportedTransaction``
    for an 837I. Problems confined to one claim skip that claim (``Claims837.skipped``)."""
    with paused_gc():
        return parse_837p_document(read_document(text, source))


def read_837p(path: Path) -> Claims837:
    return parse_837p(read_text(path), Path(path).name)
