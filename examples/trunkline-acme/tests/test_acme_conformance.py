"""ACME passes the Trunkline conformance kit, with ACME's API mocked by respx."""

from __future__ import annotations

import json
import time
from typing import Any

import respx
from trunkline_acme.plugin import sign

from trunkline import WebhookRequest
from trunkline.testing import ProviderConformance

BASE = "https://acme.test/v1"
SECRET = "whsec-test"
WRONG = {"error": {"code": "wrong_code", "message": "The code does not match."}}


class TestAcmeConformance(ProviderConformance):
    plugin_name = "acme"
    provider = "acme"
    settings = {
        "api_key": {"env": "ACME_API_KEY"},
        "webhook_secret": {"env": "ACME_WEBHOOK_SECRET"},
        "base_url": BASE,
    }
    env = {"ACME_API_KEY": "test-key", "ACME_WEBHOOK_SECRET": SECRET}
    country = "GB"
    code = "123456"

    def mock_carrier(self, scenario: str) -> Any:
        # assert_all_called=False: the kit also uses "server_error" as a safety net, to prove
        # that an unconfigured plugin sends nothing.
        router = respx.mock(base_url=BASE, assert_all_called=False)
        if scenario == "verify_start":
            router.post("/caller-ids").respond(201, json={"id": "cid_1", "status": "code_sent"})
        elif scenario == "verify_code_ok":
            router.post("/caller-ids/cid_1/verify", json={"code": "123456"}).respond(
                200, json={"id": "cid_1", "status": "verified"}
            )
        elif scenario == "verify_code_wrong":
            router.post("/caller-ids/cid_1/verify").respond(422, json=WRONG)
        elif scenario == "coverage":
            router.get("/coverage", params={"country": "GB"}).respond(
                200,
                json={
                    "coverage": [{"country": "GB", "number_type": "local", "features": ["voice"]}]
                },
            )
        elif scenario == "regulations":
            router.get("/regulations", params={"country": "GB"}).respond(
                200,
                json={
                    "requirements": [
                        {
                            "number_type": "local",
                            "end_user_type": "any",
                            "name": "Address in the area",
                            "kind": "address",
                        }
                    ]
                },
            )
        elif scenario == "server_error":
            router.route().respond(503, json={"error": {"code": "down", "message": "maintenance"}})
        elif scenario == "auth_error":
            router.route().respond(
                401, json={"error": {"code": "bad_key", "message": "unknown key"}}
            )
        elif scenario == "rate_limited":
            router.route().respond(
                429, headers={"Retry-After": "7"}, json={"error": {"code": "slow"}}
            )
        return router

    def _callback(
        self, secret: str, body: bytes | None = None, content_type: str = "application/json"
    ) -> WebhookRequest:
        if body is None:
            body = json.dumps(
                {"type": "caller_id.verified", "data": {"id": "cid_1", "phone_number": self.number}}
            ).encode()
        stamp = str(int(time.time()))
        return WebhookRequest(
            url="https://trunkline.test/webhooks/acme",
            headers={
                "content-type": content_type,
                "acme-signature": f"t={stamp},v1={sign(secret, stamp, body)}",
            },
            body=body,
        )

    def signed_webhook(self) -> WebhookRequest:
        return self._callback(SECRET)

    def forged_webhook(self) -> WebhookRequest:
        return self._callback("not-the-secret")

    def sign_webhook(self, body: bytes, content_type: str) -> WebhookRequest:
        # optional: with it the kit also checks signed bodies that are not ACME's callbacks
        return self._callback(SECRET, body, content_type)
