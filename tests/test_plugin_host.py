"""The plugin manager: enabling, blocking, failures, duplicates, misspellings, settings, routing."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from core import (
    NumberRef,
    PluginLoadError,
    ProviderInfo,
    ProviderNotFound,
    UnsupportedOperation,
    VerificationResult,
    hookimpl,
)
from core.plugins import PluginHost, _Candidate, create_plugin_host
from core.settings import PluginsFile, read_plugins_file

NUMBER = NumberRef(
    id="n1", workspace_id="w1", phone_e164="+14155550100", country_code="US", provider="alpha"
)


class Carrier:
    def __init__(self, provider: str, settings_model: type[BaseModel] | None = None) -> None:
        self.provider = provider
        self.settings_model = settings_model
        self.seen: list[str] = []
        self.settings: Any = None

    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        register(
            ProviderInfo(
                name=self.provider,
                display_name=self.provider.title(),
                capabilities={"verify_cli"},
                settings_model=self.settings_model,
            )
        )

    @hookimpl
    def trunkline_configure(self, settings: Any) -> None:
        self.settings = settings

    @hookimpl
    async def verify_cli(self, provider: str, number: NumberRef) -> VerificationResult:
        self.seen.append(provider)
        return VerificationResult(status="verified", provider_ref=f"{self.provider}-ref")


class Veto:
    def __init__(self, answer: bool | None) -> None:
        self.answer = answer

    @hookimpl
    def is_country_outbound_blocked(self, country_code: str) -> bool | None:
        return self.answer


def candidates(objs: dict[str, Any], imported: list[str]) -> dict[str, _Candidate]:
    """Entry-point stand-ins that record when they are imported."""

    def loader(name: str, obj: Any) -> Any:
        def load() -> Any:
            imported.append(name)
            if isinstance(obj, Exception):
                raise obj
            return obj

        return load

    return {
        name: _Candidate(
            name=name,
            module=f"acme.{name}",
            load=loader(name, obj),
            distribution=f"trunkline-{name}",
            version="1.0",
        )
        for name, obj in objs.items()
    }


def test_only_enabled_plugins_are_imported() -> None:
    imported: list[str] = []
    host = PluginHost()
    host.load(
        ["alpha"],
        candidates=candidates({"alpha": Carrier("alpha"), "beta": Carrier("beta")}, imported),
    )
    assert imported == ["alpha"]
    assert host.records["beta"].status == "disabled"
    assert host.records["alpha"].status == "loaded"
    assert set(host.providers) == {"alpha"}


def test_plugins_toml_and_load_plugins_override(tmp_path: Any, monkeypatch: Any) -> None:
    toml = tmp_path / "plugins.toml"
    toml.write_text('[trunkline]\nplugins = ["country_rules"]\n')
    pfile = read_plugins_file(toml)
    assert pfile.enabled == ["country_rules"]
    host = create_plugin_host(pfile)
    assert host.records["country_rules"].status == "loaded"
    assert host.records["sandbox"].status == "disabled"
    empty = create_plugin_host(pfile, enabled_override=[])
    assert all(r.status == "disabled" for r in empty.records.values())

    from core.settings import load_settings

    monkeypatch.setenv("TRUNKLINE_LOAD_PLUGINS", "")
    assert load_settings().enabled_override == []
    monkeypatch.setenv("TRUNKLINE_LOAD_PLUGINS", "sandbox, country_rules")
    assert load_settings().enabled_override == ["sandbox", "country_rules"]
    monkeypatch.delenv("TRUNKLINE_LOAD_PLUGINS")
    assert load_settings().enabled_override is None


def test_broken_plugin_strict_fails_naming_it() -> None:
    imported: list[str] = []
    host = PluginHost(strict=True)
    with pytest.raises(PluginLoadError) as err:
        host.load(
            ["broken"],
            candidates=candidates({"broken": ImportError("no module named x")}, imported),
        )
    assert "plugin 'broken': import failed: ImportError: no module named x" in str(err.value)


def test_broken_plugin_not_strict_is_recorded_and_skipped(caplog: Any) -> None:
    imported: list[str] = []
    host = PluginHost(strict=False)
    with caplog.at_level(logging.ERROR):
        host.load(
            ["broken", "alpha"],
            candidates=candidates(
                {"broken": RuntimeError("boom"), "alpha": Carrier("alpha")}, imported
            ),
        )
    assert host.records["broken"].status == "failed"
    assert host.records["broken"].error == "plugin 'broken': import failed: RuntimeError: boom"
    assert host.records["alpha"].status == "loaded"
    assert "plugin 'broken'" in caplog.text and "strict = false" in caplog.text


def test_enabled_but_not_installed_names_it() -> None:
    with pytest.raises(PluginLoadError, match="plugin 'ghost': enabled, but no installed"):
        PluginHost().load(["ghost"], candidates={})


def test_duplicate_provider_names_both_plugins() -> None:
    host = PluginHost()
    with pytest.raises(PluginLoadError) as err:
        host.load([], extra={"first": Carrier("alpha"), "second": Carrier("alpha")})
    assert "provider 'alpha' is registered by both plugin 'first' and plugin 'second'" in str(
        err.value
    )


def test_misspelled_hook_fails_loudly() -> None:
    class Typo:
        @hookimpl
        def verify_clii(self, provider: str) -> None:  # misspelled
            return None

    with pytest.raises(PluginLoadError) as err:
        PluginHost().load([], extra={"typo": Typo()})
    assert "plugin 'typo': misspelled or unknown hook" in str(err.value)
    assert "verify_clii" in str(err.value)


def test_hook_with_unknown_argument_is_refused() -> None:
    class Extra:
        @hookimpl
        def verify_cli(self, provider: str, colour: str) -> None:
            return None

    with pytest.raises(PluginLoadError, match="plugin 'extra': invalid hook implementation"):
        PluginHost().load([], extra={"extra": Extra()})


class Needs(BaseModel):
    account: str
    timeout: float = 5.0
    token: SecretStr | None = None


def test_bad_setting_names_plugin_and_key() -> None:
    with pytest.raises(PluginLoadError) as err:
        PluginHost().load(
            [],
            {"alpha": {"account": "A1", "timeout": "soon"}},
            extra={"alpha": Carrier("alpha", Needs)},
        )
    assert "plugin 'alpha': invalid settings: setting 'timeout':" in str(err.value)


def test_missing_env_secret_names_the_variable(monkeypatch: Any) -> None:
    monkeypatch.delenv("ALPHA_ACCOUNT", raising=False)
    with pytest.raises(PluginLoadError) as err:
        PluginHost().load(
            [],
            {"alpha": {"account": {"env": "ALPHA_ACCOUNT"}}},
            extra={"alpha": Carrier("alpha", Needs)},
        )
    assert (
        "plugin 'alpha': invalid settings: setting 'account': environment variable "
        "ALPHA_ACCOUNT is not set"
    ) in str(err.value)


def test_env_secret_resolved_and_redacted(monkeypatch: Any) -> None:
    monkeypatch.setenv("ALPHA_TOKEN", "s3cr3t-value")
    carrier = Carrier("alpha", Needs)
    host = PluginHost()
    host.load(
        [], {"alpha": {"account": "A1", "token": {"env": "ALPHA_TOKEN"}}}, extra={"alpha": carrier}
    )
    asyncio.run(host.configure())
    assert carrier.settings.token.get_secret_value() == "s3cr3t-value"
    shown = host.records["alpha"].settings
    assert shown["token"] == "**********" and shown["account"] == "A1"
    assert "s3cr3t-value" not in repr(host.describe())


def test_settings_table_for_plugin_without_model_is_an_error() -> None:
    with pytest.raises(PluginLoadError, match="takes no settings, but \\[plugins.veto\\] sets: x"):
        PluginHost().load([], {"veto": {"x": 1}}, extra={"veto": Veto(None)})


def test_provider_hooks_reach_only_the_owner_and_are_awaited() -> None:
    alpha, beta = Carrier("alpha"), Carrier("beta")
    host = PluginHost()
    host.load([], extra={"a": alpha, "b": beta})
    result = asyncio.run(host.call_provider("verify_cli", "beta", number=NUMBER, code=None))
    assert isinstance(result, VerificationResult) and result.provider_ref == "beta-ref"
    assert beta.seen == ["beta"] and alpha.seen == []


def test_unknown_provider_raises_provider_not_found() -> None:
    host = PluginHost()
    host.load([], extra={"a": Carrier("alpha")})
    with pytest.raises(ProviderNotFound, match="no enabled plugin serves the provider 'nope'"):
        asyncio.run(host.call_provider("verify_cli", "nope", number=NUMBER, code=None))


def test_undeclared_capability_is_unsupported() -> None:
    host = PluginHost()
    host.load([], extra={"a": Carrier("alpha")})
    with pytest.raises(UnsupportedOperation, match="'alpha' does not support 'list_coverage'"):
        asyncio.run(host.call_provider("list_coverage", "alpha", country=None))


def test_malformed_result_is_a_provider_error() -> None:
    class Bad(Carrier):
        @hookimpl
        def verify_cli(self, provider: str) -> Any:  # type: ignore[override]
            return {"state": "ok"}

    host = PluginHost()
    host.load([], extra={"bad": Bad("alpha")})
    from core import ProviderError

    with pytest.raises(ProviderError, match="returned a malformed verify_cli result"):
        asyncio.run(host.call_provider("verify_cli", "alpha", number=NUMBER, code=None))


@pytest.mark.parametrize(
    ("answers", "blocked"),
    [([None, None], False), ([False, None], False), ([None, True], True), ([True, False], True)],
)
def test_country_veto_is_broadcast_any_true_blocks(
    answers: list[bool | None], blocked: bool
) -> None:
    host = PluginHost()
    host.load([], extra={f"v{i}": Veto(a) for i, a in enumerate(answers)})
    assert host.is_country_blocked("FR", "alpha") is blocked
    # and in the other registration order
    host2 = PluginHost()
    host2.load([], extra={f"v{i}": Veto(a) for i, a in reversed(list(enumerate(answers)))})
    assert host2.is_country_blocked("FR", "alpha") is blocked


def test_plugins_file_errors_name_the_file(tmp_path: Any) -> None:
    from core import ConfigurationError

    bad = tmp_path / "plugins.toml"
    bad.write_text("[trunkline\nplugins = 3")
    with pytest.raises(ConfigurationError, match="plugins.toml: not valid TOML"):
        read_plugins_file(bad)
    bad.write_text("[trunkline]\nplugins = 'sandbox'")
    with pytest.raises(ConfigurationError, match="plugins must be a list of names"):
        read_plugins_file(bad)
    assert read_plugins_file(tmp_path / "absent.toml") == PluginsFile(enabled=[], path=None)


def test_default_plugins_toml_parses() -> None:
    from pathlib import Path

    pfile = read_plugins_file(Path(__file__).parent.parent / "plugins.toml")
    assert pfile.enabled == ["sandbox", "twilio", "telnyx", "country_rules"]
    assert pfile.tables["twilio"]["auth_token"] == {"env": "TWILIO_AUTH_TOKEN"}


class WarmingPlugin:
    """Records whether ``trunkline_warm_up`` ran on an event loop's thread; optionally fails."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.on_loop: list[bool] = []

    @hookimpl
    def trunkline_warm_up(self) -> None:
        try:
            asyncio.get_running_loop()
            self.on_loop.append(True)
        except RuntimeError:
            self.on_loop.append(False)
        if self.fail:
            raise RuntimeError("cannot warm up")


def test_the_server_warms_plugins_up_in_a_background_thread(
    make_api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """After start-up, every plugin's warm-up runs once, off the event loop; a failing one is
    logged and the server serves regardless."""
    good, bad = WarmingPlugin(), WarmingPlugin(fail=True)
    with caplog.at_level(logging.ERROR, logger="trunkline"):
        api = make_api(plugins=["sandbox"], extra={"warm": good, "broken_warm": bad})
        assert api.client.get("/healthz").status_code == 200
        api.testclient.__exit__(None, None, None)  # the lifespan waits for the warm-up
    assert good.on_loop == bad.on_loop == [False]
    assert any("'broken_warm' failed to warm up" in r.getMessage() for r in caplog.records)
