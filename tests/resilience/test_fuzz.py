"""schemathesis against the app's own OpenAPI document, in process, on SQLite and PostgreSQL.

Every operation, fuzzed alone (with real object ids as well as random ones, so that bodies
reach the code behind the id) and in sequences that follow the document's links (the stateful
phase: create a number, then patch, verify, delete it...). Asserted: no server error, no
status the operation does not document, and every answer matches the documented content type
and schema.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import core.policy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Setting per-request cookies"),
    # schemathesis hands httpx a generated raw body as ``data=`` bytes; httpx sends it as is
    # and warns that ``content=`` is the spelling it prefers. Nothing of ours to change.
    pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning"),
]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Examples per operation, and stateful scenarios. Enough to meet a body that only a real
#: object's id lets through (the PATCH that answered 500 took a null boolean), cheap enough for
#: CI: both tests on both databases take about two minutes on two cores (a new app a scenario).
EXAMPLES = 60
SCENARIOS = 60
SETTINGS = settings(
    deadline=None,
    database=None,
    derandomize=True,  # the same examples on every run: a red CI run is reproducible
    suppress_health_check=list(HealthCheck),
)


#: The policy's clock while fuzzing (a Wednesday, noon in New York, 18:00 in Paris): a
#: workspace policy the fuzzer sets may turn calling hours on with windows of its own, and the
#: stateful phase needs the same request to get the same answer in every scenario, whatever the
#: time (hypothesis refuses a run whose steps answer differently between scenarios as
#: "inconsistent data generation": seen once in a full run, on both databases).
FUZZ_NOW = datetime(2026, 7, 15, 16, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A fresh, migrated database of each kind."""
    return request.getfixturevalue("pg_url") if request.param == "postgres" else sqlite_url


@pytest.fixture
def fuzz_app(make_api: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``fuzz_app(url, workspaces=None)``: the fuzzed app over ``url``, the policy's clock fixed
    at :data:`FUZZ_NOW`."""
    monkeypatch.setattr(core.policy, "now", lambda: FUZZ_NOW)

    def start(url: str, workspaces: tuple[str, str, str, str] | None = None) -> Any:
        return make_api(
            plugins=["sandbox", "country_rules"],
            tables={
                "country_rules": {"blocked": ["KP"]},
                # a carrier callback would land at a point of the wall clock: none arrives
                "sandbox": {"callback_delay_seconds": 3600},
            },
            database_url=url,
            # The same reason as the clock: a per-minute limit would answer the same step 200
            # in one scenario and 429 in another, by the wall clock (tests/test_verify_limits.py
            # checks the limit itself).
            env={"TRUNKLINE_VERIFY_CLI_RATE": "100000/minute"},
            workspaces=workspaces,
        )

    return start


@pytest.fixture
def fuzzed(database: str, fuzz_app: Callable[..., Any]) -> Any:
    """An app with objects to find: numbers (hosted, verified, plain) and a campaign."""
    api = fuzz_app(database)
    hosted = api.add_number("+14155550100", "sandbox", hosted=True, outbound_enabled=True)
    plain = api.add_number("+14155550101", "sandbox")
    api.add_number("+14155550102", "sandbox", verified_cli=True, verification_status="verified")
    campaign = api.client.post(
        "/campaigns", json={"name": "Fuzz", "from_e164": hosted["phone_e164"]}
    )
    assert campaign.status_code == 201, campaign.text
    api.extra["ids"] = {
        "number_id": [hosted["id"], plain["id"]],
        "cid": [campaign.json()["id"]],
        "provider": ["sandbox"],
    }
    return api


def _send(api: Any, case: Any) -> Any:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=api.client.headers)
    return api.testclient.request(**kwargs)


def _with_known_ids(api: Any) -> Callable[[Any], Any]:
    """A strategy transform: path parameters set to objects that exist."""
    ids = api.extra["ids"]

    def pick(draw: Any, case: Any) -> Any:
        for name in list(case.path_parameters or {}):
            if name in ids:
                case.path_parameters[name] = draw(st.sampled_from(ids[name]))
        return case

    return lambda strategy: st.composite(lambda draw: pick(draw, draw(strategy)))()


def test_every_operation_conforms_to_its_documented_schema(fuzzed: Any) -> None:
    api = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    seen: dict[str, set[int]] = {}
    failures: dict[str, str] = {}
    known = _with_known_ids(api)

    def fuzz(operation: Any) -> None:
        label = f"{operation.method.upper()} {operation.path}"
        strategy = operation.as_strategy()
        if operation.path_parameters:
            strategy = st.one_of(strategy, known(strategy))

        @given(case=strategy)
        @settings(SETTINGS, max_examples=EXAMPLES)
        def run(case: Any) -> None:
            response = _send(api, case)
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
    # the examples went past authentication and validation, into the code behind
    assert 200 in seen["PATCH /settings/telephony/numbers/{number_id}"], seen
    assert 200 in seen["GET /campaigns/{cid}"], seen
    assert sum(1 for codes in seen.values() if any(200 <= c < 300 for c in codes)) >= 12, seen


def test_sequences_of_operations_conform(
    fuzzed: Any, database: str, fuzz_app: Callable[..., Any], copy_database: Callable[[str], str]
) -> None:
    """The stateful phase: schemathesis chains operations along the document's links.

    Each scenario gets a new app over a copy of the seeded database, so that a step's answer
    depends on the scenario's own steps alone: hypothesis replays the start of earlier
    scenarios while it generates, and refuses a run in which the same steps answer differently
    ("inconsistent data generation"). With one app for every scenario, what the earlier ones
    left behind (and, through it, even what the test process had imported before) decided it.
    """
    # the document itself, not the app: a schema loaded from the app keeps it running
    schema = schemathesis.openapi.from_dict(fuzzed.client.get("/openapi.json").json())
    workspaces = fuzzed.workspaces
    fuzzed.close()  # a PostgreSQL database is copied only with nothing connected to it
    steps: dict[str, set[int]] = {}
    scenarios = 0

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            nonlocal scenarios
            scenarios += 1
            self.api = fuzz_app(copy_database(database), workspaces)

        def teardown(self) -> None:
            self.api.close()

        def call(self, case: Any, **kwargs: Any) -> Response:
            response = _send(self.api, case)
            label = f"{case.operation.method.upper()} {case.operation.path}"
            steps.setdefault(label, set()).add(response.status_code)
            return Response.from_any(response)

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflow.run(settings=settings(SETTINGS, max_examples=SCENARIOS, stateful_step_count=8))
    assert scenarios >= SCENARIOS
    # links were followed: an object one step answered was read or changed by a later step
    followed = {label for label, codes in steps.items() if "{" in label and codes & {200, 201, 204}}
    assert followed, steps
