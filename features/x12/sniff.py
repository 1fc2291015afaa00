"""What kind of input a file holds: 837P, 837I, 835, 271, 278, JSON lines, or something else."""

from __future__ import annotations

import re
from typing import Literal, cast

from features.x12.segments import Segment, Transaction

Kind = Literal["837P", "837I", "835", "271", "278", "jsonl", "unknown"]

# Implementation guide references (GS08 / ST03): 5010 and the 4010 guides they replaced.
_PROFESSIONAL = ("X222", "X098")
_INSTITUTIONAL = ("X223", "X096")
_REMITTANCE = ("X221", "X091")

_HEAD = 4096
_ST = re.compile(r"(?:^|[^A-Za-z0-9])ST([^A-Za-z0-9\s])(\d{3})")


def _guide_kind(version: str) -> Kind | None:
    if any(v in version for v in _PROFESSIONAL):
        return "837P"
    if any(v in version for v in _INSTITUTIONAL):
        return "837I"
    if any(v in version for v in _REMITTANCE):
        return "835"
    return None


def _claim_kind(segments: list[Segment]) -> Kind:
    """An 837 without a guide reference: CLM05-2 (B professional, A institutional), SV1/SV2."""
    for segment in segments:
        tag = segment.tag
        if tag == "CLM":
            qualifier = segment.components(5)[1:2]
            if qualifier == ["A"]:
                return "837I"
            if qualifier == ["B"]:
                return "837P"
        elif tag in ("SV2", "CL1"):
            return "837I"
        elif tag == "SV1":
            return "837P"
    return "837P"


def transaction_kind(transaction: Transaction) -> Kind:
    """The kind of one transaction set, from ST01, the guide reference, then its content."""
    code = transaction.code
    if code in ("835", "271", "278"):
        return cast(Kind, code)
    if code != "837":
        return "unknown"
    by_guide = _guide_kind(transaction.version)
    if by_guide in ("837P", "837I"):
        return by_guide
    return _claim_kind(transaction.segments)


def sniff(text: str) -> Kind:
    """Guess the kind of ``text`` from its beginning (for ``claimrisk score --input FILE``)."""
    head = text[:_HEAD].lstrip("\ufeff \t\r\n")
    if head.startswith("{"):
        return "jsonl"
    if not head.startswith(("ISA", "GS", "ST")):
        return "unknown"
    st = _ST.search(head)
    if st is None:
        return "unknown"
    element, code = st.group(1), st.group(2)
    if code in ("835", "271", "278"):
        return cast(Kind, code)
    if code != "837":
        return "unknown"
    for segment_text in re.split(r"[~\n']", head[: st.end() + 200]):
        fields = segment_text.strip().split(element)
        if fields[0] in ("GS", "ST"):
            guide = fields[8] if fields[0] == "GS" and len(fields) > 8 else ""
            guide = guide or (fields[3] if fields[0] == "ST" and len(fields) > 3 else "")
            found = _guide_kind(guide)
            if found:
                return found
    clm = re.search(re.escape(element) + r"\d{2}[:>^]([AB])[:>^]", text)
    if clm is not None:
        return "837I" if clm.group(1) == "A" else "837P"
    if re.search(r"(?:^|[~\n])\s*SV2" + re.escape(element), text):
        return "837I"
    return "837P"


def require_guide(transaction: Transaction, code: str, guide: str) -> None:
    """Refuse a transaction of another kind or implementation guide, naming its ST."""
    st = transaction.segments[0]
    kind = transaction_kind(transaction)
    if kind != code:
        raise st.error(f"is a {transaction.code or 'unknown'} transaction set, not a {code}", 1)
    if transaction.version and guide not in transaction.version:
        raise st.error(
            f"implementation guide {transaction.version!r} (ST03, else GS08) is not supported: "
            f"only the {code} of {guide} (5010) is read",
            3,
        )
