"""Views of the data: what the console's tables and controls show of a number or a caller-ID
choice (plain dicts for the templates, computed by the server's own rules).
"""

from __future__ import annotations

from typing import Any

from core.policy import CALLER_ID_NOT_ALLOWED, REASON_TEXT

from ..schemas import NumberOut

VERIFICATION_LABELS = {
    "none": "Not verified",
    "pending": "Pending",
    "verified": "Verified",
    "failed": "Failed",
}


def number_view(n: NumberOut, *, demo_mode: bool = False) -> dict[str, Any]:
    """What the numbers table, NumbersRowActions and BindControls show of a number."""
    view = n.model_dump()
    view["kind"] = "hosted" if n.hosted else "byo"
    view["kind_label"] = "Hosted" if n.hosted else "Bring your own"
    if n.hosted:
        view["verification_label"] = "Not needed (hosted)"
    elif n.verified_cli:
        view["verification_label"] = "Verified"
    else:
        view["verification_label"] = VERIFICATION_LABELS.get(
            n.verification_status, n.verification_status
        )
    view["can_verify"] = not n.hosted and not n.verified_cli
    # A number that may not be a caller ID cannot be turned on for outbound; one that is on
    # anyway (verified CLIs were switched off since) may still be turned off.
    view["outbound_locked"] = not n.caller_id_allowed and not n.outbound_enabled
    view["outbound_reason"] = None if n.caller_id_allowed else REASON_TEXT[CALLER_ID_NOT_ALLOWED]
    view["outbound_label"] = "On" if n.outbound_enabled else "Off"
    view["inbound_label"] = "On" if n.inbound_enabled else "Off"
    view["demo_mode"] = demo_mode
    view.update(attestation_view(n.attestation, n.attestation_basis))
    return view


def attestation_view(level: str | None, basis: str | None) -> dict[str, str]:
    """The attestation badge's class, text and title for a stored level (``None``: not asked)."""
    if level is None:
        return {
            "attestation_class": "none",
            "attestation_label": "Attestation ?",
            "attestation_title": "Expected attestation not known yet",
        }
    title = f"Expected SHAKEN/STIR attestation {level}"
    return {
        "attestation_class": level.lower(),
        "attestation_label": f"Attestation {level}",
        "attestation_title": f"{title}: {basis}" if basis else title,
    }


def caller_id_option(n: NumberOut, reasons: list[str]) -> dict[str, Any]:
    """A campaign caller-ID choice, allowed or not and why (``reasons``: the server's own rule,
    ``core.campaigns.caller_id_refusals``)."""
    return {
        "e164": n.phone_e164,
        "provider": n.provider,
        "allowed": not reasons,
        "reasons": reasons,
        "reason_text": " ".join(REASON_TEXT[r] for r in reasons),
    }
