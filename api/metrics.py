"""Prometheus metrics, one registry per app (so several apps can live in one process)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)


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

    def observe_carrier(self, hook: str, provider: str, outcome: str, seconds: float) -> None:
        self.carrier_calls.labels(provider, hook, outcome).inc()
        self.carrier_seconds.labels(provider, hook).observe(seconds)

    def observe_policy(self, reasons: tuple[str, ...]) -> None:
        if not reasons:
            self.policy_decisions.labels("allowed").inc()
        for reason in reasons:
            self.policy_decisions.labels(reason).inc()

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI, metrics: Metrics) -> None:
    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.requests.labels(request.method, path, str(response.status_code)).inc()
        metrics.request_seconds.labels(path).observe(time.perf_counter() - started)
        return response
