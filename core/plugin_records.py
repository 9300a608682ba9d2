"""What the host knows of plugins: the installed entry points (nothing imported), one record
per plugin as ``/plugins`` and the CLI show it, the message of a settings error, a short repr."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

ENTRY_POINT_GROUP = "trunkline"
BUNDLED_DISTRIBUTION = "trunkline"


@dataclass
class PluginRecord:
    """What the host knows of one plugin, loaded or not; shown by ``/plugins`` and the CLI."""

    name: str
    module: str
    distribution: str | None = None
    version: str | None = None
    bundled: bool = False
    enabled: bool = False
    status: str = "disabled"  # loaded | failed | disabled
    error: str | None = None
    hooks: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, *, with_settings: bool = True) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "name": self.name,
            "module": self.module,
            "distribution": self.distribution,
            "version": self.version,
            "bundled": self.bundled,
            "enabled": self.enabled,
            "status": self.status,
            "error": self.error,
            "hooks": sorted(self.hooks),
            "providers": sorted(self.providers),
        }
        if with_settings:
            shown["settings"] = self.settings
        return shown


@dataclass
class _Candidate:
    name: str
    module: str
    load: Callable[[], object]
    distribution: str | None
    version: str | None


def entry_point_candidates() -> dict[str, _Candidate]:
    """Every installed ``trunkline`` entry point, by name; nothing is imported."""
    found: dict[str, _Candidate] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        found[ep.name] = _Candidate(
            name=ep.name,
            module=ep.value,
            load=ep.load,
            distribution=dist.name if dist else None,
            version=dist.version if dist else None,
        )
    return found


def _constant(obj: object) -> Callable[[], object]:
    return lambda: obj


def _settings_error(exc: ValidationError, missing: dict[str, str]) -> str:
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        if key in missing and err["type"] == "missing":
            parts.append(f"setting {key!r}: environment variable {missing[key]} is not set")
        else:
            parts.append(f"setting {key!r}: {err['msg']}")
    return "invalid settings: " + "; ".join(parts)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 300 else text[:297] + "..."
