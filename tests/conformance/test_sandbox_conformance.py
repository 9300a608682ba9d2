"""The bundled sandbox passes the conformance kit, as any third-party plugin must."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

from core import VerificationResult, WebhookRequest
from core.conformance import ProviderConformance

SECRET = "conformance-webhook-secret"
#: The sandbox simulates carrier faults per operation with ``fail_operations``.
FAULTS = {"server_error": "unavailable", "auth_error": "auth", "rate_limited": "rate_limited"}


class TestSandboxConformance(ProviderConformance):
    plugin_name = "sandbox"
    provider = "sandbox"
    settings = {"verification_style": "sms", "webhook_secret": SECRET}
    number = "+14155550101"
    country = "GB"

    @contextlib.contextmanager
    def mock_carrier(self, scenario: str) -> Iterator[None]:
        fault = FAULTS.get(scenario)
        if fault is None:
            yield
            return
        before = self.plugin.settings.fail_operations
        self.plugin.settings.fail_operations = {self.error_operation: fault}
        try:
            yield
        finally:
            self.plugin.settings.fail_operations = before

    def valid_code(self, started: VerificationResult) -> str:
        assert started.display_code is not None
        return started.display_code  # the sandbox shows the code its simulated SMS carried

    def invalid_code(self, started: VerificationResult) -> str:
        return "111111" if self.valid_code(started) == "000000" else "000000"

    def _callback(
        self, secret: str, body: bytes | None = None, content_type: str = ""
    ) -> WebhookRequest:
        if body is None:
            body = json.dumps(
                {
                    "kind": "verification_succeeded",
                    "phone_e164": self.number,
                    "provider_ref": "SBV-1",
                }
            ).encode()
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return WebhookRequest(
            url="http://127.0.0.1:8000/webhooks/sandbox",
            headers={
                "content-type": content_type or "application/json",
                "x-sandbox-signature": signature,
            },
            body=body,
        )

    def signed_webhook(self) -> WebhookRequest:
        return self._callback(SECRET)

    def forged_webhook(self) -> WebhookRequest:
        return self._callback("not-the-secret")

    def sign_webhook(self, body: bytes, content_type: str) -> WebhookRequest:
        return self._callback(SECRET, body, content_type)


class TestSandboxCallStyleConformance(TestSandboxConformance):
    """Call style: the carrier confirms by itself, so there is no code to submit."""

    settings: dict[str, Any] = {
        "verification_style": "call",
        "webhook_secret": SECRET,
        "callback_delay_seconds": 0,
    }
    code = None
    error_operation = "search_numbers"

    def valid_code(self, started: VerificationResult) -> None:
        # The simulated call happens on the host's loop; let it run before asking again.
        self.trunkline_kit.run(_settle())
        return None


async def _settle() -> None:
    import asyncio

    for _ in range(5):
        await asyncio.sleep(0)
