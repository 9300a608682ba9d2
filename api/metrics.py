"""Prometheus metrics, one registry per app (so several apps can live in one process)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "trunkline_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "trunkline_http_request_seconds",
            "HTTP request latency by route",
            ["route"],
            registry=self.registry,
        )
        self.carrier_calls = Counter(
            "trunkline_carrier_calls",
            "Carrier (provider hook) calls by outcome",
            ["provider", "operation", "outcome"],
            registry=self.registry,
        )
        self.carrier_seconds = Histogram(
            "trunkline_carrier_call_seconds",
            "Carrier call latency",
            ["provider", "operation"],
            registry=self.registry,
        )
        self.policy_decisions = Counter(
            "trunkline_policy_decisions",
            "Outbound policy decisions by reason ('allowed' if none)",
            ["reason"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "trunkline_rate_limit_refusals",
            "Requests refused by Trunkline's own rate limits",
            ["limit"],
            registry=self.registry,
        )
        self.permission_refreshes = Counter(
            "trunkline_carrier_permissions_refreshes",
            "Refreshes of a carrier's dialing permissions by outcome",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.permissions_stale = Gauge(
            "trunkline_carrier_permissions_stale",
            "1 while a carrier's dialing permissions could not be refreshed "
            "(the last good answer is used)",
            ["provider"],
            registry=self.registry,
        )
        self.permissions_fetched = Gauge(
            "trunkline_carrier_permissions_fetched_timestamp_seconds",
            "When a carrier's dialing permissions were last fetched (UNIX time)",
            ["provider"],
            registry=self.registry,
        )

        self._request_children: dict[tuple[str, str, str], Any] = {}
        self._latency_children: dict[str, Any] = {}
        self._policy_children: dict[str, Any] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request; the labelled children are kept (``labels()`` is not free)."""
        key = (method, route, str(status))
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(*key)
        child.inc()
        latency = self._latency_children.get(route)
        if latency is None:
            latency = self._latency_children[route] = self.request_seconds.labels(route)
        latency.observe(seconds)

    def observe_carrier(self, hook: str, provider: str, outcome: str, seconds: float) -> None:
        self.carrier_calls.labels(provider, hook, outcome).inc()
        self.carrier_seconds.labels(provider, hook).observe(seconds)

    def observe_policy(self, reasons: tuple[str, ...], count: int = 1) -> None:
        """Count ``count`` decisions with these reasons (a batch counts each kind once)."""
        for reason in reasons or ("allowed",):
            child = self._policy_children.get(reason)
            if child is None:
                child = self._policy_children[reason] = self.policy_decisions.labels(reason)
            child.inc(count)

    def observe_permissions(self, provider: str, outcome: str, entry: Any) -> None:
        """After each refresh of a provider's dialing permissions (``PermissionStore``)."""
        self.permission_refreshes.labels(provider, outcome).inc()
        self.permissions_stale.labels(provider).set(1 if entry.state in ("stale", "failing") else 0)
        if entry.fetched_at is not None:
            self.permissions_fetched.labels(provider).set(entry.fetched_at.timestamp())

    def observe_rate_limited(self, limit: str) -> None:
        self.rate_limited.labels(limit).inc()

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Pure ASGI (no per-request task or body streaming): requests by route and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.metrics.observe_request(
                scope["method"], path, status, time.perf_counter() - started
            )


def install(app: FastAPI, metrics: Metrics) -> None:
    app.add_middleware(MetricsMiddleware, metrics=metrics)
