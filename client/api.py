"""``ClaimRiskClient``: the claimrisk API from a PM system, on httpx.

- the API key from ``api_key`` or the environment variable ``CLAIMRISK_API_KEY``;
- retries with exponential backoff (and the server's ``Retry-After``) on 429 and 503 and on
  connection errors, ``retries`` times;
- batches of any size split into calls of at most ``max_batch`` claims (the API's 10,000);
- X12: an 837P with its 271 / 278 responses sent as one body; FHIR: a ``Claim`` or a
  ``Bundle`` (``client.fhir.claim_to_fhir`` turns a JSON claim request into one).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import httpx

from client.models import FhirScore, Score, X12Scores

MAX_BATCH = 10_000
RETRY_STATUSES = frozenset({429, 503})
Reasons = Literal["all", "medium", "high", "none"]


class ClaimRiskError(RuntimeError):
    """The API refused a call: its status code and what it said (validation details...)."""

    def __init__(self, status_code: int, detail: Any) -> None:
        self.status_code, self.detail = status_code, detail
        super().__init__(f"claimrisk API answered {status_code}: {detail}")


def _chunks(claims: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for claim in claims:
        chunk.append(claim)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _text(part: str | bytes | Path) -> bytes:
    if isinstance(part, Path):
        return part.read_bytes()
    return part.encode() if isinstance(part, str) else part


class ClaimRiskClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_batch: int = MAX_BATCH,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        key = api_key or os.environ.get("CLAIMRISK_API_KEY")
        if not key:
            raise ValueError("no API key: pass api_key or set CLAIMRISK_API_KEY")
        if not 1 <= max_batch <= MAX_BATCH:
            raise ValueError(f"max_batch must be 1..{MAX_BATCH}")
        self.retries, self.backoff, self.max_batch = retries, backoff, max_batch
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"X-API-Key": key},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> ClaimRiskClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- transport ------------------------------------------------------------------------

    def _wait(self, attempt: int, response: httpx.Response | None) -> None:
        delay = self.backoff * 2**attempt
        if response is not None:
            after = response.headers.get("retry-after", "")
            if after.replace(".", "", 1).isdigit():
                delay = max(delay, float(after))
        time.sleep(min(delay, 30.0))

    def _post(self, path: str, **kwargs: Any) -> Any:
        for attempt in range(self.retries + 1):
            try:
                response = self._http.post(path, **kwargs)
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
                self._wait(attempt, None)
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.retries:
                self._wait(attempt, response)
                continue
            if response.status_code >= 400:
                try:
                    detail = response.json()
                except ValueError:
                    detail = response.text
                raise ClaimRiskError(response.status_code, detail)
            return response.json()
        raise AssertionError("unreachable")  # the loop returns or raises

    # --- the API --------------------------------------------------------------------------

    def score(self, claim: dict[str, Any]) -> Score:
        """One claim request (data contract section 2)."""
        return Score.model_validate(self._post("/v1/claims/score", json=claim))

    def score_batch(
        self, claims: Iterable[dict[str, Any]], reasons: Reasons = "all"
    ) -> list[Score]:
        """Any number of claims, in calls of at most ``max_batch``; results in input order."""
        results: list[Score] = []
        for chunk in _chunks(claims, self.max_batch):
            body = self._post("/v1/claims/score-batch", json={"claims": chunk, "reasons": reasons})
            results += [Score.model_validate(r) for r in body["results"]]
        return results

    def score_x12(self, *parts: str | bytes | Path, reasons: Reasons = "all") -> X12Scores:
        """An 837P and, beside it, the 271 / 278 responses the PM system has (texts, bytes or
        file paths), sent as one body: each claim gets its member's eligibility check and
        authorizations."""
        if not parts:
            raise ValueError("score_x12 needs at least the 837P")
        body = b"\n".join(_text(part) for part in parts)
        answer = self._post(
            "/v1/claims/score-x12",
            content=body,
            params={"reasons": reasons},
            headers={"content-type": "text/plain"},
        )
        return X12Scores.model_validate(answer)

    def score_fhir(self, resource: dict[str, Any]) -> FhirScore:
        """A FHIR R4 ``Claim`` or PAS-style ``Bundle`` -> the answer's ``Parameters``, typed."""
        answer = self._post(
            "/v1/fhir/Claim/$denial-risk",
            json=resource,
            headers={"content-type": "application/fhir+json"},
        )
        return FhirScore.from_parameters(answer)
