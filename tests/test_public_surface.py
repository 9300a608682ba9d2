"""Plugin authors' surface: hookspecs documented; ``trunkline`` and ``trunkline.testing`` are the
public names; bundled plugins import only the public surface."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import core
import trunkline
import trunkline.testing
from core import conformance, hookspecs

ROOT = Path(__file__).parent.parent
SPECS = [
    name
    for name, obj in vars(hookspecs).items()
    if inspect.isfunction(obj) and hasattr(obj, "trunkline_spec")
]


def test_there_are_hookspecs() -> None:
    assert {
        "verify_cli",
        "list_coverage",
        "fetch_regulations",
        "is_country_outbound_blocked",
        "trunkline_register_providers",
        "parse_webhook",
    } <= set(SPECS)


def test_every_hookspec_states_its_contract() -> None:
    for name in SPECS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 80, f"hookspec {name} needs a docstring stating its contract"
        semantics = ("Provider-targeted", "Broadcast", "Called once", "Called on one")
        assert any(s in doc for s in semantics), f"hookspec {name}: say how it is called"


def test_provider_hooks_listed() -> None:
    assert set(hookspecs.PROVIDER_HOOKS) <= set(SPECS)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names)
    return found


def test_bundled_plugins_and_the_example_use_only_trunkline() -> None:
    """Under the distribution's name only: ``core`` is the project's internal package."""
    offenders = []
    sources = [*(ROOT / "plugins").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]
    for path in sorted(sources):
        tests = "tests" in path.relative_to(ROOT).parts
        for module, names in _imports(path):
            if module == "trunkline":
                missing = [n for n in names if n not in trunkline.__all__]
                if missing:
                    offenders.append(f"{path.relative_to(ROOT)} imports {missing} from {module}")
            elif module == "trunkline.testing" and tests:
                continue
            elif module.partition(".")[0] in ("core", "api", "trunkline"):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_public_surface_resolves() -> None:
    for name in core.__all__:
        assert getattr(core, name) is not None


def test_trunkline_is_cores_surface_plus_the_carrier_helpers() -> None:
    assert set(core.__all__) < set(trunkline.__all__)
    for name in core.__all__:
        assert getattr(trunkline, name) is getattr(core, name), name
    for helper in (
        "error_for_status",
        "parse_retry_after",
        "check_same_number",
        "classify_number",
        "static_coverage",
        "static_requirements",
        "attestation_by_ownership",
        "register_provider",
    ):
        assert callable(getattr(trunkline, helper)), helper
    assert trunkline.hookimpl is hookspecs.hookimpl


def test_trunkline_testing_is_the_kit_and_the_pytest_plugin() -> None:
    import importlib.metadata

    assert trunkline.testing.ProviderConformance is conformance.ProviderConformance
    assert set(trunkline.testing.__all__) == set(conformance.__all__)
    for hook in ("pytest_addoption", "pytest_collection_modifyitems"):
        assert getattr(trunkline.testing, hook) is getattr(conformance, hook)
    entry = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}.get(
        "trunkline"
    )
    assert entry == "trunkline.testing"


def _check_plugin_source(tmp_path: Path, source: str) -> None:
    """Run the kit's import check on a plugin package whose module holds ``source``."""
    import sys
    import types

    pkg = tmp_path / "sneaky_plugin"
    pkg.mkdir(exist_ok=True)
    (pkg / "plugin.py").write_text(source)
    module = types.ModuleType("sneaky_plugin.plugin")
    module.__file__ = str(pkg / "plugin.py")
    module.__package__ = "sneaky_plugin"
    plugin_class = type("Sneaky", (), {"__module__": module.__name__})
    sys.modules[module.__name__] = module
    try:
        conformance.check_imports(plugin_class, "sneaky")
    finally:
        del sys.modules[module.__name__]


@pytest.mark.parametrize(
    "line", ["from core.plugins import PluginHost", "import api.app", "from trunkline.x import y"]
)
def test_the_kits_import_check_refuses_private_modules(tmp_path: Path, line: str) -> None:
    with pytest.raises(conformance.ConformanceError, match="public surface"):
        _check_plugin_source(tmp_path, f"{line}\n")


def test_the_kits_import_check_accepts_the_public_names(tmp_path: Path) -> None:
    _check_plugin_source(
        tmp_path,
        "import trunkline\nfrom trunkline import hookimpl\nfrom core import hookimpl as h\n",
    )
