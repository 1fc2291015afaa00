"""Fuzz every operation of the OpenAPI schema with schemathesis: no input gives a 5xx, and
every answer is what the document says (status code, content type, body schema).

Both valid-by-schema (positive) and schema-violating (negative) requests are generated.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from serving.app import create_app

CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]


def _no_server_error(operation, mode, key):
    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=25,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case):
        response = case.call(headers={"X-API-Key": key})
        assert response.status_code < 500, (operation.label, response.text[:300])
        case.validate_response(response, checks=CONFORMANCE)  # documented status, type, body

    return run


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_gives_a_server_error(settings, keys, mode):
    app = create_app(settings.model_copy(update={"max_body_bytes": 200_000}))
    with TestClient(app):  # runs the lifespan: the model is loaded
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 8
        for operation in operations:
            run = _no_server_error(operation, mode, keys[1])
            try:
                run()
            except Unsatisfiable:  # nothing to violate (an operation without parameters)
                assert mode is GenerationMode.NEGATIVE
