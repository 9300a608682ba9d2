"""What the API promises in its OpenAPI document and in docs/api.md: every status an
operation can answer is listed on it, and every problem code the API answers is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import api.app  # noqa: F401  (imports every route module, and so every error class)
import plugins.sandbox.plugin
import plugins.telnyx.plugin
import plugins.twilio.plugin  # noqa: F401
from api.problems import HTTP_CODES
from core.errors import ConfigurationError, Conflict, TrunklineError

DOC = Path(__file__).parents[2] / "docs" / "api.md"
#: Problem documents the HTTP layer makes itself (api/validation.py, api/problems.py).
HTTP_LAYER = {
    ("400", "invalid_json"),
    ("415", "unsupported_media_type"),
    ("422", "validation_error"),
    ("500", "internal_error"),
    *((str(status), code) for status, code in HTTP_CODES.items()),
}


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def _documented() -> set[tuple[str, str]]:
    return set(re.findall(r"^\| (\d{3}) \| `([a-z_]+)` \|", DOC.read_text(), re.M))


def test_docs_list_every_problem_code_the_api_answers() -> None:
    answered = set(HTTP_LAYER)
    for cls in _subclasses(TrunklineError):
        # configuration errors stop the start-up and are never answered; Conflict is a base
        if issubclass(cls, ConfigurationError) or cls is Conflict:
            continue
        answered.add((str(cls.status), cls.code))
    missing = answered - _documented()
    assert not missing, f"docs/api.md's problem table lacks {sorted(missing)}"


def test_every_operation_with_a_body_documents_unreadable_bodies(make_api: Any) -> None:
    document = make_api().client.get("/openapi.json").json()
    bodies = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            answers = set(operation["responses"])
            if "requestBody" in operation:
                bodies += 1
                assert {"400", "415", "422"} <= answers, (method, path, answers)
                problem = operation["responses"]["400"]["content"]
                assert "application/problem+json" in problem, (method, path)
            if operation.get("security"):
                assert "401" in answers, (method, path)
            if "{" in path and operation.get("security"):
                assert "404" in answers, (method, path)
    assert bodies >= 8


def test_operations_list_what_they_answer_not_a_blanket_set(make_api: Any) -> None:
    """Each operation's own list: a read of one object cannot answer a carrier's 502."""
    paths = make_api().client.get("/openapi.json").json()["paths"]
    codes = {
        (method, path): set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert codes[("get", "/settings/telephony/numbers/{number_id}")] == {"200", "401", "404"}
    assert codes[("get", "/settings/telephony/providers")] == {"200", "401"}
    # releasing a hosted number asks its carrier, whose failures it answers
    assert codes[("delete", "/settings/telephony/numbers/{number_id}")] == {
        "204",
        "401",
        "403",
        "404",
        "422",
        "429",
        "502",
        "503",
    }
    assert "502" in codes[("post", "/settings/telephony/numbers/verify-cli")]
    assert "429" in codes[("post", "/settings/telephony/numbers/verify-cli")]
    assert "502" not in codes[("patch", "/settings/telephony/numbers/{number_id}")]
    assert "409" in codes[("patch", "/settings/telephony/numbers/{number_id}")]
