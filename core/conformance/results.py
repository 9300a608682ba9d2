"""The kit's checks of what a provider hook answered: the promised model, and the rules the
contract adds (a start is pending or verified, coverage is for the country asked...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import ProviderRateLimited, WebhookMalformed, WebhookSignatureError
from ..models import (
    ATTESTATION_LEVELS,
    LINE_TYPES,
    AttestationEstimate,
    CallingWindow,
    CountryPermission,
    CoverageEntry,
    NumberIntel,
    NumberRef,
    ProviderEvent,
    Requirement,
    VerificationResult,
)
from ..plugins import HOOK_RESULTS
from .common import ERROR_SCENARIOS, ConformanceError, fail


def check_result(hook: str, result: Any, provider: str | None = None) -> Any:
    """Validate a provider hook's raw result; messages name the hook and the field."""
    model, many = HOOK_RESULTS[hook]
    if not many:
        return _one(f"{hook} returned", result, model, provider)
    if not isinstance(result, list):
        fail(f"{hook} returned {type(result).__name__}, expected a list of {model.__name__}")
    return [_one(f"{hook} returned, at [{i}],", r, model, provider) for i, r in enumerate(result)]


def _one(what: str, value: Any, model: type[BaseModel], provider: str | None) -> Any:
    if value is None:
        fail(
            f"{what} None, expected {model.__name__} (raise UnsupportedOperation for an "
            "operation the carrier does not offer)"
        )
    if isinstance(value, dict):
        missing = [n for n, f in model.model_fields.items() if f.is_required() and n not in value]
        if missing:
            fail(f"{what} dict without {', '.join(repr(m) for m in missing)}")
        data: Any = value
    elif isinstance(value, model):
        data = value.model_dump()
    else:
        fail(f"{what} {type(value).__name__}, expected core.{model.__name__}")
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        fail(f"{what} an invalid {model.__name__}: {loc}: {err['msg']} (got {err['input']!r})")
    actual = getattr(parsed, "provider", None)
    if provider is not None and actual is not None and actual != provider:
        fail(f"{what} a {model.__name__} with provider={actual!r}, expected {provider!r}")
    return parsed


def check_verification_started(result: Any, provider: str | None = None) -> VerificationResult:
    """A start (``code=None``) answers ``pending`` with a next step, or ``verified``."""
    parsed: VerificationResult = check_result("verify_cli", result, provider)
    if parsed.status not in ("pending", "verified"):
        fail(
            f"verify_cli (start, code=None) answered {parsed.status!r}: a start is "
            "'pending' or 'verified'; carrier failures raise a core Provider* error"
        )
    if parsed.status == "pending" and parsed.next_step == "none":
        fail(
            "verify_cli answered 'pending' with next_step 'none': say what the user does "
            "('answer_call_and_enter_code' or 'submit_code')"
        )
    if parsed.next_step == "answer_call_and_enter_code" and not parsed.display_code:
        fail("verify_cli answered next_step 'answer_call_and_enter_code' without display_code")
    return parsed


def check_verification_completed(result: Any, provider: str | None = None) -> VerificationResult:
    """The right code (or the carrier's confirmation) answers ``verified``."""
    parsed: VerificationResult = check_result("verify_cli", result, provider)
    if parsed.status != "verified":
        fail(
            f"verify_cli with the right code answered {parsed.status!r}"
            + (f" ({parsed.detail})" if parsed.detail else "")
            + ", expected 'verified'"
        )
    return parsed


def check_verification_refused(result: Any, provider: str | None = None) -> VerificationResult:
    """A wrong code answers ``failed`` with a ``detail`` (the user may try again)."""
    parsed: VerificationResult = check_result("verify_cli", result, provider)
    if parsed.status != "failed":
        fail(f"verify_cli with a wrong code answered {parsed.status!r}, expected 'failed'")
    if not (parsed.detail or "").strip():
        fail("verify_cli answered 'failed' without detail: tell the user what went wrong")
    return parsed


def check_released(result: Any) -> None:
    """``release_number`` answers ``None`` once the carrier no longer holds the number."""
    if result is not None:
        fail(
            f"release_number returned {type(result).__name__}: it answers None once the number "
            "is released, and raises a core Provider* error when the carrier refuses"
        )


def check_coverage(result: Any, provider: str, country: str) -> list[CoverageEntry]:
    entries: list[CoverageEntry] = check_result("list_coverage", result, provider)
    if not entries:
        fail(f"list_coverage({country!r}) returned no entry under the 'coverage' scenario")
    for entry in entries:
        if entry.country_code != country:
            fail(
                f"list_coverage({country!r}) returned an entry for {entry.country_code!r}: "
                "filter by the country asked for"
            )
    return entries


def check_regulations(result: Any, provider: str, country: str) -> list[Requirement]:
    """Requirements for the country asked; an empty list (no requirement) is allowed."""
    items: list[Requirement] = check_result("fetch_regulations", result, provider)
    for item in items:
        if item.country_code != country:
            fail(f"fetch_regulations({country!r}) returned a requirement for {item.country_code!r}")
        if not item.name.strip():
            fail("fetch_regulations returned a requirement with an empty name")
    return items


def check_outbound_permissions(result: Any, provider: str) -> list[CountryPermission]:
    """A list of :class:`CountryPermission`, one per ISO country at most."""
    import phonenumbers

    items: list[CountryPermission] = check_result("fetch_outbound_permissions", result, provider)
    seen: set[str] = set()
    for item in items:
        if item.country_code not in phonenumbers.SUPPORTED_REGIONS:
            fail(
                f"fetch_outbound_permissions returned {item.country_code!r}, which is not an "
                "ISO 3166 alpha-2 region phonenumbers knows"
            )
        if item.country_code in seen:
            fail(f"fetch_outbound_permissions returned {item.country_code!r} twice")
        seen.add(item.country_code)
    return items


def check_calling_windows(result: Any, country: str) -> list[CallingWindow]:
    """``None`` or a list of :class:`CallingWindow` (``start`` before ``end``, known days)."""
    if result is None:
        return []
    if not isinstance(result, list):
        fail(f"calling_windows({country!r}) returned {type(result).__name__}, expected a list")
    return [
        _one(f"calling_windows({country!r}) returned, at [{i}],", w, CallingWindow, None)
        for i, w in enumerate(result)
    ]


def check_attestation(result: Any, number: NumberRef) -> AttestationEstimate:
    """A level of the core's vocabulary with a basis; a number the carrier does not host is
    never signed ``A``."""
    parsed: AttestationEstimate = check_result("expected_attestation", result)
    if parsed.level not in ATTESTATION_LEVELS:
        fail(f"expected_attestation answered level {parsed.level!r}")
    if not parsed.basis.strip():
        fail("expected_attestation answered without a basis: say why the level is what it is")
    if parsed.level == "A" and not number.hosted:
        fail(
            "expected_attestation answered 'A' for a number the carrier does not host (a "
            "verified caller ID is 'B' at most)"
        )
    return parsed


def check_lookup(result: Any, provider: str, e164: str, fields: set[str]) -> NumberIntel:
    """An answer about the number asked, in the core's vocabulary; ``reassigned`` is
    ``unsupported`` when it was not asked."""
    parsed: NumberIntel = check_result("lookup_number", result, provider)
    if parsed.phone_e164 != e164:
        fail(f"lookup_number({e164!r}) answered about {parsed.phone_e164!r}")
    if parsed.line_type not in LINE_TYPES:
        fail(f"lookup_number answered line_type {parsed.line_type!r}")
    if "reassigned" not in fields and parsed.reassigned != "unsupported":
        fail(
            f"lookup_number answered reassigned={parsed.reassigned!r} though it was not asked: "
            "answer 'unsupported'"
        )
    if parsed.cost is not None and parsed.cost < 0:
        fail("lookup_number answered a negative cost")
    return parsed


def check_error_mapping(scenario: str, operation: str, raised: BaseException | None) -> None:
    """The carrier failure simulated by ``scenario`` surfaced as the core's error."""
    expected = ERROR_SCENARIOS[scenario]
    if raised is None:
        fail(f"{scenario}: {operation} returned normally, expected {expected.__name__}")
    if not isinstance(raised, expected):
        fail(
            f"{scenario}: {operation} raised {type(raised).__module__}."
            f"{type(raised).__name__} ({raised}), expected core.{expected.__name__}: map the "
            "carrier's errors onto the core's hierarchy"
        )
    if isinstance(raised, ProviderRateLimited) and not (
        raised.retry_after is None or isinstance(raised.retry_after, int | float)
    ):
        fail(f"{scenario}: ProviderRateLimited.retry_after must be seconds or None")


def check_webhook_accepted(result: Any, provider: str) -> list[ProviderEvent]:
    events: list[ProviderEvent] = check_result("parse_webhook", result, provider)
    if not events:
        fail("parse_webhook returned no event for signed_webhook()")
    return events


def check_webhook_refused(what: str, call: Callable[[], Any]) -> None:
    """``call()`` (parse_webhook on a bad request) must raise ``WebhookSignatureError``."""
    try:
        result = call()
    except WebhookSignatureError:
        return
    except Exception as exc:
        fail(
            f"parse_webhook raised {type(exc).__name__} ({exc}) for {what}, expected "
            "WebhookSignatureError"
        )
    fail(f"parse_webhook accepted {what} (returned {result!r})")


def check_webhook_malformed(
    what: str, call: Callable[[], Any], provider: str | None = None
) -> list[ProviderEvent]:
    """``call()`` (parse_webhook on a correctly signed body that is not a callback of the
    carrier: ``what`` names it) raises ``WebhookMalformed``, or answers a well-formed list of
    ``ProviderEvent`` (``[]`` for a readable body that names nothing the core acts on). Any
    other exception, and any other answer, fails. Returns the events (``[]`` when refused)."""
    try:
        result = call()
    except WebhookMalformed:
        return []
    except WebhookSignatureError as exc:
        fail(
            f"parse_webhook raised WebhookSignatureError ({_short(exc)}) for {what}, which is "
            "correctly signed: once the signature holds, a body it cannot read raises "
            "WebhookMalformed"
        )
    except Exception as exc:
        fail(
            f"parse_webhook raised {type(exc).__module__}.{type(exc).__name__} ({_short(exc)}) "
            f"for {what}, expected WebhookMalformed: a signed body that is not the carrier's "
            "callback raises WebhookMalformed, never its parser's error"
        )
    try:
        events: list[ProviderEvent] = check_result("parse_webhook", result, provider)
    except ConformanceError as exc:
        fail(f"for {what}: {_short(exc, 400)}")
    return events


def _short(exc: BaseException, limit: int = 200) -> str:
    """An exception's message, cut short (a parser's may quote a whole enormous body)."""
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."
