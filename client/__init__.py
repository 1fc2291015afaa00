"""A Python client of the claimrisk API for practice-management systems (see README,
"Integrating a PM system")."""

from client.api import MAX_BATCH, ClaimRiskClient, ClaimRiskError
from client.fhir import claim_to_fhir
from client.models import FhirIssue, FhirScore, Reason, Score, X12Result, X12Scores

__all__ = [
    "MAX_BATCH",
    "ClaimRiskClient",
    "ClaimRiskError",
    "FhirIssue",
    "FhirScore",
    "Reason",
    "Score",
    "X12Result",
    "X12Scores",
    "claim_to_fhir",
]
