"""What the console shows of the outbound policy: the deployment's switches and each policy
plugin's rules (read-only), the carriers' dialing permissions, and the workspace's own policy
as its form holds it."""

from __future__ import annotations

from typing import Any

from core.calling_hours import bundled_rule_ids, rule_pack
from core.models import LINE_TYPES
from core.outbound_policy import OutboundPolicySettings
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


def permissions_view(rt: Runtime, provider: str) -> dict[str, Any] | None:
    """A provider's dialing permissions as the providers table shows them (None: cannot tell)."""
    entry = rt.permissions.entry(provider)
    if not entry.supported:
        return None
    view = entry.as_dict()
    view["label"] = {
        "ok": "Up to date",
        "stale": "Stale: the last refresh failed, the last good answer applies",
        "failing": "Could not be read",
        "pending": "Not read yet",
    }[entry.state]
    return view


def workspace_policy_form(settings: OutboundPolicySettings) -> dict[str, Any]:
    """The outbound policy form's values: lists as the text the inputs hold."""
    hours = settings.calling_hours
    return {
        "allowed_countries": ", ".join(settings.allowed_countries),
        "calling_hours_on": hours is not None,
        "rules": set(hours.rules) if hours is not None else set(bundled_rule_ids()),
        "windows": "\n".join(
            f"{','.join(w.days)} {w.start}-{w.end}" for w in (hours.windows if hours else [])
        ),
        "min_attestation": settings.min_attestation or "",
        "lookup_enabled": settings.lookup.enabled,
        "deny_line_types": set(settings.lookup.deny_line_types),
        "check_reassigned": settings.lookup.check_reassigned,
    }


#: The minimum attestation's choices: (value, words); ``""`` is no minimum.
ATTESTATION_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "No minimum"),
    ("A", "A: only numbers the carrier hosts and vouches for"),
    ("B", "B or better: verified caller IDs too"),
    ("C", "C or better: refuse only numbers whose attestation is unknown"),
)

#: Words for each line type a lookup may tell (``core.models.LINE_TYPES``).
LINE_TYPE_LABELS: dict[str, str] = {
    "mobile": "Mobile",
    "landline": "Landline",
    "fixed_voip": "Fixed VoIP",
    "non_fixed_voip": "Non-fixed VoIP",
    "toll_free": "Toll-free",
    "premium": "Premium rate",
    "shared_cost": "Shared cost",
    "voicemail": "Voicemail",
    "pager": "Pager",
    "unknown": "Unknown",
}


def line_type_choices() -> list[dict[str, str]]:
    """Every line type, in the design's order, with its words."""
    return [{"id": t, "label": LINE_TYPE_LABELS.get(t, t)} for t in LINE_TYPES]


def calling_rule_choices() -> list[dict[str, Any]]:
    """The bundled calling-hours rules, one entry per rule id with its titles and sources."""
    rules: dict[str, dict[str, Any]] = {}
    for entry in rule_pack():
        rule = rules.setdefault(entry["rule"], {"id": entry["rule"], "titles": [], "sources": []})
        rule["titles"].append(entry["title"])
        rule["sources"].append(entry["source"])
    return list(rules.values())
