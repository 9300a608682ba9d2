"""What the core reports to a metrics recorder, and a recorder that keeps nothing.

The API's Prometheus registry (:class:`api.metrics.Metrics`) is one; it is passed to
:func:`core.bootstrap.start_runtime` when the runtime is built, which hands each part its own
method (the plugin host its carrier calls, the permission store its refreshes), and is read
back as ``Runtime.metrics``. The command line passes none.
"""

from __future__ import annotations

from typing import Any, Protocol


class MetricsRecorder(Protocol):
    def observe_carrier(self, hook: str, provider: str, outcome: str, seconds: float) -> None:
        """One provider hook call: its outcome (``ok`` or an error code) and duration."""

    def observe_permissions(self, provider: str, outcome: str, entry: Any) -> None:
        """One refresh of a provider's dialing permissions (``PermissionStore``)."""

    def observe_policy(self, reasons: tuple[str, ...], count: int = 1) -> None:
        """``count`` preflight decisions with these reasons (none: allowed)."""

    def observe_rate_limited(self, limit: str) -> None:
        """A request refused by one of Trunkline's own rate limits (``verify_cli``)."""


class NullRecorder:
    """Records nothing: the runtime's recorder when none is given (the CLI, tests)."""

    def observe_carrier(self, hook: str, provider: str, outcome: str, seconds: float) -> None:
        pass

    def observe_permissions(self, provider: str, outcome: str, entry: Any) -> None:
        pass

    def observe_policy(self, reasons: tuple[str, ...], count: int = 1) -> None:
        pass

    def observe_rate_limited(self, limit: str) -> None:
        pass
