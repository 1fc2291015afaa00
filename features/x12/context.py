"""An 837P sent with its context: 271 eligibility and 278 authorization responses beside the
claims, in one body or file (interchanges one after the other, in any order), so a PM system
can send exactly the files it already has.

Each claim gets the context of its member with its payer (the 837P's NM1*IL and NM1*PR
NM109 against the 271's NM1*IL / NM1*PR and the 278's NM1*IL / NM1*X3):

- ``eligibility``: the latest check on or before the claim's submission date (the contract's
  rule for the history's ``eligibility_checks``); a check dated later is not used;
- ``authorizations``: every certified authorization of the member with the payer (at most
  the contract's 100, latest first).

A claim whose member has no 271 (or 278) in the body keeps the context absent, and the answer
says the category could not be checked, as for an 837P alone. As for any request, a claim with
a 278 authorization and no 271 is scored as having no eligibility check on file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from features.contract import AuthorizationIn, EligibilityIn
from features.x12.auth278 import AUTHORIZATION_COLUMNS, parse_278_document
from features.x12.claims837 import ClaimRequest, parse_837p_document
from features.x12.eligibility271 import ELIGIBILITY_COLUMNS, parse_271_document
from features.x12.errors import X12Error
from features.x12.segments import Document, Transaction, paused_gc, read_document
from features.x12.sniff import transaction_kind

MAX_AUTHORIZATIONS = 100
Key = tuple[str, str]  # (member_id, payer_id)


@dataclass
class ClaimsWithContext:
    """The claim requests of a body in file order, each with the context found for it."""

    requests: list[ClaimRequest]
    checks: int = 0  # eligibility checks read from 271s
    authorizations: int = 0  # certified authorizations read from 278s
    problems: list[str] = field(default_factory=list)  # context that could not be read
    has_context: bool = False  # the body had 271 or 278 transaction sets


def _document(source: Document, transactions: list[Transaction]) -> Document:
    return Document(source.source, transactions, source.segment_count, list(source.warnings))


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in row.items() if isinstance(v, list) or not pd.isna(v)}
        for row in frame[columns].to_dict("records")
    ]


def read_claims_with_context(text: str, source: str) -> ClaimsWithContext:
    """Raises ``X12Error`` for a broken body, one without an 837P, or a transaction that is
    neither 837P, 271 nor 278; ``UnsupportedTransaction`` for an 837I."""
    with paused_gc():
        document = read_document(text, source)
        by_kind: dict[str, list[Transaction]] = defaultdict(list)
        for transaction in document.transactions:
            kind: str = transaction_kind(transaction)
            if kind in ("837P", "837I"):
                kind = "837"
            elif kind not in ("271", "278"):
                raise transaction.segments[0].error(
                    f"is a {transaction.code or 'unknown'} transaction set: send 837P claims "
                    "with 271 and 278 responses only",
                    1,
                )
            by_kind[kind].append(transaction)
        if not by_kind["837"]:
            raise X12Error(source, "no 837P claim (ST*837) among the transaction sets")
        claims = parse_837p_document(_document(document, by_kind["837"]))
        checks = parse_271_document(_document(document, by_kind["271"]))
        auths = parse_278_document(_document(document, by_kind["278"]))
    problems = [s.error.describe() for s in checks.skipped]
    problems += [s.error.describe() for s in auths.skipped]
    eligibility: dict[Key, list[tuple[dt.date, EligibilityIn]]] = defaultdict(list)
    for row in _records(checks.checks, [*ELIGIBILITY_COLUMNS]):
        key = (row.pop("member_id"), row.pop("payer_id"))
        eligibility[key].append((row["checked_on"], EligibilityIn.model_validate(row)))
    authorizations: dict[Key, list[AuthorizationIn]] = defaultdict(list)
    for row in _records(auths.authorizations, [*AUTHORIZATION_COLUMNS]):
        key = (row.pop("member_id"), row.pop("payer_id"))
        authorizations[key].append(AuthorizationIn.model_validate(row))
    requests = [
        _with_context(request, eligibility, authorizations) for request in claims.claim_requests()
    ]
    return ClaimsWithContext(
        requests,
        len(checks.checks),
        len(auths.authorizations),
        problems,
        has_context=bool(by_kind["271"] or by_kind["278"]),
    )


def _with_context(
    request: ClaimRequest,
    eligibility: dict[Key, list[tuple[dt.date, EligibilityIn]]],
    authorizations: dict[Key, list[AuthorizationIn]],
) -> ClaimRequest:
    claim = request.claim
    if claim is None:
        return request
    key = (claim.member_id, claim.payer_id)
    update: dict[str, Any] = {}
    usable = [(on, check) for on, check in eligibility.get(key, []) if on <= claim.submission_date]
    if usable and claim.eligibility is None:
        update["eligibility"] = max(usable, key=lambda pair: pair[0])[1]
    found = authorizations.get(key)
    if found and claim.authorizations is None:
        latest = sorted(found, key=lambda a: a.start_date, reverse=True)
        update["authorizations"] = latest[:MAX_AUTHORIZATIONS]
    if not update:
        return request
    return replace(request, claim=claim.model_copy(update=update))
