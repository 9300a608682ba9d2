"""Plugin authors' surface: hookspecs documented, bundled plugins import only ``core``'s top."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import core
from core import hookspecs

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


def test_bundled_plugins_use_only_the_public_surface() -> None:
    offenders = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        for module, names in _imports(path):
            if module == "core":
                missing = [n for n in names if n not in core.__all__]
                if missing:
                    offenders.append(f"{path.relative_to(ROOT)} imports {missing} from core")
            elif module.startswith(("core.", "api")) and module != "core":
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_public_surface_resolves() -> None:
    for name in core.__all__:
        assert getattr(core, name) is not None
