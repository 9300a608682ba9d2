"""docs/writing-a-provider-plugin.md documents every hook with its exact signature, every kit
scenario and every sandbox setting, and links only to files that exist."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from core import hookspecs
from core.conformance import SCENARIOS, hook_signature
from plugins.sandbox.plugin import SandboxSettings

DOC = Path(__file__).parent.parent / "docs" / "writing-a-provider-plugin.md"
TEXT = DOC.read_text("utf-8")


def _specs() -> dict[str, object]:
    return {
        name: obj
        for name, obj in vars(hookspecs).items()
        if inspect.isfunction(obj) and hasattr(obj, "trunkline_spec")
    }


def _signature(spec: object) -> str:
    params = inspect.signature(spec).parameters  # type: ignore[arg-type]
    return f"{spec.__name__}({', '.join(params)})"  # type: ignore[attr-defined]


def test_every_hookspec_is_documented_with_its_exact_signature() -> None:
    specs = _specs()
    assert {"verify_cli", "trunkline_cli", "is_country_outbound_blocked"} <= set(specs)
    missing = [
        _signature(spec)
        for spec in specs.values()
        if f"### `{_signature(spec)}`" not in TEXT.splitlines()
    ]
    assert not missing, f"not documented as '### `signature`' headings: {missing}"
    assert "### `verify_cli(provider, number, code)`" in TEXT.splitlines()


def test_no_heading_documents_a_hook_that_does_not_exist() -> None:
    documented = re.findall(r"^### `(\w+)\((.*)\)`$", TEXT, flags=re.M)
    specs = _specs()
    for name, args in documented:
        assert name in specs, f"the guide documents {name}(), which is no hookspec"
        assert f"{name}({args})" == hook_signature(name)
    assert len(documented) == len(specs)


def test_every_kit_scenario_and_sandbox_setting_is_documented() -> None:
    for scenario in SCENARIOS:
        assert f"| `{scenario}` |" in TEXT, scenario
    for field in SandboxSettings.model_fields:
        assert f"`{field}`" in TEXT, field
    assert "--trunkline-conformance" in TEXT and "TRUNKLINE_TRACE_HOOKS=1" in TEXT
    assert 'acme = "trunkline_acme:AcmePlugin"' in TEXT


def test_relative_links_point_at_files_that_exist() -> None:
    links = re.findall(r"\]\((\.\./[^)#]+)\)", TEXT)
    assert links
    for link in links:
        assert (DOC.parent / link).resolve().exists(), link


def test_every_provider_hook_names_its_capability() -> None:
    for hook, declared in hookspecs.PROVIDER_HOOKS.items():
        heading = f"### `{hook_signature(hook)}`"
        section = TEXT.split(heading, 1)[1].split("\n### ", 1)[0]
        assert f"Capability `{declared.capability}`." in section, hook
