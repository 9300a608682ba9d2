"""The conformance kit for provider plugins: a pytest plugin, inert unless asked for.

A provider plugin proves it keeps the Trunkline contract by subclassing
:class:`ProviderConformance` in its own tests and supplying its carrier's HTTP mocks::

    from core.conformance import ProviderConformance

    class TestAcmeConformance(ProviderConformance):
        plugin_name = "acme"                    # the entry-point name
        provider = "acme"                       # the provider it registers
        settings = {"api_key": {"env": "ACME_API_KEY"}}
        env = {"ACME_API_KEY": "test-key"}

        def mock_carrier(self, scenario): ...   # a context manager (e.g. a respx router)
        def signed_webhook(self): ...           # a WebhookRequest the carrier would send
        def forged_webhook(self): ...           # the same with a bad signature

The kit loads the plugin through its entry point into a real host, the way ``trunkline serve``
does, and checks: registration and settings model, hook signatures, imports, the verification
state machine, coverage and regulation shapes, error mapping, provider status, webhook
signature refusal, and (for plugins implementing them) the dialing permissions' and the
calling windows' shapes. Every failure is an :class:`ConformanceError` (an ``AssertionError``) whose
message names what is wrong. The ``check_*`` functions may also be called directly.

As a pytest plugin (entry point ``pytest11``) it adds no fixture, marker or test to a run: only
classes that subclass :class:`ProviderConformance` carry its tests, and the option
``--trunkline-conformance`` runs those alone.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import functools
import importlib.metadata
import inspect
import json
import typing
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from . import hookspecs
from .errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotConfigured,
    ProviderRateLimited,
    ProviderUnavailable,
    TrunklineError,
    WebhookSignatureError,
)
from .models import (
    ATTESTATION_LEVELS,
    LINE_TYPES,
    AttestationEstimate,
    CallingWindow,
    CallOptions,
    CountryPermission,
    CoverageEntry,
    NumberIntel,
    NumberRef,
    NumberSearch,
    ProviderEvent,
    ProviderInfo,
    Requirement,
    VerificationResult,
    WebhookRequest,
)
from .plugins import HOOK_CAPABILITY, HOOK_RESULTS

if TYPE_CHECKING:
    from .plugins import PluginHost

__all__ = [
    "ERROR_SCENARIOS",
    "SCENARIOS",
    "ConformanceError",
    "Kit",
    "ProviderConformance",
    "check_attestation",
    "check_calling_windows",
    "check_capabilities",
    "check_coverage",
    "check_error_mapping",
    "check_hook_signatures",
    "check_imports",
    "check_lookup",
    "check_outbound_permissions",
    "check_provider_status",
    "check_registration",
    "check_regulations",
    "check_released",
    "check_result",
    "check_settings_model",
    "check_verification_completed",
    "check_verification_refused",
    "check_verification_started",
    "check_webhook_accepted",
    "check_webhook_refused",
    "credential_fields",
    "hook_signature",
]

#: Every scenario ``mock_carrier`` is asked for.
SCENARIOS: tuple[str, ...] = (
    "verify_start",
    "verify_code_ok",
    "verify_code_wrong",
    "coverage",
    "regulations",
    "release",
    "outbound_permissions",
    "server_error",
    "auth_error",
    "rate_limited",
    "attestation",
    "lookup",
)
#: The carrier failure each error scenario simulates, and the core error it must become.
ERROR_SCENARIOS: dict[str, type[ProviderError]] = {
    "server_error": ProviderUnavailable,
    "auth_error": ProviderAuthError,
    "rate_limited": ProviderRateLimited,
}
#: What a plugin may import of Trunkline: ``trunkline`` and ``trunkline.testing`` (and, for
#: plugins written before the public name existed, ``core`` and ``core.conformance``).
#: Everything else under ``core``, ``api`` and ``plugins`` is the project's own.
PUBLIC_MODULES = frozenset({"trunkline", "trunkline.testing", "core", "core.conformance"})
PRIVATE_PACKAGES = ("core", "api")


class ConformanceError(AssertionError):
    """A plugin breaks the contract; the message names what is wrong."""


def _fail(message: str) -> typing.NoReturn:
    raise ConformanceError(message)


# -- static checks -----------------------------------------------------------------------------


def _specs() -> dict[str, Callable[..., Any]]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {
        name: obj
        for name, obj in vars(hookspecs).items()
        if inspect.isfunction(obj) and hasattr(obj, marker)
    }


def hook_signature(name: str) -> str:
    """A hookspec's signature without annotations: ``verify_cli(provider, number, code)``."""
    spec = _specs()[name]
    return f"{name}({', '.join(inspect.signature(spec).parameters)})"


def check_hook_signatures(plugin: object, plugin_name: str) -> list[str]:
    """Every ``@hookimpl`` names a hook and takes a subset of its spec's arguments.

    Also refuses a method named like a hook but not decorated (pluggy would ignore it).
    Returns the names of the hooks implemented.
    """
    specs = _specs()
    marker = f"{hookspecs.PROJECT_NAME}_impl"
    implemented: list[str] = []
    for attr in sorted(dir(plugin)):
        if attr.startswith("__"):
            continue
        member = getattr(plugin, attr, None)
        if not callable(member):
            continue
        opts = getattr(member, marker, None)
        if opts is None:
            if attr in specs:
                _fail(
                    f"plugin {plugin_name!r} defines {attr}() without @hookimpl: "
                    "the host would never call it"
                )
            continue
        hook = opts.get("specname") or attr
        if hook not in specs:
            _fail(
                f"plugin {plugin_name!r} implements unknown hook {hook!r} (misspelled?); "
                f"known hooks: {', '.join(sorted(specs))}"
            )
        params = [
            p.name
            for p in inspect.signature(member).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"
        ]
        allowed = list(inspect.signature(specs[hook]).parameters)
        extra = [p for p in params if p not in allowed]
        if extra:
            _fail(
                f"hook {hook} of plugin {plugin_name!r} takes "
                f"{', '.join(repr(p) for p in extra)}, which the spec does not have; "
                f"the spec is {hook_signature(hook)}"
            )
        implemented.append(hook)
    return implemented


def check_imports(plugin: object, plugin_name: str) -> None:
    """The plugin's package imports nothing of ``core`` but its public surface."""
    module = inspect.getmodule(plugin if inspect.isclass(plugin) else type(plugin))
    if module is None or not getattr(module, "__file__", None):
        return
    path = Path(module.__file__ or "")
    # a plugin in a package: check the package's modules; a top-level module: only itself
    base = path.parent
    files = sorted(base.rglob("*.py")) if module.__package__ else [path]
    for file in files:
        if "tests" in file.relative_to(base).parts:
            continue
        tree = ast.parse(file.read_text("utf-8"), filename=str(file))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                private = top in PRIVATE_PACKAGES or top == "trunkline"
                if private and name not in PUBLIC_MODULES:
                    _fail(
                        f"plugin {plugin_name!r} imports {name} in {file.name} (line "
                        f"{node.lineno}); a plugin imports only the public surface: "
                        "'from trunkline import ...' (and trunkline.testing in its tests)"
                    )


def check_registration(host: PluginHost, plugin_name: str, provider: str) -> ProviderInfo:
    """The plugin loaded and registered ``provider`` with a display name and capabilities."""
    record = host.records.get(plugin_name)
    if record is None or record.status != "loaded":
        _fail(f"plugin {plugin_name!r} did not load: {record.error if record else 'unknown'}")
    mine = [p for p, owner in host.provider_plugin.items() if owner == plugin_name]
    if not mine:
        _fail(
            f"plugin {plugin_name!r} registers no provider: implement "
            "trunkline_register_providers(register) and call register(ProviderInfo(...))"
        )
    if provider not in mine:
        _fail(
            f"plugin {plugin_name!r} registers {', '.join(repr(p) for p in mine)}, not {provider!r}"
        )
    info = host.providers[provider]
    if not info.display_name.strip():
        _fail(f"provider {provider!r} has an empty display_name")
    if not info.capabilities:
        _fail(f"provider {provider!r} declares no capability")
    return info


def check_settings_model(host: PluginHost, plugin_name: str) -> type[BaseModel]:
    """A carrier plugin validates its table with a pydantic model; credentials are optional."""
    model = host.settings_model(plugin_name)
    if model is None:
        _fail(
            f"plugin {plugin_name!r} registers no settings model: set "
            "ProviderInfo.settings_model to a pydantic model class"
        )
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        _fail(f"plugin {plugin_name!r}: settings_model {model!r} is not a pydantic model class")
    from .secrets import looks_secret

    for field_name, field in model.model_fields.items():
        if looks_secret(field_name) and not _is_secret(field.annotation):
            _fail(
                f"settings field {field_name!r} of plugin {plugin_name!r} holds a secret but "
                f"is typed {_type_name(field.annotation)}; use SecretStr | None"
            )
    return model


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(a is SecretStr for a in typing.get_args(annotation))


def credential_fields(model: type[BaseModel]) -> list[str]:
    """Fields typed ``SecretStr | None`` with no value by default: the carrier's credentials."""
    return [
        name
        for name, field in model.model_fields.items()
        if _is_secret(field.annotation)
        and type(None) in typing.get_args(field.annotation)
        and field.get_default(call_default_factory=True) is None
    ]


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation)


def check_capabilities(host: PluginHost, plugin_name: str, provider: str) -> None:
    """Each declared capability has its hook, and each implemented hook its capability."""
    implemented = {hook for hook in HOOK_CAPABILITY if host.implements(plugin_name, hook)}
    declared = host.providers[provider].capabilities
    for hook, capability in HOOK_CAPABILITY.items():
        if capability in declared and hook not in implemented:
            _fail(
                f"provider {provider!r} declares capability {capability!r} but plugin "
                f"{plugin_name!r} implements no {hook}"
            )
        if hook in implemented and capability not in declared:
            _fail(
                f"plugin {plugin_name!r} implements {hook} but provider {provider!r} does not "
                f"declare capability {capability!r}: the host will never call it"
            )


def check_provider_status(
    host: PluginHost, plugin_name: str, provider: str, *, configured: bool
) -> dict[str, Any]:
    """``trunkline_provider_status`` answers ``configured`` as expected and shows no secret."""
    answers = host.plugin_caller("trunkline_provider_status", plugin_name)(provider=provider)
    status: Any = next((a for a in answers if a is not None), None)
    if inspect.isawaitable(status):
        if inspect.iscoroutine(status):
            status.close()
        _fail("trunkline_provider_status must be synchronous: it returned an awaitable")
    if status is None:
        status = {"configured": True}
    if not isinstance(status, dict):
        _fail(f"trunkline_provider_status returned {type(status).__name__}, expected dict")
    if not isinstance(status.get("configured"), bool):
        _fail("trunkline_provider_status returned dict without a bool 'configured'")
    if status["configured"] is not configured:
        _fail(
            f"trunkline_provider_status says configured={status['configured']} "
            + (
                "with every credential set"
                if configured
                else "with its credentials unset: report configured=False"
            )
        )
    settings = host.plugin_settings.get(plugin_name)
    shown = json.dumps([status, host.describe()], default=str)
    for name, value in _secret_values(settings).items():
        if value and value in shown:
            _fail(f"the secret setting {name!r} of plugin {plugin_name!r} is shown unredacted")
    return dict(status)


def _secret_values(settings: BaseModel | None) -> dict[str, str]:
    if settings is None:
        return {}
    return {
        name: value.get_secret_value()
        for name, value in settings
        if isinstance(value, SecretStr) and len(value.get_secret_value()) >= 4
    }


# -- result checks -----------------------------------------------------------------------------


def check_result(hook: str, result: Any, provider: str | None = None) -> Any:
    """Validate a provider hook's raw result; messages name the hook and the field."""
    model, many = HOOK_RESULTS[hook]
    if not many:
        return _one(f"{hook} returned", result, model, provider)
    if not isinstance(result, list):
        _fail(f"{hook} returned {type(result).__name__}, expected a list of {model.__name__}")
    return [_one(f"{hook} returned, at [{i}],", r, model, provider) for i, r in enumerate(result)]


def _one(what: str, value: Any, model: type[BaseModel], provider: str | None) -> Any:
    if value is None:
        _fail(
            f"{what} None, expected {model.__name__} (raise UnsupportedOperation for an "
            "operation the carrier does not offer)"
        )
    if isinstance(value, dict):
        missing = [n for n, f in model.model_fields.items() if f.is_required() and n not in value]
        if missing:
            _fail(f"{what} dict without {', '.join(repr(m) for m in missing)}")
        data: Any = value
    elif isinstance(value, model):
        data = value.model_dump()
    else:
        _fail(f"{what} {type(value).__name__}, expected core.{model.__name__}")
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        _fail(f"{what} an invalid {model.__name__}: {loc}: {err['msg']} (got {err['input']!r})")
    actual = getattr(parsed, "provider", None)
    if provider is not None and actual is not None and actual != provider:
        _fail(f"{what} a {model.__name__} with provider={actual!r}, expected {provider!r}")
    return parsed


def check_verification_started(result: Any, provider: str | None = None) -> VerificationResult:
    """A start (``code=None``) answers ``pending`` with a next step, or ``verified``."""
    parsed: VerificationResult = check_result("verify_cli", result, provider)
    if parsed.status not in ("pending", "verified"):
        _fail(
            f"verify_cli (start, code=None) answered {parsed.status!r}: a start is "
            "'pending' or 'verified'; carrier failures raise a core Provider* error"
        )
    if parsed.status == "pending" and parsed.next_step == "none":
        _fail(
            "verify_cli answered 'pending' with next_step 'none': say what the user does "
            "('answer_call_and_enter_code' or 'submit_code')"
        )
    if parsed.next_step == "answer_call_and_enter_code" and not parsed.display_code:
        _fail("verify_cli answered next_step 'answer_call_and_enter_code' without display_code")
    return parsed


def check_verification_completed(result: Any, provider: str | None = None) -> VerificationResult:
    """The right code (or the carrier's confirmation) answers ``verified``."""
    parsed: VerificationResult = check_result("verify_cli", result, provider)
    if parsed.status != "verified":
        _fail(
            f"verify_cli with the right code answered {parsed.status!r}"
            + (f" ({parsed.detail})" if parsed.detail else "")
            + ", expected 'verified'"
        )
    return parsed


def check_verification_refused(result: Any, provider: str | None = None) -> VerificationResult:
    """A wrong code answers ``failed`` with a ``detail`` (the user may try again)."""
    parsed: VerificationResult = check_result("verify_cli", result, provider)
    if parsed.status != "failed":
        _fail(f"verify_cli with a wrong code answered {parsed.status!r}, expected 'failed'")
    if not (parsed.detail or "").strip():
        _fail("verify_cli answered 'failed' without detail: tell the user what went wrong")
    return parsed


def check_released(result: Any) -> None:
    """``release_number`` answers ``None`` once the carrier no longer holds the number."""
    if result is not None:
        _fail(
            f"release_number returned {type(result).__name__}: it answers None once the number "
            "is released, and raises a core Provider* error when the carrier refuses"
        )


def check_coverage(result: Any, provider: str, country: str) -> list[CoverageEntry]:
    entries: list[CoverageEntry] = check_result("list_coverage", result, provider)
    if not entries:
        _fail(f"list_coverage({country!r}) returned no entry under the 'coverage' scenario")
    for entry in entries:
        if entry.country_code != country:
            _fail(
                f"list_coverage({country!r}) returned an entry for {entry.country_code!r}: "
                "filter by the country asked for"
            )
    return entries


def check_regulations(result: Any, provider: str, country: str) -> list[Requirement]:
    """Requirements for the country asked; an empty list (no requirement) is allowed."""
    items: list[Requirement] = check_result("fetch_regulations", result, provider)
    for item in items:
        if item.country_code != country:
            _fail(
                f"fetch_regulations({country!r}) returned a requirement for {item.country_code!r}"
            )
        if not item.name.strip():
            _fail("fetch_regulations returned a requirement with an empty name")
    return items


def check_outbound_permissions(result: Any, provider: str) -> list[CountryPermission]:
    """A list of :class:`CountryPermission`, one per ISO country at most."""
    import phonenumbers

    items: list[CountryPermission] = check_result("fetch_outbound_permissions", result, provider)
    seen: set[str] = set()
    for item in items:
        if item.country_code not in phonenumbers.SUPPORTED_REGIONS:
            _fail(
                f"fetch_outbound_permissions returned {item.country_code!r}, which is not an "
                "ISO 3166 alpha-2 region phonenumbers knows"
            )
        if item.country_code in seen:
            _fail(f"fetch_outbound_permissions returned {item.country_code!r} twice")
        seen.add(item.country_code)
    return items


def check_calling_windows(result: Any, country: str) -> list[CallingWindow]:
    """``None`` or a list of :class:`CallingWindow` (``start`` before ``end``, known days)."""
    if result is None:
        return []
    if not isinstance(result, list):
        _fail(f"calling_windows({country!r}) returned {type(result).__name__}, expected a list")
    return [
        _one(f"calling_windows({country!r}) returned, at [{i}],", w, CallingWindow, None)
        for i, w in enumerate(result)
    ]


def check_attestation(result: Any, number: NumberRef) -> AttestationEstimate:
    """A level of the core's vocabulary with a basis; a number the carrier does not host is
    never signed ``A``."""
    parsed: AttestationEstimate = check_result("expected_attestation", result)
    if parsed.level not in ATTESTATION_LEVELS:
        _fail(f"expected_attestation answered level {parsed.level!r}")
    if not parsed.basis.strip():
        _fail("expected_attestation answered without a basis: say why the level is what it is")
    if parsed.level == "A" and not number.hosted:
        _fail(
            "expected_attestation answered 'A' for a number the carrier does not host (a "
            "verified caller ID is 'B' at most)"
        )
    return parsed


def check_lookup(result: Any, provider: str, e164: str, fields: set[str]) -> NumberIntel:
    """An answer about the number asked, in the core's vocabulary; ``reassigned`` is
    ``unsupported`` when it was not asked."""
    parsed: NumberIntel = check_result("lookup_number", result, provider)
    if parsed.phone_e164 != e164:
        _fail(f"lookup_number({e164!r}) answered about {parsed.phone_e164!r}")
    if parsed.line_type not in LINE_TYPES:
        _fail(f"lookup_number answered line_type {parsed.line_type!r}")
    if "reassigned" not in fields and parsed.reassigned != "unsupported":
        _fail(
            f"lookup_number answered reassigned={parsed.reassigned!r} though it was not asked: "
            "answer 'unsupported'"
        )
    if parsed.cost is not None and parsed.cost < 0:
        _fail("lookup_number answered a negative cost")
    return parsed


def check_error_mapping(scenario: str, operation: str, raised: BaseException | None) -> None:
    """The carrier failure simulated by ``scenario`` surfaced as the core's error."""
    expected = ERROR_SCENARIOS[scenario]
    if raised is None:
        _fail(f"{scenario}: {operation} returned normally, expected {expected.__name__}")
    if not isinstance(raised, expected):
        _fail(
            f"{scenario}: {operation} raised {type(raised).__module__}."
            f"{type(raised).__name__} ({raised}), expected core.{expected.__name__}: map the "
            "carrier's errors onto the core's hierarchy"
        )
    if isinstance(raised, ProviderRateLimited) and not (
        raised.retry_after is None or isinstance(raised.retry_after, int | float)
    ):
        _fail(f"{scenario}: ProviderRateLimited.retry_after must be seconds or None")


def check_webhook_accepted(result: Any, provider: str) -> list[ProviderEvent]:
    events: list[ProviderEvent] = check_result("parse_webhook", result, provider)
    if not events:
        _fail("parse_webhook returned no event for signed_webhook()")
    return events


def check_webhook_refused(what: str, call: Callable[[], Any]) -> None:
    """``call()`` (parse_webhook on a bad request) must raise ``WebhookSignatureError``."""
    try:
        result = call()
    except WebhookSignatureError:
        return
    except Exception as exc:
        _fail(
            f"parse_webhook raised {type(exc).__name__} ({exc}) for {what}, expected "
            "WebhookSignatureError"
        )
    _fail(f"parse_webhook accepted {what} (returned {result!r})")


# -- running a real host -----------------------------------------------------------------------


class Kit:
    """A real :class:`~core.plugins.PluginHost` with one plugin loaded through its entry point,
    and the event loop its calls run on."""

    def __init__(self, host: PluginHost, loop: asyncio.AbstractEventLoop, plugin_name: str):
        self.host = host
        self.loop = loop
        self.plugin_name = plugin_name
        self.plugin: Any = host.pm.get_plugin(plugin_name)

    @classmethod
    def start(cls, plugin_name: str, settings: dict[str, Any]) -> Kit:
        from .plugins import PluginHost, entry_point_candidates

        found = entry_point_candidates()
        if plugin_name not in found:
            _fail(
                f"no installed distribution has a 'trunkline' entry point named "
                f"{plugin_name!r} (installed: {', '.join(sorted(found)) or 'none'})"
            )
        loop = asyncio.new_event_loop()
        host = PluginHost(strict=True)
        try:
            host.load([plugin_name], {plugin_name: settings})
            loop.run_until_complete(host.configure())
        except TrunklineError as exc:
            loop.close()
            _fail(f"plugin {plugin_name!r} failed to load through its entry point: {exc}")
        return cls(host, loop, plugin_name)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def call(self, hook: str, provider: str, **kwargs: Any) -> Any:
        """Call a provider hook on the plugin and return its raw result (not validated)."""

        async def go() -> Any:
            result = self.host.plugin_caller(hook, self.plugin_name)(provider=provider, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        return self.run(go())

    def close(self) -> None:
        try:
            self.run(self.host.aclose())
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.run(_gather(pending))
            self.run(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


async def _gather(tasks: list[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


def _load_entry_point(plugin_name: str) -> Any:
    for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT_NAME):
        if ep.name == plugin_name:
            obj = ep.load()
            return obj() if isinstance(obj, type) else obj
    _fail(f"no installed distribution has a 'trunkline' entry point named {plugin_name!r}")


# -- the test class ------------------------------------------------------------------------------


class ProviderConformance:
    """Subclass as ``TestXxxConformance`` to run the kit against your plugin.

    Set the attributes, and override :meth:`mock_carrier`, :meth:`signed_webhook`,
    :meth:`forged_webhook` (and :meth:`valid_code` when your carrier's code is not fixed).
    While a test runs, ``self.host`` is the real host and ``self.plugin`` your plugin instance.
    """

    #: The plugin's entry-point name in the ``trunkline`` group.
    plugin_name: str = ""
    #: The provider name the plugin registers.
    provider: str = ""
    #: The plugin's ``[plugins.<name>]`` table, ``{ env = "NAME" }`` references allowed.
    settings: dict[str, Any] = {}
    #: Environment variables set while the plugin loads (its credentials).
    env: dict[str, str] = {}
    #: A number to verify, and the country asked for coverage and regulations.
    number: str = "+14155550100"
    country: str = "US"
    #: The code ``mock_carrier("verify_code_ok")`` accepts (``None``: the carrier confirms by
    #: itself, e.g. a call-style carrier seen as verified on the next call), and one it refuses.
    code: str | None = "123456"
    wrong_code: str = "000000"
    #: The operation run under the error scenarios.
    error_operation: str = "verify_cli"
    #: The carrier's reference of a bought number (what ``purchase_number`` returns), released
    #: under the ``release`` scenario.
    purchased_ref: str | None = None
    #: The carrier's reference of :attr:`number` as a number it hosts (``NumberRef.provider_ref``),
    #: for ``expected_attestation`` under the ``attestation`` scenario.
    hosted_ref: str | None = None
    #: The destination looked up under the ``lookup`` scenario.
    destination: str = "+14155550123"

    host: PluginHost
    plugin: Any
    trunkline_kit: Kit

    def mock_carrier(self, scenario: str) -> AbstractContextManager[Any]:
        """A context manager under which the carrier answers as ``scenario`` says.

        Scenarios: see :data:`SCENARIOS`. A respx router (``respx.mock(base_url=...)``) is one.
        """
        return contextlib.nullcontext()

    def valid_code(self, started: VerificationResult) -> str | None:
        """The code that completes the verification ``started`` (default: :attr:`code`)."""
        return self.code

    def invalid_code(self, started: VerificationResult) -> str:
        return self.wrong_code

    def signed_webhook(self) -> WebhookRequest:
        """A callback as the carrier sends it, correctly signed with the test settings."""
        raise NotImplementedError(f"{type(self).__name__} must define signed_webhook()")

    def forged_webhook(self) -> WebhookRequest:
        """The same callback with a signature that does not hold."""
        raise NotImplementedError(f"{type(self).__name__} must define forged_webhook()")

    # -- plumbing --------------------------------------------------------------------------

    @pytest.fixture(name="trunkline_kit")
    def _trunkline_kit(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
        yield from self._start(monkeypatch, self.settings, self.env)

    def _start(
        self, monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any], env: dict[str, str]
    ) -> Iterator[Kit]:
        if not self.plugin_name or not self.provider:
            _fail(f"{type(self).__name__} must set plugin_name and provider")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        kit = Kit.start(self.plugin_name, settings)
        self.trunkline_kit, self.host, self.plugin = kit, kit.host, kit.plugin
        try:
            yield kit
        finally:
            kit.close()

    def number_ref(self, status: str = "none", ref: str | None = None, **fields: Any) -> NumberRef:
        """The stored number the kit verifies: one record (same ``id`` and ``workspace_id``)
        for the whole test, in the given state."""
        import phonenumbers

        if not hasattr(self, "_number_ids"):
            self._number_ids = (str(uuid.uuid4()), str(uuid.uuid4()))
        country = phonenumbers.region_code_for_number(phonenumbers.parse(self.number)) or "US"
        return NumberRef(
            id=self._number_ids[0],
            workspace_id=self._number_ids[1],
            phone_e164=self.number,
            country_code=country,
            provider=self.provider,
            verification_status=status,  # type: ignore[arg-type]
            verification_ref=ref,
            **fields,
        )

    def _example_args(self) -> dict[str, Any]:
        """A value for each parameter name the provider hooks take (hooks share their names,
        so a new hook needs an entry here only for a parameter name no hook used before)."""
        return {
            "number": self.number_ref(),
            "code": None,
            "country": self.country,
            "number_type": None,
            "end_user_type": None,
            "query": NumberSearch(country=self.country),
            "e164": self.number,
            "workspace": str(uuid.uuid4()),
            "from_e164": self.number,
            "to_e164": self.number,
            "options": CallOptions(),
        }

    def _operation_args(self, operation: str) -> dict[str, Any]:
        """Arguments for ``operation``, from its spec's parameters (``provider`` aside)."""
        examples = self._example_args()
        params = inspect.signature(getattr(hookspecs, operation)).parameters
        return {name: examples[name] for name in params if name != "provider"}

    def _capable(self, capability: str) -> None:
        if capability not in self.host.providers[self.provider].capabilities:
            pytest.skip(f"provider {self.provider!r} does not declare {capability!r}")

    def _start_verification(self, kit: Kit) -> VerificationResult:
        with self.mock_carrier("verify_start"):
            raw = kit.call("verify_cli", self.provider, number=self.number_ref(), code=None)
        return check_verification_started(raw, self.provider)

    # -- the checks --------------------------------------------------------------------------

    def test_hook_signatures(self) -> None:
        plugin = _load_entry_point(self.plugin_name)
        check_hook_signatures(plugin, self.plugin_name)
        check_imports(plugin, self.plugin_name)

    def test_registration(self, trunkline_kit: Kit) -> None:
        check_registration(self.host, self.plugin_name, self.provider)
        check_capabilities(self.host, self.plugin_name, self.provider)

    def test_settings_model(self, trunkline_kit: Kit) -> None:
        check_settings_model(self.host, self.plugin_name)
        check_provider_status(self.host, self.plugin_name, self.provider, configured=True)

    def test_missing_credentials(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without its credentials the plugin loads, says so, and its operations refuse."""
        for key in self.env:
            monkeypatch.delenv(key, raising=False)
        with contextlib.ExitStack() as stack:
            try:
                kit = Kit.start(self.plugin_name, {})
            except ConformanceError as exc:
                _fail(f"with an empty [plugins.{self.plugin_name}] table: {exc}")
            stack.callback(kit.close)
            self.host, self.plugin = kit.host, kit.plugin
            model = check_settings_model(kit.host, self.plugin_name)
            creds = credential_fields(model)
            check_provider_status(kit.host, self.plugin_name, self.provider, configured=not creds)
            if not creds:
                return
            operation = self.error_operation
            raised: BaseException | None = None
            with self.mock_carrier("server_error"):  # a request would not reach a carrier
                try:
                    kit.call(operation, self.provider, **self._operation_args(operation))
                except Exception as exc:
                    raised = exc
            if not isinstance(raised, ProviderNotConfigured):
                got = "returned normally" if raised is None else f"raised {raised!r}"
                _fail(
                    f"with {', '.join(creds)} unset, {operation} {got}; expected "
                    "ProviderNotConfigured"
                )

    def test_verify_start(self, trunkline_kit: Kit) -> None:
        self._capable("verify_cli")
        self._start_verification(trunkline_kit)

    def test_verify_code_ok(self, trunkline_kit: Kit) -> None:
        self._capable("verify_cli")
        started = self._start_verification(trunkline_kit)
        if started.status == "verified":
            return
        number = self.number_ref("pending", started.provider_ref)
        with self.mock_carrier("verify_code_ok"):
            raw = trunkline_kit.call(
                "verify_cli", self.provider, number=number, code=self.valid_code(started)
            )
        check_verification_completed(raw, self.provider)

    def test_verify_code_wrong_then_restart(self, trunkline_kit: Kit) -> None:
        """A wrong code fails with a detail; a failed verification may start again."""
        self._capable("verify_cli")
        started = self._start_verification(trunkline_kit)
        ref = started.provider_ref
        if started.next_step == "submit_code":  # call-style carriers take no code
            number = self.number_ref("pending", ref)
            with self.mock_carrier("verify_code_wrong"):
                raw = trunkline_kit.call(
                    "verify_cli", self.provider, number=number, code=self.invalid_code(started)
                )
            ref = check_verification_refused(raw, self.provider).provider_ref or ref
        failed = self.number_ref("failed", ref)
        with self.mock_carrier("verify_start"):
            again = trunkline_kit.call("verify_cli", self.provider, number=failed, code=None)
        try:
            check_verification_started(again, self.provider)
        except ConformanceError as exc:
            _fail(f"after a failed verification, starting again: {exc}")

    def test_release_number(self, trunkline_kit: Kit) -> None:
        """A hosted number is given back: the hook answers None."""
        self._capable("release")
        number = self.number_ref(hosted=True, provider_ref=self.purchased_ref)
        with self.mock_carrier("release"):
            raw = trunkline_kit.call("release_number", self.provider, number=number)
        check_released(raw)

    def test_coverage_shape(self, trunkline_kit: Kit) -> None:
        self._capable("coverage")
        with self.mock_carrier("coverage"):
            raw = trunkline_kit.call("list_coverage", self.provider, country=self.country)
        check_coverage(raw, self.provider, self.country)

    def test_regulations_shape(self, trunkline_kit: Kit) -> None:
        self._capable("regulations")
        with self.mock_carrier("regulations"):
            raw = trunkline_kit.call(
                "fetch_regulations",
                self.provider,
                country=self.country,
                number_type=None,
                end_user_type=None,
            )
        check_regulations(raw, self.provider, self.country)

    @pytest.mark.parametrize("scenario", list(ERROR_SCENARIOS))
    def test_error_mapping(self, trunkline_kit: Kit, scenario: str) -> None:
        operation = self.error_operation
        self._capable(HOOK_CAPABILITY[operation])
        raised: BaseException | None = None
        with self.mock_carrier(scenario):
            try:
                trunkline_kit.call(operation, self.provider, **self._operation_args(operation))
            except Exception as exc:
                raised = exc
        check_error_mapping(scenario, operation, raised)

    def test_outbound_permissions_shape(self, trunkline_kit: Kit) -> None:
        """``fetch_outbound_permissions``, when implemented, answers well-formed permissions."""
        self._capable("dialing_permissions")
        with self.mock_carrier("outbound_permissions"):
            raw = trunkline_kit.call("fetch_outbound_permissions", self.provider)
        check_outbound_permissions(raw, self.provider)

    def test_calling_windows_shape(self, trunkline_kit: Kit) -> None:
        """``calling_windows``, when implemented, is a pure answer of well-formed windows."""
        if "calling_windows" not in check_hook_signatures(self.plugin, self.plugin_name):
            return  # optional: the plugin adds no window
        impl = self.plugin.calling_windows
        for country, region in ((self.country, None), ("US", "FL"), ("FR", None)):
            args = {"country_code": country, "region": region}
            params = inspect.signature(impl).parameters
            first = impl(**{k: v for k, v in args.items() if k in params})
            again = impl(**{k: v for k, v in args.items() if k in params})
            windows = check_calling_windows(first, country)
            if windows != check_calling_windows(again, country):
                _fail(f"calling_windows({country!r}, {region!r}) answered differently twice")

    def test_expected_attestation(self, trunkline_kit: Kit) -> None:
        """A hosted number and a verified caller ID each get a level with a basis; the
        verified one is never ``A``."""
        self._capable("attestation")
        hosted = self.number_ref(hosted=True, provider_ref=self.hosted_ref)
        verified = self.number_ref("verified", verified_cli=True)
        for number in (hosted, verified):
            with self.mock_carrier("attestation"):
                raw = trunkline_kit.call("expected_attestation", self.provider, number=number)
            check_attestation(raw, number)

    def test_lookup_number(self, trunkline_kit: Kit) -> None:
        """The line type of :attr:`destination`, in the core's vocabulary."""
        self._capable("lookup")
        fields = {"line_type"}
        with self.mock_carrier("lookup"):
            raw = trunkline_kit.call(
                "lookup_number",
                self.provider,
                e164=self.destination,
                fields=fields,
                last_verified_date=None,
            )
        check_lookup(raw, self.provider, self.destination, fields)

    def test_webhook_signed_accepted(self, trunkline_kit: Kit) -> None:
        self._capable("webhooks")
        raw = trunkline_kit.call("parse_webhook", self.provider, request=self.signed_webhook())
        check_webhook_accepted(raw, self.provider)

    def test_webhook_forged_refused(self, trunkline_kit: Kit) -> None:
        self._capable("webhooks")
        signed = self.signed_webhook()
        forged = self.forged_webhook()
        unsigned = signed.model_copy(
            update={"headers": {k: v for k, v in signed.headers.items() if k == "content-type"}}
        )
        tampered = signed.model_copy(update={"body": signed.body + b" "})
        for what, request in (
            ("a forged signature", forged),
            ("a request without any signature header", unsigned),
            ("a body changed after signing", tampered),
        ):
            check_webhook_refused(
                what,
                functools.partial(
                    trunkline_kit.call, "parse_webhook", self.provider, request=request
                ),
            )


# -- the pytest plugin (entry point pytest11) ----------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("trunkline").addoption(
        "--trunkline-conformance",
        action="store_true",
        default=False,
        help="run only the Trunkline provider conformance checks (ProviderConformance subclasses)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("trunkline_conformance", default=False):
        return
    keep = [i for i in items if _is_kit_item(i)]
    dropped = [i for i in items if not _is_kit_item(i)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep


def _is_kit_item(item: pytest.Item) -> bool:
    cls = getattr(item, "cls", None)
    return isinstance(cls, type) and issubclass(cls, ProviderConformance)
