"""What the console shows of the outbound policy's settings: the deployment's switches and each
policy plugin's rules (country rules' blocked and allowed countries), read-only."""

from __future__ import annotations

from typing import Any

from core.runtime import Runtime

#: Words for the settings of the bundled policy plugin; other plugins' keys are shown as named.
SETTING_LABELS = {
    "blocked": "Blocked for every carrier",
    "allowed": "Only these may be called",
    "by_provider": "Blocked for one carrier",
}


def setting_lines(settings: dict[str, Any]) -> list[dict[str, str]]:
    """A plugin's (redacted) settings as label/value lines; an empty list reads "none"."""
    lines = []
    for key in sorted(settings):
        value = settings[key]
        if isinstance(value, dict):
            text = "; ".join(
                f"{name}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                for name, v in sorted(value.items())
            )
        elif isinstance(value, list):
            text = ", ".join(map(str, value))
        else:
            text = "" if value is None else str(value)
        if not text and key == "allowed":
            text = "every country not blocked"
        lines.append({"key": key, "label": SETTING_LABELS.get(key, key), "value": text or "none"})
    return lines


def policy_view(rt: Runtime) -> dict[str, Any]:
    """The deployment's outbound-policy switches and the rules of each loaded policy plugin."""
    rules = []
    for record in rt.host.describe():
        if record["status"] != "loaded" or "is_country_outbound_blocked" not in record["hooks"]:
            continue
        rules.append({"plugin": record["name"], "lines": setting_lines(record["settings"])})
    return {
        "verified_enabled": rt.settings.outbound_verified_enabled,
        "demo_mode": rt.settings.demo_mode,
        "rules": rules,
    }
