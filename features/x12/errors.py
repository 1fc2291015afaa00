"""Errors for people: every X12 problem names the file, the segment (1-based position in the
file and its id) and, when it is about one value, the element (``CLM01``, ``CLM05-3``)."""

from __future__ import annotations


class X12Error(ValueError):
    """A problem in an X12 file, e.g. ``claims.837: segment 42 (CLM): CLM01 is missing``."""

    def __init__(
        self,
        source: str,
        message: str,
        *,
        position: int | None = None,
        segment_id: str | None = None,
        element: str | None = None,
    ) -> None:
        self.source, self.message = source, message
        self.position, self.segment_id, self.element = position, segment_id, element
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.source
        if self.position is not None:
            where += f": segment {self.position}"
            if self.segment_id:
                where += f" ({self.segment_id})"
        what = f"{self.element} {self.message}" if self.element else self.message
        return f"{where}: {what}"

    @property
    def reason(self) -> str:
        """The problem without file and position: what skip counters group by."""
        what = f"{self.element} {self.message}" if self.element else self.message
        return f"{self.segment_id}: {what}" if self.segment_id else what


class UnsupportedTransaction(X12Error):
    """A well-formed X12 transaction this package does not read (837I, say)."""

    def __init__(self, source: str, kind: str, detail: str) -> None:
        self.kind = kind
        super().__init__(source, f"{kind} is not supported: {detail}")
