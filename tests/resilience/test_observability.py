"""``/metrics`` carries every family after some traffic; logs are JSON lines with a request id
and never a secret."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from api.app import secret_values
from api.logging import JsonFormatter, ScrubFilter, configure_logging


def _family(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    found = False
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
            found = True
    assert found, f"no {name} sample with {labels}"
    return total


def test_metrics_families_after_traffic(make_api: Any) -> None:
    api = make_api(
        plugins=["sandbox", "country_rules"],
        tables={"sandbox": {"fixed_code": "4321"}, "country_rules": {"blocked": ["KP"]}},
    )
    hosted = api.add_number("+14155550100", "sandbox", hosted=True, outbound_enabled=True)
    byo = api.add_number("+14155550101", "sandbox")
    assert api.client.post(
        "/outbound/check", json={"number_id": hosted["id"], "to": "+442079460000"}
    ).json()["allowed"]
    r = api.client.post("/outbound/check", json={"number_id": hosted["id"], "to": "+85023812222"})
    assert r.json()["reasons"] == ["country_blocked"]
    r = api.client.post("/outbound/check", json={"number_id": byo["id"]})
    assert r.json()["reasons"] == ["outbound_disabled", "caller_id_not_allowed"]
    # a start and six wrong codes (SMS style): five reach the carrier, two are refused
    statuses = [
        api.client.post(
            "/settings/telephony/numbers/verify-cli",
            json={"number_id": byo["id"], **({"code": "9999"} if i else {})},
        ).status_code
        for i in range(7)
    ]
    assert statuses == [200] * 5 + [429] * 2
    api.anon.get("/settings/telephony/numbers")  # 401

    text = api.anon.get("/metrics").text
    assert (
        _family(text, "trunkline_http_requests_total", route="/outbound/check", status="200") == 3
    )
    assert (
        _family(
            text, "trunkline_http_requests_total", route="/settings/telephony/numbers", status="401"
        )
        == 1
    )
    assert (
        _family(
            text,
            "trunkline_http_requests_total",
            route="/settings/telephony/numbers/verify-cli",
            status="429",
        )
        == 2
    )
    assert _family(text, "trunkline_http_request_seconds_count", route="/outbound/check") == 3
    assert _family(text, "trunkline_policy_decisions_total", reason="allowed") == 1
    assert _family(text, "trunkline_policy_decisions_total", reason="country_blocked") == 1
    assert _family(text, "trunkline_policy_decisions_total", reason="outbound_disabled") == 1
    assert _family(text, "trunkline_policy_decisions_total", reason="caller_id_not_allowed") == 1
    assert (
        _family(
            text,
            "trunkline_carrier_calls_total",
            provider="sandbox",
            operation="verify_cli",
            outcome="ok",
        )
        == 5
    )
    assert (
        _family(
            text, "trunkline_carrier_call_seconds_count", provider="sandbox", operation="verify_cli"
        )
        == 5
    )
    assert _family(text, "trunkline_rate_limit_refusals_total", limit="verify_cli") == 2


def test_json_log_lines_carry_the_request_id_and_no_secret(make_api: Any, caplog: Any) -> None:
    token = "tw-auth-token-0123456789abcdef"
    api = make_api(
        plugins=["sandbox", "twilio"],
        tables={"twilio": {"account_sid": "AC" + "0" * 32, "auth_token": {"env": "TW_TOKEN"}}},
        env={"TW_TOKEN": token},
    )
    secrets = secret_values(api.runtime)
    assert token in secrets
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(secrets))
    handler.addFilter(ScrubFilter(secrets))
    root = logging.getLogger("trunkline")
    root.addHandler(handler)
    caplog.set_level(logging.INFO, logger="trunkline")
    try:
        # a forged webhook is logged (warning) inside the request
        r = api.anon.post(
            "/webhooks/sandbox", content=b"{}", headers={"X-Request-ID": "req-abc-123"}
        )
        assert r.status_code == 403 and r.headers["X-Request-ID"] == "req-abc-123"
        # a plugin that logs its secret and the caller's key by mistake
        plugin_log = logging.getLogger("trunkline.plugins.twilio")
        plugin_log.warning("auth with %s failed, key Bearer %s", token, api.client.key)
        generated = api.client.get("/plugins")
        assert len(generated.headers["X-Request-ID"]) == 32
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "nothing was logged"
    refused = [entry for entry in lines if "refused" in entry["message"]]
    assert refused and refused[0]["request_id"] == "req-abc-123"
    assert {"time", "level", "logger", "message", "request_id"} <= set(lines[0])
    everything = stream.getvalue() + "\n".join(r.getMessage() for r in caplog.records)
    assert token not in everything
    assert api.client.key not in everything
    assert "**********" in stream.getvalue()
    # the plugins list carries no secret either
    assert token not in generated.text


#: The ``trunkline`` logger's level when this module was imported, before any test ran.
LEVEL_AT_START = logging.getLogger("trunkline").level


def test_configure_logging_installs_one_scrubbing_json_handler() -> None:
    configure_logging(True, ["abcd-secret"])
    configure_logging(True, ["abcd-secret"])
    ours = [h for h in logging.getLogger("trunkline").handlers if getattr(h, "_trunkline", False)]
    assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
    logging.getLogger("trunkline").removeHandler(ours[0])
    assert logging.getLogger("trunkline").level == logging.INFO


def test_the_logger_configured_above_is_as_found_again() -> None:
    """Runs after the test above (file order): its INFO level did not outlive it."""
    assert logging.getLogger("trunkline").level == LEVEL_AT_START
    assert not [h for h in logging.getLogger("trunkline").handlers if getattr(h, "_trunkline", 0)]
