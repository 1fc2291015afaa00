"""The X12 layer: read 837P claims, 835 remittances, 271 eligibility and 278 authorization
responses into the contract's tables, and ingest files of them into a history folder. (The
simulator writes X12: ``simulator.x12_837`` and ``simulator.x12_835``.)

Modules, one job each:

- ``errors``: ``X12Error`` (file, segment position and id, element) and
  ``UnsupportedTransaction``
- ``segments``: tolerant segment reader (delimiters, envelopes, positions)
- ``values``: element values (dates, amounts) with errors naming the element
- ``codes``: SBR09 / CLP06 filing indicator <-> plan_type, adjustment groups, HI qualifiers
- ``sniff``: what a file is (837P, 837I, 835, 271, 278, JSON lines), guide checks
- ``claims837``: 837P -> ``claims`` / ``claim_lines`` rows and ``ClaimIn`` requests
- ``remits835``: 835 -> claim payments with every adjustment, ``outcomes`` rows
- ``eligibility271``: 271 -> ``eligibility_checks`` rows; ``auth278``: 278 -> ``authorizations``
- ``context``: an 837P with its 271 / 278 in one body -> claim requests with their context
- ``firstpass``: which payment is a claim's first-pass outcome
- ``store``: the history folder's Parquet tables, parked payments and the ingest manifest
- ``report``, ``ingest``: files -> history folder, idempotent, with an ``IngestReport``
"""

from features.x12.claims837 import ClaimRequest, Claims837, parse_837p, read_837p
from features.x12.errors import UnsupportedTransaction, X12Error
from features.x12.firstpass import first_pass
from features.x12.ingest import IngestError, ingest
from features.x12.remits835 import Remits835, parse_835, read_835
from features.x12.report import IngestReport
from features.x12.segments import decode, read_document
from features.x12.sniff import sniff

__all__ = [
    "ClaimRequest",
    "Claims837",
    "IngestError",
    "IngestReport",
    "Remits835",
    "UnsupportedTransaction",
    "X12Error",
    "decode",
    "first_pass",
    "ingest",
    "parse_835",
    "parse_837p",
    "read_835",
    "read_837p",
    "read_document",
    "sniff",
]
