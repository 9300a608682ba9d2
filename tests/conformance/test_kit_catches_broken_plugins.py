"""A plugin that breaks the contract fails the kit with a message that names what is wrong."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from core import (
    NumberIntel,
    NumberRef,
    ProviderEvent,
    ProviderInfo,
    ProviderUnavailable,
    SecretStr,
    VerificationResult,
    WebhookMalformed,
    WebhookSignatureError,
    hookimpl,
)
from core.conformance import (
    ConformanceError,
    check_attestation,
    check_capabilities,
    check_coverage,
    check_error_mapping,
    check_hook_signatures,
    check_imports,
    check_lookup,
    check_provider_status,
    check_registration,
    check_result,
    check_settings_model,
    check_verification_completed,
    check_verification_refused,
    check_verification_started,
    check_webhook_accepted,
    check_webhook_malformed,
    check_webhook_refused,
    credential_fields,
    hook_signature,
    malformed_bodies,
)
from core.plugins import PluginHost

pytest_plugins = ["pytester"]


def _host(plugin: object, tables: dict[str, Any] | None = None) -> PluginHost:
    host = PluginHost(strict=True)
    host.load([], tables or {}, extra={"x": plugin}, candidates={})
    return host


class _Registers:
    settings_model: type[BaseModel] | None = None
    capabilities: set[str] = {"verify_cli"}

    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        register(
            ProviderInfo(
                name="xcarrier",
                display_name="X",
                capabilities=self.capabilities,  # type: ignore[arg-type]
                settings_model=self.settings_model,
            )
        )


# -- return shapes -----------------------------------------------------------------------------


def test_dict_without_status() -> None:
    with pytest.raises(ConformanceError, match=r"^verify_cli returned dict without 'status'$"):
        check_result("verify_cli", {"next_step": "submit_code"})


def test_wrong_type_and_wrong_value() -> None:
    with pytest.raises(
        ConformanceError, match="verify_cli returned str, expected core.VerificationResult"
    ):
        check_result("verify_cli", "verified")
    with pytest.raises(
        ConformanceError,
        match=r"verify_cli returned an invalid VerificationResult: status: .*'done'",
    ):
        check_result("verify_cli", {"status": "done"})
    with pytest.raises(
        ConformanceError, match="list_coverage returned dict, expected a list of CoverageEntry"
    ):
        check_result("list_coverage", {"US": ["local"]})
    with pytest.raises(
        ConformanceError, match=r"list_coverage returned, at \[1\], dict without 'source'"
    ):
        check_coverage(
            [
                {"provider": "p", "country_code": "US", "number_type": "local", "source": "static"},
                {"provider": "p", "country_code": "US", "number_type": "local"},
            ],
            "p",
            "US",
        )
    with pytest.raises(ConformanceError, match="list_coverage.'GB'. returned an entry for 'US'"):
        check_coverage(
            [{"provider": "p", "country_code": "US", "number_type": "local", "source": "static"}],
            "p",
            "GB",
        )
    with pytest.raises(ConformanceError, match="provider='other', expected 'p'"):
        check_result(
            "place_call", {"provider": "other", "provider_call_id": "c", "status": "queued"}, "p"
        )
    with pytest.raises(ConformanceError, match="purchase_number returned None"):
        check_result("purchase_number", None)


def test_verification_state_machine_violations() -> None:
    with pytest.raises(ConformanceError, match="verify_cli .start, code=None. answered 'failed'"):
        check_verification_started(VerificationResult(status="failed", detail="nope"))
    with pytest.raises(ConformanceError, match="'pending' with next_step 'none'"):
        check_verification_started({"status": "pending"})
    with pytest.raises(ConformanceError, match="without display_code"):
        check_verification_started({"status": "pending", "next_step": "answer_call_and_enter_code"})
    with pytest.raises(ConformanceError, match="right code answered 'pending'"):
        check_verification_completed({"status": "pending", "next_step": "submit_code"})
    with pytest.raises(ConformanceError, match="wrong code answered 'verified', expected 'failed'"):
        check_verification_refused({"status": "verified"})
    with pytest.raises(ConformanceError, match="'failed' without detail"):
        check_verification_refused({"status": "failed"})
    ok = check_verification_started({"status": "pending", "next_step": "submit_code"})
    assert ok.status == "pending"


# -- registration, settings, hooks -------------------------------------------------------------


def test_attestation_violations() -> None:
    verified = NumberRef(
        id="n",
        workspace_id="w",
        phone_e164="+14155550100",
        country_code="US",
        provider="x",
        verified_cli=True,
    )
    with pytest.raises(ConformanceError, match="'A' for a number the carrier does not host"):
        check_attestation({"level": "A", "basis": "trust me"}, verified)
    with pytest.raises(ConformanceError, match="without a basis"):
        check_attestation({"level": "B", "basis": " "}, verified)
    with pytest.raises(ConformanceError, match="invalid AttestationEstimate: level"):
        check_attestation({"level": "AA", "basis": "x"}, verified)
    hosted = verified.model_copy(update={"hosted": True, "verified_cli": False})
    assert check_attestation({"level": "A", "basis": "owned"}, hosted).level == "A"


def test_lookup_violations() -> None:
    asked = "+14155550123"
    other = NumberIntel(provider="x", phone_e164="+14155550199")
    with pytest.raises(ConformanceError, match=r"answered about '\+14155550199'"):
        check_lookup(other, "x", asked, {"line_type"})
    unasked = NumberIntel(provider="x", phone_e164=asked, reassigned="no")
    with pytest.raises(ConformanceError, match="though it was not asked"):
        check_lookup(unasked, "x", asked, {"line_type"})
    assert check_lookup(unasked, "x", asked, {"line_type", "reassigned"}).reassigned == "no"
    with pytest.raises(ConformanceError, match="invalid NumberIntel: line_type"):
        check_lookup({"provider": "x", "phone_e164": asked, "line_type": "cell"}, "x", asked, set())


def test_no_settings_model() -> None:
    host = _host(_Registers())
    check_registration(host, "x", "xcarrier")
    with pytest.raises(ConformanceError, match="^plugin 'x' registers no settings model"):
        check_settings_model(host, "x")


def test_secret_not_typed_secret() -> None:
    class Settings(BaseModel):
        api_key: str | None = None

    plugin = _Registers()
    plugin.settings_model = Settings
    with pytest.raises(
        ConformanceError, match="settings field 'api_key' of plugin 'x' holds a secret but is typed"
    ):
        check_settings_model(_host(plugin), "x")


def test_registers_no_provider_or_another() -> None:
    class Nothing:
        @hookimpl
        def trunkline_shutdown(self) -> None:
            return None

    with pytest.raises(ConformanceError, match="plugin 'x' registers no provider"):
        check_registration(_host(Nothing()), "x", "xcarrier")
    with pytest.raises(ConformanceError, match="plugin 'x' registers 'xcarrier', not 'acme'"):
        check_registration(_host(_Registers()), "x", "acme")


def test_capability_without_hook_and_hook_without_capability() -> None:
    with pytest.raises(
        ConformanceError,
        match="declares capability 'verify_cli' but plugin 'x' implements no verify_cli",
    ):
        check_capabilities(_host(_Registers()), "x", "xcarrier")

    class Calls(_Registers):
        capabilities = {"verify_cli"}

        @hookimpl
        def verify_cli(self, number: Any) -> Any:
            return None

        @hookimpl
        def place_call(self, to_e164: str) -> Any:
            return None

    with pytest.raises(
        ConformanceError,
        match="implements place_call but provider 'xcarrier' does not declare capability 'calls'",
    ):
        check_capabilities(_host(Calls()), "x", "xcarrier")


def test_hook_signatures() -> None:
    class ExtraArg:
        @hookimpl
        def verify_cli(self, number: Any, code: Any, retries: int) -> Any:
            return None

    class Misspelled:
        @hookimpl
        def verify_clii(self, number: Any) -> Any:
            return None

    class Undecorated:
        def list_coverage(self, country: Any) -> Any:
            return []

    class Fine:
        @hookimpl
        def verify_cli(self, code: Any) -> Any:
            return None

        @hookimpl(specname="list_coverage")
        def coverage(self, country: Any) -> Any:
            return []

    with pytest.raises(
        ConformanceError,
        match=r"hook verify_cli of plugin 'x' takes 'retries', which the spec does not have; the spec is verify_cli\(provider, number, code\)",
    ):
        check_hook_signatures(ExtraArg(), "x")
    with pytest.raises(ConformanceError, match="plugin 'x' implements unknown hook 'verify_clii'"):
        check_hook_signatures(Misspelled(), "x")
    with pytest.raises(
        ConformanceError, match=r"plugin 'x' defines list_coverage\(\) without @hookimpl"
    ):
        check_hook_signatures(Undecorated(), "x")
    assert sorted(check_hook_signatures(Fine(), "x")) == ["list_coverage", "verify_cli"]
    assert (
        hook_signature("fetch_regulations")
        == "fetch_regulations(provider, country, number_type, end_user_type)"
    )


def test_private_core_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "sneaky_plugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .plugin import Sneaky\n")
    (pkg / "plugin.py").write_text("from core import hookimpl\n\nclass Sneaky:\n    pass\n")
    (pkg / "helpers.py").write_text("import json\nfrom core.plugins import PluginHost\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import sneaky_plugin

    try:
        with pytest.raises(
            ConformanceError, match=r"plugin 'sneaky' imports core.plugins in helpers.py \(line 2\)"
        ):
            check_imports(sneaky_plugin.Sneaky(), "sneaky")
    finally:
        for name in [m for m in sys.modules if m.startswith("sneaky_plugin")]:
            del sys.modules[name]


def test_status_that_lies_or_leaks() -> None:
    class Settings(BaseModel):
        api_token: SecretStr | None = None

    class Leaky(_Registers):
        settings_model = Settings
        token = ""

        @hookimpl
        def trunkline_configure(self, settings: Settings) -> None:
            self.token = settings.api_token.get_secret_value() if settings.api_token else ""

        @hookimpl
        def trunkline_provider_status(self) -> dict[str, Any]:
            return {"configured": True, "detail": f"using token {self.token}"}

    assert credential_fields(Settings) == ["api_token"]
    host = _host(Leaky(), {"x": {"api_token": "tok-very-secret"}})
    import asyncio

    asyncio.run(host.configure())
    with pytest.raises(
        ConformanceError, match="the secret setting 'api_token' of plugin 'x' is shown unredacted"
    ):
        check_provider_status(host, "x", "xcarrier", configured=True)
    with pytest.raises(ConformanceError, match="says configured=True with its credentials unset"):
        check_provider_status(host, "x", "xcarrier", configured=False)


# -- errors and webhooks -------------------------------------------------------------------------


def test_unmapped_carrier_error() -> None:
    request = httpx.Request("POST", "https://api.acme.test/v1/verifications")
    leaked = httpx.HTTPStatusError(
        "500", request=request, response=httpx.Response(500, request=request)
    )
    with pytest.raises(
        ConformanceError,
        match=r"server_error: verify_cli raised httpx.HTTPStatusError .*expected core.ProviderUnavailable",
    ):
        check_error_mapping("server_error", "verify_cli", leaked)
    with pytest.raises(
        ConformanceError,
        match="auth_error: verify_cli returned normally, expected ProviderAuthError",
    ):
        check_error_mapping("auth_error", "verify_cli", None)
    with pytest.raises(ConformanceError, match="expected core.ProviderRateLimited"):
        check_error_mapping("rate_limited", "verify_cli", ProviderUnavailable("down"))
    check_error_mapping("server_error", "verify_cli", ProviderUnavailable("down"))


def test_swallowed_signature_check() -> None:
    with pytest.raises(
        ConformanceError, match=r"^parse_webhook accepted a forged signature \(returned \[\]\)$"
    ):
        check_webhook_refused("a forged signature", lambda: [])

    def crashes() -> Any:
        raise KeyError("kind")

    with pytest.raises(
        ConformanceError,
        match="parse_webhook raised KeyError .* for a forged signature, expected WebhookSignatureError",
    ):
        check_webhook_refused("a forged signature", crashes)

    def refuses() -> Any:
        raise WebhookSignatureError("bad")

    check_webhook_refused("a forged signature", refuses)
    with pytest.raises(
        ConformanceError, match="parse_webhook returned no event for signed_webhook"
    ):
        check_webhook_accepted([], "p")


def test_a_parser_error_on_a_signed_malformed_body() -> None:
    what = "a signed body, JSON null: b'null' (application/json)"

    def crashes() -> Any:
        raise KeyError("kind")

    with pytest.raises(
        ConformanceError,
        match=r"^parse_webhook raised builtins.KeyError \('kind'\) for a signed body, JSON null: "
        r"b'null' \(application/json\), expected WebhookMalformed",
    ):
        check_webhook_malformed(what, crashes)

    def refuses_as_unsigned() -> Any:
        raise WebhookSignatureError("bad")

    with pytest.raises(
        ConformanceError, match="WebhookSignatureError .bad. for .*correctly signed"
    ):
        check_webhook_malformed(what, refuses_as_unsigned)

    def answers_a_dict() -> Any:
        return {"kind": "call_status"}

    with pytest.raises(
        ConformanceError, match="^for a signed body, JSON null.*: parse_webhook returned dict"
    ):
        check_webhook_malformed(what, answers_a_dict, "p")

    def refuses() -> Any:
        raise WebhookMalformed("not a callback")

    assert check_webhook_malformed(what, refuses) == []
    assert check_webhook_malformed(what, lambda: []) == []
    event = ProviderEvent(provider="p", kind="call_status", provider_ref="c1")
    assert check_webhook_malformed(what, lambda: [event], "p") == [event]


def test_the_malformed_bodies_stay_within_what_the_core_lets_through() -> None:
    """Every body the kit signs would reach a plugin through ``POST /webhooks/{provider}``:
    under the size limit and the depth limit the route enforces first."""
    from api.webhook_guard import MAX_WEBHOOK_BYTES, check_depth

    sample = b'{"type": "x", "data": {"id": "c1", "items": [{"n": "1"}], "phone": "+1415"}}'
    for sample_body, content_type in (
        (sample, "application/json"),
        (b"CallSid=CA1&CallStatus=ringing&To=%2B14155550100", "application/x-www-form-urlencoded"),
    ):
        cases = malformed_bodies(sample_body, content_type)
        labels = {case.label for case in cases}
        assert {"empty", "not UTF-8", "JSON null", "an empty JSON array"} <= labels
        for case in cases:
            assert len(case.body) <= MAX_WEBHOOK_BYTES, case.label
            check_depth(case.body)  # raises WebhookMalformed past the core's depth
    json_labels = {case.label for case in malformed_bodies(sample, "application/json")}
    assert {"without data.id", "with data.items.0 set to null", "with every string enormous"} <= (
        json_labels
    )


# -- the whole kit, run by pytest against a broken plugin installed with an entry point -----------

BROKEN_PLUGIN = """
import hashlib, hmac, json
from core import ProviderInfo, ProviderEvent, VerificationResult, hookimpl
from pydantic import BaseModel


class Settings(BaseModel):
    region: str = "eu"


class BrokenPlugin:
    @hookimpl
    def trunkline_register_providers(self, register):
        register(ProviderInfo(name="broken", display_name="Broken",
                              capabilities={"verify_cli", "webhooks"}, settings_model=Settings))

    @hookimpl
    def verify_cli(self, number, code):
        if code is None:
            return {"next_step": "submit_code"}          # no 'status'
        return VerificationResult(status="verified")

    @hookimpl
    def parse_webhook(self, request):                   # never checks the signature
        payload = json.loads(request.body or b"{}")
        return [ProviderEvent(provider="broken", kind="verification_succeeded",
                              phone_e164=payload.get("phone_e164"))]
"""

BROKEN_TESTS = """
import contextlib
from core import ProviderUnavailable, WebhookRequest
from core.conformance import ProviderConformance


class TestBrokenConformance(ProviderConformance):
    plugin_name = "broken"
    provider = "broken"

    def signed_webhook(self):
        return WebhookRequest(url="http://t/webhooks/broken", headers={"x-sig": "good"},
                              body=b'{"phone_e164": "+14155550100"}')

    def forged_webhook(self):
        return WebhookRequest(url="http://t/webhooks/broken", headers={"x-sig": "forged"},
                              body=b'{"phone_e164": "+14155550100"}')


def test_unrelated():
    assert 1 + 1 == 2
"""


INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def _install(pytester: pytest.Pytester, name: str, plugin: str, tests: str) -> None:
    """``<name>_plugin`` installed with a ``trunkline`` entry point named ``name``, and its
    kit tests in ``test_<name>.py``."""
    pytester.makeini(INI)
    pytester.makepyfile(**{f"{name}_plugin": plugin, f"test_{name}": tests})
    info = pytester.path / f"{name}_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-plugin\nVersion: 0.1\n")
    entry = f"{name} = {name}_plugin:{name.capitalize()}Plugin"
    (info / "entry_points.txt").write_text(f"[trunkline]\n{entry}\n")


def _install_broken(pytester: pytest.Pytester) -> None:
    _install(pytester, "broken", BROKEN_PLUGIN, BROKEN_TESTS)


def test_kit_fails_a_broken_plugin_by_name(pytester: pytest.Pytester) -> None:
    _install_broken(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    out = result.stdout.str()
    assert "verify_cli returned dict without 'status'" in out
    assert "parse_webhook accepted a forged signature" in out
    assert "FAILED test_broken.py::TestBrokenConformance::test_verify_start" in out
    assert "FAILED test_broken.py::TestBrokenConformance::test_webhook_forged_refused" in out
    # what the broken plugin does keep still passes
    assert "FAILED test_broken.py::TestBrokenConformance::test_registration" not in out
    assert "FAILED test_broken.py::TestBrokenConformance::test_settings_model" not in out
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_option_runs_only_the_kit(pytester: pytest.Pytester) -> None:
    _install_broken(pytester)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--trunkline-conformance", "-q", "-k", "registration or unrelated"
    )
    result.assert_outcomes(passed=1, deselected=result.parseoutcomes()["deselected"])
    assert "1 passed" in result.stdout.str()
    assert result.parseoutcomes()["deselected"] >= 2  # test_unrelated too


def test_inert_in_an_ordinary_run(pytester: pytest.Pytester) -> None:
    """Installed through pytest11, the kit adds no test, fixture or marker to other suites."""
    pytester.makeini(INI)
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "trunkline-0.1.0" in result.stdout.str()  # loaded, through pytest11
    fixtures = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--fixtures").stdout.lines
    markers = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--markers").stdout.lines
    assert any(line.startswith("tmp_path ") for line in fixtures)  # the listing is complete
    assert not [line for line in fixtures if line.startswith("trunkline") or "conformance" in line]
    assert any(line.startswith("@pytest.mark.skip") for line in markers)
    assert not [
        line for line in markers if line.startswith("@pytest.mark.") and "trunkline" in line
    ]


CARELESS_PLUGIN = """
import hashlib, hmac, json
from core import ProviderEvent, ProviderInfo, WebhookMalformed, WebhookSignatureError, hookimpl
from pydantic import BaseModel


class Settings(BaseModel):
    region: str = "eu"


def sign(body):
    return hmac.new(b"careless-secret", body, hashlib.sha256).hexdigest()


class CarelessPlugin:
    @hookimpl
    def trunkline_register_providers(self, register):
        register(ProviderInfo(name="careless", display_name="Careless",
                              capabilities={"webhooks"}, settings_model=Settings))

    @hookimpl
    def parse_webhook(self, request):
        given = request.headers.get("x-sig", "")
        if not hmac.compare_digest(given, sign(request.body)):
            raise WebhookSignatureError("bad signature")
        try:
            payload = json.loads(request.body)
        except ValueError:
            raise WebhookMalformed("not JSON") from None
        if not isinstance(payload, dict):
            raise WebhookMalformed("not an object")
        return [ProviderEvent(provider="careless", kind=payload["kind"])]   # KeyError escapes
"""

CARELESS_TESTS = """
import json
from careless_plugin import sign
from core import WebhookRequest
from core.conformance import ProviderConformance


def _request(body, signature, content_type="application/json"):
    return WebhookRequest(url="http://t/webhooks/careless", body=body,
                          headers={"content-type": content_type, "x-sig": signature})


class TestCarelessConformance(ProviderConformance):
    plugin_name = "careless"
    provider = "careless"

    def signed_webhook(self):
        body = json.dumps({"kind": "call_status"}).encode()
        return _request(body, sign(body))

    def forged_webhook(self):
        return _request(self.signed_webhook().body, "0" * 64)

    def sign_webhook(self, body, content_type):
        return _request(body, sign(body), content_type)


class TestCarelessWithoutSigner(TestCarelessConformance):
    sign_webhook = ProviderConformance.sign_webhook     # as if never defined
"""


def test_kit_fails_a_parser_error_on_a_signed_malformed_body(pytester: pytest.Pytester) -> None:
    _install(pytester, "careless", CARELESS_PLUGIN, CARELESS_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rfs")
    out = result.stdout.str()
    failed = "test_careless.py::TestCarelessConformance::test_webhook_signed_malformed_refused"
    assert f"FAILED {failed}" in out
    assert (
        "parse_webhook raised builtins.KeyError ('kind') for a signed body, an empty JSON "
        "object: b'{}' (application/json), expected WebhookMalformed"
    ) in out
    # the signature checks it keeps still pass
    for kept in ("test_webhook_signed_accepted", "test_webhook_forged_refused"):
        assert f"FAILED test_careless.py::TestCarelessConformance::{kept}" not in out
    # without sign_webhook the check is skipped, saying what to define
    assert "define TestCarelessWithoutSigner.sign_webhook(body, content_type)" in out
    assert "FAILED test_careless.py::TestCarelessWithoutSigner" not in out
    assert result.ret == pytest.ExitCode.TESTS_FAILED


# -- one way to call a hook on one plugin ------------------------------------------------------


class _SettingsForSpecname(BaseModel):
    region: str = "eu"


class _Specnamed:
    """Every hook implemented under another method name, a valid pluggy idiom."""

    def __init__(self) -> None:
        self.configured_with: Any = None
        self.status_asked: list[str] = []

    @hookimpl(specname="trunkline_register_providers")
    def register_them(self, register: Any) -> None:
        register(ProviderInfo(name="xcarrier", display_name="X"))

    @hookimpl(specname="trunkline_settings_model")
    def my_settings(self) -> type[BaseModel]:
        return _SettingsForSpecname

    @hookimpl(specname="trunkline_configure")
    def setup(self, settings: Any) -> None:
        self.configured_with = settings

    @hookimpl(specname="trunkline_provider_status")
    def status(self, provider: str) -> dict[str, Any]:
        self.status_asked.append(provider)
        return {"configured": True}

    @hookimpl(specname="verify_cli")
    def verify(self, number: Any) -> VerificationResult:
        return VerificationResult(status="verified", provider_ref=f"ref-{number.phone_e164}")


def test_hooks_implemented_under_specname_are_called_by_the_host_and_the_kit() -> None:
    import asyncio

    from core import NumberRef

    plugin = _Specnamed()
    host = PluginHost(strict=True)
    host.load([], {"x": {"region": "us"}}, extra={"x": plugin}, candidates={})
    asyncio.run(host.configure())
    assert host.settings_model("x") is _SettingsForSpecname
    assert plugin.configured_with.model_dump() == {"region": "us"}
    check_registration(host, "x", "xcarrier")
    check_capabilities(host, "x", "xcarrier")
    assert host.providers["xcarrier"].capabilities == {"verify_cli"}
    check_provider_status(host, "x", "xcarrier", configured=True)
    assert plugin.status_asked == ["xcarrier"]
    number = NumberRef(
        id="n", workspace_id="w", phone_e164="+14155550100", country_code="US", provider="xcarrier"
    )
    result = asyncio.run(host.call_provider("verify_cli", "xcarrier", number=number, code=None))
    assert result.provider_ref == "ref-+14155550100"


def test_capabilities_default_to_the_provider_hooks_implemented() -> None:
    class Implements:
        @hookimpl
        def trunkline_register_providers(self, register: Any) -> None:
            register(ProviderInfo(name="xcarrier", display_name="X"))

        @hookimpl
        def list_coverage(self, provider: str) -> list[Any]:
            return []

        @hookimpl
        def place_call(self, provider: str) -> None:
            return None

    host = _host(Implements())
    assert host.providers["xcarrier"].capabilities == {"coverage", "calls"}
    check_capabilities(host, "x", "xcarrier")


def test_an_unknown_capability_is_refused_at_registration() -> None:
    with pytest.raises(ValueError, match="unknown capabilities \\['teleport'\\]"):
        ProviderInfo(name="xcarrier", display_name="X", capabilities={"teleport"})  # type: ignore[arg-type]


def test_malformed_permissions_and_windows() -> None:
    from core import CountryPermission
    from core.conformance import check_calling_windows, check_outbound_permissions

    with pytest.raises(ConformanceError, match="'UK'"):
        check_outbound_permissions([{"country_code": "UK", "allowed": True}], "acme")
    twice = [CountryPermission(country_code="FR", allowed=True)] * 2
    with pytest.raises(ConformanceError, match="'FR' twice"):
        check_outbound_permissions(twice, "acme")
    with pytest.raises(ConformanceError, match="without 'allowed'"):
        check_outbound_permissions([{"country_code": "FR"}], "acme")
    with pytest.raises(ConformanceError, match="ends after it starts"):
        check_calling_windows(
            [{"rule": "x", "days": ["mon"], "start": "18:00", "end": "09:00"}], "FR"
        )
    with pytest.raises(ConformanceError, match="expected a list"):
        check_calling_windows("08:00-21:00", "US")
    assert check_calling_windows(None, "US") == []
