"""What every part of the conformance kit shares: the scenarios a plugin's carrier mocks
answer, and the failure every check raises."""

from __future__ import annotations

import typing

from ..errors import ProviderAuthError, ProviderError, ProviderRateLimited, ProviderUnavailable

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


def fail(message: str) -> typing.NoReturn:
    """Raise :class:`ConformanceError` with ``message`` (which names what is wrong)."""
    raise ConformanceError(message)
