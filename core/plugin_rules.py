"""The destination hooks every plugin may answer (``is_country_outbound_blocked``,
``calling_windows``), asked through the host and cached per destination."""

from __future__ import annotations

import logging
import time
from typing import Any

import pluggy
from pydantic import ValidationError

from .calling_hours import Rule, rules_from_windows
from .errors import PluginLoadError
from .hooktables import _WINDOWS
from .models import CallingWindow

trace_log = logging.getLogger("trunkline.trace")


class DestinationRules:
    """The part of :class:`core.plugins.PluginHost` that answers for a destination."""

    pm: pluggy.PluginManager
    trace: bool
    _country_cache: dict[tuple[str, str], bool]
    _window_cache: dict[tuple[str, str | None], tuple[Rule, ...]]

    def plugin_caller(self, hook: str, plugin_name: str) -> Any:  # pragma: no cover
        raise NotImplementedError

    @property
    def country_answers(self) -> dict[tuple[str, str], bool]:
        """The cached answers of :meth:`is_country_blocked` by (country, provider), for the
        policy to read without a call (cleared in place by :meth:`clear_caches`)."""
        return self._country_cache

    def is_country_blocked(self, country_code: str, provider: str) -> bool:
        """Any plugin's veto blocks; answers are cached per (country, provider)."""
        key = (country_code, provider)
        cached = self._country_cache.get(key)
        if cached is None:
            started = time.perf_counter()
            answers = self.pm.hook.is_country_outbound_blocked(
                country_code=country_code, provider=provider
            )
            cached = any(a is True for a in answers)
            self._country_cache[key] = cached
            if self.trace:
                trace_log.info(
                    "hook is_country_outbound_blocked args=%s answers=%s duration_ms=%.2f",
                    {"country_code": country_code, "provider": provider},
                    answers,
                    (time.perf_counter() - started) * 1000,
                )
        return cached

    def calling_rules(self, country_code: str, region: str | None) -> tuple[Rule, ...]:
        """Every plugin's ``calling_windows`` for a destination, as rules; cached per
        (country, region). A malformed answer is a configuration error naming the plugin."""
        key = (country_code, region)
        cached = self._window_cache.get(key)
        if cached is None:
            windows: list[CallingWindow] = []
            for impl in self.pm.hook.calling_windows.get_hookimpls():
                [answer] = self.plugin_caller("calling_windows", impl.plugin_name)(
                    country_code=country_code, region=region
                ) or [None]
                try:
                    windows.extend(_WINDOWS.validate_python(answer or []))
                except ValidationError as exc:
                    raise PluginLoadError(
                        impl.plugin_name,
                        f"calling_windows returned a malformed window: {exc.errors()[0]['msg']}",
                    ) from None
            cached = self._window_cache[key] = tuple(rules_from_windows(windows, country_code))
            if self.trace:
                trace_log.info(
                    "hook calling_windows args=%s rules=%s",
                    {"country_code": country_code, "region": region},
                    [r.id for r in cached],
                )
        return cached

    def clear_caches(self) -> None:
        """Forget cached country and calling-window answers (after a configuration change)."""
        self._country_cache.clear()
        self._window_cache.clear()
