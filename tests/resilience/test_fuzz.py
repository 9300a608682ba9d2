"""schemathesis against the app's own OpenAPI document, every operation, in process: no 5xx,
and every response matches what the document declares (status, content type, schema)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Setting per-request cookies")
def test_every_operation_conforms_to_its_documented_schema(make_api: Any) -> None:
    api = make_api(
        plugins=["sandbox", "country_rules"], tables={"country_rules": {"blocked": ["KP"]}}
    )
    api.add_number("+14155550100", "sandbox", hosted=True, outbound_enabled=True)
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    seen: dict[str, set[int]] = {}

    failures: dict[str, str] = {}

    def fuzz(operation: Any) -> None:
        label = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            kwargs = case.as_transport_kwargs(
                base_url="http://testserver", headers=api.client.headers
            )
            response = api.testclient.request(**kwargs)
            seen.setdefault(label, set()).add(response.status_code)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except BaseException as exc:  # gather every operation's failure, then report them all
            failures[label] = f"{type(exc).__name__}: {str(exc)[:1500]}"

    for operation in operations:
        fuzz(operation)
    assert failures == {}
    assert set(seen) == {f"{o.method.upper()} {o.path}" for o in operations}
    assert all(code < 500 for codes in seen.values() for code in codes), seen
    # the key was accepted: operations were exercised past authentication
    assert 200 in seen["POST /outbound/check"] | seen["GET /settings/telephony/numbers"]
    assert sum(1 for codes in seen.values() if any(200 <= c < 300 for c in codes)) >= 8, seen
