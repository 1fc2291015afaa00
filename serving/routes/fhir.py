"""FHIR R4: score a Claim (or a PAS-style Bundle) and answer in FHIR."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse

from features.fhir import FhirError, read_fhir_claim
from serving.deps import CallerDep, get_scorer
from serving.fhir import MEDIA_TYPE, operation_outcome, parameters
from serving.routes.claims import _record
from serving.services import services

router = APIRouter(prefix="/v1/fhir", tags=["fhir"])

_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType"],
    "properties": {"resourceType": {"type": "string", "enum": ["Claim", "Bundle"]}},
    "description": "A FHIR R4 Claim (contained or referenced Patient, Coverage, Organization, "
    "Practitioner, CoverageEligibilityResponse, ClaimResponse) or a Bundle with one Claim",
}
_OUTCOME = {"description": "OperationOutcome naming the element", "content": {MEDIA_TYPE: {}}}


def _fhir(body: dict[str, Any], code: int = status.HTTP_200_OK) -> JSONResponse:
    return JSONResponse(body, status_code=code, media_type=MEDIA_TYPE)


@router.post(
    "/Claim/$denial-risk",
    summary="Denial risk of a FHIR R4 Claim, answered as FHIR Parameters",
    dependencies=[Depends(get_scorer)],
    response_class=JSONResponse,
    responses={
        200: {"description": "Parameters with the score and reasons", "content": {MEDIA_TYPE: {}}},
        400: _OUTCOME,
        422: _OUTCOME,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                MEDIA_TYPE: {"schema": _BODY_SCHEMA},
                "application/json": {"schema": _BODY_SCHEMA},
            },
        }
    },
)
async def denial_risk(request: Request, caller: CallerDep) -> JSONResponse:
    try:
        data = json.loads(await request.body())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        problem = [("", f"the body is not JSON: {error}")]
        return _fhir(operation_outcome(problem, "structure"), status.HTTP_400_BAD_REQUEST)
    try:
        mapped = read_fhir_claim(data)
    except FhirError as error:
        return _fhir(operation_outcome(error.problems), status.HTTP_422_UNPROCESSABLE_CONTENT)
    scored = await services(request).batcher.score(mapped.claim)
    _record(
        request,
        caller.key_id,
        "fhir-denial-risk",
        scored.scorer,
        [scored.result],
        scored.features,
        scored.submissions,
    )
    return _fhir(parameters(scored.result, mapped))
