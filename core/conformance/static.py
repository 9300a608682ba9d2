"""The kit's checks of a plugin as loaded: its hooks' signatures, its imports, its
registration, settings model, capabilities and provider status. None calls the carrier."""

from __future__ import annotations

import ast
import inspect
import json
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr

from .. import hookspecs
from ..models import ProviderInfo
from ..plugins import HOOK_CAPABILITY
from .common import fail

if TYPE_CHECKING:
    from ..plugins import PluginHost

#: What a plugin may import of Trunkline: ``trunkline`` and ``trunkline.testing`` (and, for
#: plugins written before the public name existed, ``core`` and ``core.conformance``).
#: Everything else under ``core``, ``api`` and ``plugins`` is the project's own.
PUBLIC_MODULES = frozenset({"trunkline", "trunkline.testing", "core", "core.conformance"})
PRIVATE_PACKAGES = ("core", "api")


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
                fail(
                    f"plugin {plugin_name!r} defines {attr}() without @hookimpl: "
                    "the host would never call it"
                )
            continue
        hook = opts.get("specname") or attr
        if hook not in specs:
            fail(
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
            fail(
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
                    fail(
                        f"plugin {plugin_name!r} imports {name} in {file.name} (line "
                        f"{node.lineno}); a plugin imports only the public surface: "
                        "'from trunkline import ...' (and trunkline.testing in its tests)"
                    )


def check_registration(host: PluginHost, plugin_name: str, provider: str) -> ProviderInfo:
    """The plugin loaded and registered ``provider`` with a display name and capabilities."""
    record = host.records.get(plugin_name)
    if record is None or record.status != "loaded":
        fail(f"plugin {plugin_name!r} did not load: {record.error if record else 'unknown'}")
    mine = [p for p, owner in host.provider_plugin.items() if owner == plugin_name]
    if not mine:
        fail(
            f"plugin {plugin_name!r} registers no provider: implement "
            "trunkline_register_providers(register) and call register(ProviderInfo(...))"
        )
    if provider not in mine:
        fail(
            f"plugin {plugin_name!r} registers {', '.join(repr(p) for p in mine)}, not {provider!r}"
        )
    info = host.providers[provider]
    if not info.display_name.strip():
        fail(f"provider {provider!r} has an empty display_name")
    if not info.capabilities:
        fail(f"provider {provider!r} declares no capability")
    return info


def check_settings_model(host: PluginHost, plugin_name: str) -> type[BaseModel]:
    """A carrier plugin validates its table with a pydantic model; credentials are optional."""
    model = host.settings_model(plugin_name)
    if model is None:
        fail(
            f"plugin {plugin_name!r} registers no settings model: set "
            "ProviderInfo.settings_model to a pydantic model class"
        )
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        fail(f"plugin {plugin_name!r}: settings_model {model!r} is not a pydantic model class")
    from ..secrets import looks_secret

    for field_name, field in model.model_fields.items():
        if looks_secret(field_name) and not _is_secret(field.annotation):
            fail(
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
            fail(
                f"provider {provider!r} declares capability {capability!r} but plugin "
                f"{plugin_name!r} implements no {hook}"
            )
        if hook in implemented and capability not in declared:
            fail(
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
        fail("trunkline_provider_status must be synchronous: it returned an awaitable")
    if status is None:
        status = {"configured": True}
    if not isinstance(status, dict):
        fail(f"trunkline_provider_status returned {type(status).__name__}, expected dict")
    if not isinstance(status.get("configured"), bool):
        fail("trunkline_provider_status returned dict without a bool 'configured'")
    if status["configured"] is not configured:
        fail(
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
            fail(f"the secret setting {name!r} of plugin {plugin_name!r} is shown unredacted")
    return dict(status)


def _secret_values(settings: BaseModel | None) -> dict[str, str]:
    if settings is None:
        return {}
    return {
        name: value.get_secret_value()
        for name, value in settings
        if isinstance(value, SecretStr) and len(value.get_secret_value()) >= 4
    }
