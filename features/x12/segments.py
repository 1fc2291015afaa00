"""Tolerant X12 segment reader: envelopes, delimiters and segment positions.

Delimiters come from each ISA (element separator = ISA character 4, repetition separator =
ISA11 from 5010 on, component separator = ISA16, segment terminator = the character after
ISA16). A transaction set without envelope (``ST..SE``, possibly inside ``GS..GE``) gets the
default ``*`` ``:`` ``~``, with the element separator and terminator read off its first
segment. Newlines or CRLF after terminators, a UTF-8 BOM and several interchanges in one file
are accepted. Every segment keeps its 1-based position in the file for error messages.

Envelope counts and control numbers that disagree (SE01, GE01, IEA01) are warnings, not
errors: the transactions are complete. A file that ends inside an envelope is an error.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from features.x12.errors import X12Error

BOM = "\ufeff"
_ALTERNATE_COMPONENTS = (">", ":")


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    segment: str = "~"

    def describe(self) -> str:
        return (
            f"element {self.element!r}, component {self.component!r}, "
            f"segment terminator {self.segment!r}"
        )


DEFAULT_DELIMITERS = Delimiters()


@dataclass(frozen=True)
class Context:
    """What the segments of one interchange share: the file name and the delimiters."""

    source: str
    delimiters: Delimiters


class Segment:
    """One segment: ``elements[0]`` is the segment id, ``elements[i]`` is element ``i``."""

    __slots__ = ("context", "elements", "position")

    def __init__(self, elements: list[str], position: int, context: Context) -> None:
        self.elements, self.position, self.context = elements, position, context

    @property
    def tag(self) -> str:
        return self.elements[0]

    @property
    def source(self) -> str:
        return self.context.source

    @property
    def delimiters(self) -> Delimiters:
        return self.context.delimiters

    def __repr__(self) -> str:
        return f"Segment({self.tag} at {self.position}, {len(self.elements) - 1} elements)"

    def get(self, index: int) -> str:
        elements = self.elements
        return elements[index] if index < len(elements) else ""

    def name(self, index: int, component: int | None = None) -> str:
        name = f"{self.tag}{index:02d}"
        return f"{name}-{component}" if component is not None else name

    def error(
        self, message: str, index: int | None = None, component: int | None = None
    ) -> X12Error:
        element = self.name(index, component) if index is not None else None
        return X12Error(
            self.source, message, position=self.position, segment_id=self.tag, element=element
        )

    def require(self, index: int) -> str:
        value = self.get(index)
        if not value:
            raise self.error("is missing", index)
        return value

    def components(self, index: int) -> list[str]:
        """The components of a composite element (``[]`` when the element is empty).

        Some real files declare one component separator in ISA16 and use another (``>``
        against ``:``); when the declared one is absent and an alternate is present, the
        alternate is used (the document reader counts it as a warning).
        """
        value = self.get(index)
        if not value:
            return []
        separator = self.context.delimiters.component
        if separator not in value:
            for alternate in _ALTERNATE_COMPONENTS:
                if alternate != separator and alternate in value:
                    return value.split(alternate)
        return value.split(separator)


@dataclass
class Transaction:
    """One ``ST..SE`` transaction set and what its envelopes say about it."""

    source: str
    segments: list[Segment]  # ST first, SE last
    delimiters: Delimiters
    # ST03, else GS08, else ISA12 ("" when none). X12: ST03, the implementation convention
    # reference, "takes precedence over the implementation reference specified in the GS08".
    version: str
    group_date: dt.date | None = None  # GS04
    interchange_date: dt.date | None = None  # ISA09

    @property
    def code(self) -> str:
        return self.segments[0].get(1)

    @property
    def position(self) -> int:
        return self.segments[0].position

    @property
    def is_4010(self) -> bool:
        return self.version.startswith(("004010", "00401"))


@dataclass
class Document:
    """The transactions of one file, in file order, and envelope warnings."""

    source: str
    transactions: list[Transaction]
    segment_count: int
    warnings: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    """File bytes as text: UTF-16 if it starts with its byte order mark, else UTF-8 (with or
    without BOM), else Windows-1252 (what Excel and older systems write), else Latin-1."""
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    for encoding in ("utf-16",) * utf16 + ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def read_text(path: Path) -> str:
    return decode(Path(path).read_bytes())


def read_file(path: Path) -> Document:
    return read_document(read_text(path), path.name)


def _date8(value: str) -> dt.date | None:
    try:
        return (
            dt.date(int(value[:4]), int(value[4:6]), int(value[6:8])) if len(value) == 8 else None
        )
    except ValueError:
        return None


def _date6(value: str) -> dt.date | None:
    return _date8("20" + value) if len(value) == 6 else None


def _isa_delimiters(text: str, start: int, source: str, position: int) -> tuple[Delimiters, int]:
    """Delimiters declared by the ISA at ``start`` and the offset just after its terminator."""
    element = text[start + 3 : start + 4]
    if not element or element.isalnum() or element.isspace():
        raise X12Error(
            source,
            "ISA is incomplete: no element separator after 'ISA' (file truncated?)",
            position=position,
            segment_id="ISA",
        )
    cursor = start + 3  # the separator before ISA01
    for _ in range(15):
        cursor = text.find(element, cursor + 1, start + 400)
        if cursor < 0:
            raise X12Error(
                source,
                f"ISA is incomplete: expected 16 elements separated by {element!r} "
                "(file truncated or wrong delimiter?)",
                position=position,
                segment_id="ISA",
            )
    component = text[cursor + 1 : cursor + 2]
    terminator = text[cursor + 2 : cursor + 3]
    if not component or not terminator:
        raise X12Error(
            source,
            "ISA is incomplete: ISA16 or the segment terminator is missing (file truncated?)",
            position=position,
            segment_id="ISA",
        )
    if terminator in "\r\n":
        terminator = "\n"
    fields = text[start:cursor].split(element)
    version = fields[12] if len(fields) > 12 else ""
    repetition = fields[11] if version >= "00501" and len(fields[11]) == 1 else None
    chosen = [element, component, terminator] + ([repetition] if repetition else [])
    if len(set(chosen)) != len(chosen) or component.isalnum() or terminator.isalnum():
        raise X12Error(
            source,
            f"ISA declares unusable delimiters (element {element!r}, component {component!r}, "
            f"repetition {repetition!r}, terminator {terminator!r})",
            position=position,
            segment_id="ISA",
        )
    end = cursor + 3
    return Delimiters(element, component, repetition, terminator), end


_BARE = re.compile(r"(?:ST|GS)([^A-Za-z0-9\s])")
_NEXT_SEGMENT = r"([^A-Za-z0-9\s{sep}]?)(\s*)(?:GS|ST|BHT|BPR){sep}"


def _bare_delimiters(text: str, start: int, source: str) -> Delimiters:
    """Delimiters of a transaction without ISA: read off the first (GS or ST) segment."""
    match = _BARE.match(text, start)
    if match is None:
        raise X12Error(source, "cannot find the element separator after the first segment id")
    element = match.group(1)
    following = re.compile(_NEXT_SEGMENT.format(sep=re.escape(element)))
    found = following.search(text, match.end())
    if found is None or not (found.group(1) or found.group(2)):
        raise X12Error(
            source,
            "cannot find the segment terminator after the first segment (file truncated?)",
        )
    terminator = found.group(1) or "\n"
    component = DEFAULT_DELIMITERS.component if element != ":" else ">"
    return Delimiters(element, component, DEFAULT_DELIMITERS.repetition, terminator)


_VALID_TAGS: set[str] = set()  # ids already seen valid (a cache)
_COMPOSITE_TAGS = frozenset({"CLM", "SV1", "SV2", "HI", "SVC"})


def _valid_tag(tag: str) -> bool:
    return 2 <= len(tag) <= 3 and tag.isalnum() and tag.isupper()


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.text = text[1:] if text.startswith(BOM) else text
        self.source = source
        self.position = 0
        self.transactions: list[Transaction] = []
        self.warnings: list[str] = []
        self.mixed_components = 0

    def run(self) -> Document:
        text, start = self.text, 0
        while True:
            # Between interchanges: whitespace, and the BOM of a file concatenated after another
            # (``cat claims.837 auths.278`` when the 278 was saved with one).
            while start < len(text) and (text[start].isspace() or text[start] == BOM):
                start += 1
            if start >= len(text):
                break
            if text.startswith("ISA", start):
                delimiters, _ = _isa_delimiters(text, start, self.source, self.position + 1)
                end = self._interchange_end(start, delimiters)
                self._envelope(text[start:end], delimiters, enveloped=True)
            elif text.startswith(("ST", "GS"), start):
                delimiters = _bare_delimiters(text, start, self.source)
                end = len(text)
                self._envelope(text[start:end], delimiters, enveloped=False)
            else:
                what = "file" if self.position == 0 else f"text after segment {self.position}"
                raise X12Error(
                    self.source,
                    f"{what} does not start with ISA, GS or ST: not an X12 interchange",
                )
            start = end
        if not self.transactions:
            raise X12Error(self.source, "no transaction set (ST..SE) in the file")
        if self.mixed_components:
            self.warnings.append(
                f"{self.source}: {self.mixed_components} composite(s) use '>' or ':' although "
                "ISA16 declares the other; read with the separator actually used"
            )
        return Document(self.source, self.transactions, self.position, self.warnings)

    def _interchange_end(self, start: int, delimiters: Delimiters) -> int:
        term, element = delimiters.segment, delimiters.element
        pattern = re.compile(re.escape(term) + r"\s*IEA" + re.escape(element))
        match = pattern.search(self.text, start)
        if match is None:
            return len(self.text)
        end = self.text.find(term, match.end())
        return len(self.text) if end < 0 else end + 1

    def _segments(self, chunk: str, delimiters: Delimiters) -> list[Segment]:
        source, element, terminator = self.source, delimiters.element, delimiters.segment
        if terminator not in "\r\n":
            chunk = chunk.replace("\r", "").replace("\n", "")  # line breaks are not data
        pieces = chunk.split(terminator)
        if len(pieces) < 3 and len(chunk) > 200:
            raise X12Error(
                source,
                f"the segment terminator {terminator!r} declared here hardly occurs "
                f"in the file: wrong delimiter? (declared {delimiters.describe()})",
                position=self.position + 1,
                segment_id=chunk[:3] if chunk.startswith("ISA") else None,
            )
        context = Context(source, delimiters)
        declared = delimiters.component
        others = tuple(c for c in _ALTERNATE_COMPONENTS if c != declared)
        valid = _VALID_TAGS
        segments: list[Segment] = []
        append = segments.append
        position = self.position
        mixed = 0
        for piece in pieces:
            elements = piece.split(element)
            tag = elements[0]
            if tag not in valid:
                piece = piece.strip()
                if not piece:
                    continue
                elements = piece.split(element)
                tag = elements[0]
                if not _valid_tag(tag):
                    shown = piece[:6] + ("…" if len(piece) > 6 else "")
                    raise X12Error(
                        source,
                        f"cannot read a segment id from {shown!r}: wrong delimiter? "
                        f"(the envelope declares {delimiters.describe()})",
                        position=position + 1,
                    )
                valid.add(tag)
            position += 1
            if tag in _COMPOSITE_TAGS and declared not in piece and any(o in piece for o in others):
                mixed += 1
            append(Segment(elements, position, context))
        self.position = position
        self.mixed_components += mixed
        return segments

    def _envelope(self, chunk: str, delimiters: Delimiters, *, enveloped: bool) -> None:
        segments = self._segments(chunk, delimiters)
        if not segments:
            return
        isa = segments[0] if enveloped else None
        isa_date = _date6(isa.get(9)) if isa else None
        isa_version = isa.get(12) if isa else ""
        gs: Segment | None = None
        st: Segment | None = None
        body: list[Segment] = []
        groups = 0
        in_group = 0
        closed = False
        for segment in segments[1:] if enveloped else segments:
            tag = segment.tag
            if st is not None:
                body.append(segment)
                if tag == "SE":
                    self._close_transaction(body, delimiters, gs, isa_version, isa_date)
                    st, body = None, []
                elif tag in ("ST", "ISA", "IEA", "GS", "GE"):
                    raise segment.error(
                        f"appears inside the transaction set started at segment {st.position} "
                        "(ST) before its SE: the file looks truncated or spliced"
                    )
                continue
            if closed:
                raise segment.error("appears after IEA inside the same interchange")
            if tag == "ST":
                st, body = segment, [segment]
                in_group += 1
            elif tag == "GS":
                gs, in_group = segment, 0
                groups += 1
            elif tag == "GE":
                if gs is None:
                    raise segment.error("GE without GS")
                self._check_count(segment, 1, in_group, "transaction sets in the group")
                if segment.get(2) != gs.get(6):
                    self.warnings.append(
                        f"{self.source}: segment {segment.position} (GE): GE02 "
                        f"{segment.get(2)!r} does not match GS06 {gs.get(6)!r}"
                    )
                gs = None
            elif tag == "IEA" and enveloped:
                if gs is not None:
                    raise segment.error(f"the group opened at segment {gs.position} has no GE")
                self._check_count(segment, 1, groups, "functional groups")
                closed = True
            else:
                raise segment.error("is outside a transaction set (ST..SE)")
        last = segments[-1]
        if st is not None:
            raise X12Error(
                self.source,
                f"the file ends inside the transaction set started at segment {st.position} "
                f"(ST {st.get(1)}) without SE: the file looks truncated",
                position=last.position,
                segment_id=last.tag,
            )
        if enveloped and not closed:
            missing = "GE and IEA" if gs is not None else "IEA"
            raise X12Error(
                self.source,
                f"the interchange started at segment {segments[0].position} (ISA) ends without "
                f"{missing}: the file looks truncated",
                position=last.position,
                segment_id=last.tag,
            )

    def _check_count(self, segment: Segment, index: int, actual: int, what: str) -> None:
        declared = segment.get(index)
        if declared != str(actual):
            self.warnings.append(
                f"{self.source}: segment {segment.position} ({segment.tag}): "
                f"{segment.name(index)} says {declared!r} {what}, found {actual}"
            )

    def _close_transaction(
        self,
        body: list[Segment],
        delimiters: Delimiters,
        gs: Segment | None,
        isa_version: str,
        isa_date: dt.date | None,
    ) -> None:
        st, se = body[0], body[-1]
        self._check_count(se, 1, len(body), "segments in the transaction set")
        if se.get(2) != st.get(2):
            self.warnings.append(
                f"{self.source}: segment {se.position} (SE): SE02 {se.get(2)!r} does not match "
                f"ST02 {st.get(2)!r}"
            )
        version = st.get(3) or (gs.get(8) if gs else "") or isa_version
        self.transactions.append(
            Transaction(
                self.source,
                body,
                delimiters,
                version,
                group_date=_date8(gs.get(4)) if gs else None,
                interchange_date=isa_date,
            )
        )


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file becomes millions of small lists.

    Parsing allocates no reference cycles, but every allocation burst makes the collector
    walk all live containers (a loaded history holds millions), which triples parse time.
    The previous state is restored on exit.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_document(text: str, source: str) -> Document:
    """Split ``text`` into transaction sets; ``source`` names the file in errors."""
    with paused_gc():
        return _Reader(text, source).run()
