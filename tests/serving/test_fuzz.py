"""Fuzz the OpenAPI schema with schemathesis: no input may produce a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from serving.app import create_app


@pytest.fixture()
def api_schema(settings):
    app = create_app(settings.model_copy(update={"max_body_bytes": 200_000}))
    with TestClient(app):  # runs the lifespan: the model is loaded
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(
    max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gives_a_server_error(case, keys):
    response = case.call(headers={"X-API-Key": keys[1]})
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
