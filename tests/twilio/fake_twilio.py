"""A small fake Twilio on 127.0.0.1: the endpoints the plugin calls, with Twilio's wire format.

It checks basic auth, keeps what it was asked in ``requests``, and answers like Twilio does
(form-encoded POSTs, JSON answers in snake_case, paging envelopes).
"""

from __future__ import annotations

import base64
import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.sid = account_sid
        self.token = auth_token
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.verified: set[str] = set()
        self.owned: set[str] = set()
        acct = "/2010-04-01/Accounts/{sid}"
        self.app = Starlette(
            routes=[
                Route(acct + "/OutgoingCallerIds.json", self.caller_ids, methods=["GET", "POST"]),
                Route(acct + "/AvailablePhoneNumbers.json", self.countries),
                Route(acct + "/AvailablePhoneNumbers/{cc}/{kind}.json", self.available),
                Route(acct + "/IncomingPhoneNumbers.json", self.buy, methods=["POST"]),
                Route(acct + "/Calls.json", self.call, methods=["POST"]),
                Route("/v2/RegulatoryCompliance/Regulations", self.regulations),
                Route("/v1/PhoneNumbers/Countries/{cc}", self.pricing),
            ]
        )
        self.port = free_port()
        self.server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeTwilio:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        thread = threading.Thread(target=self.server.run, daemon=True)
        thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            time.sleep(0.02)
        raise RuntimeError("fake Twilio did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.should_exit = True

    async def _seen(self, request: Request) -> dict[str, str] | JSONResponse:
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        form = dict(await request.form()) if request.method == "POST" else {}
        self.requests.append(
            (
                request.method,
                request.url.path,
                {**dict(request.query_params), **{k: str(v) for k, v in form.items()}},
            )
        )
        if auth != expected:
            return JSONResponse(
                {"code": 20003, "message": "Authenticate", "status": 401}, status_code=401
            )
        return {k: str(v) for k, v in form.items()}

    async def caller_ids(self, request: Request) -> JSONResponse:
        form = await self._seen(request)
        if isinstance(form, JSONResponse):
            return form
        if request.method == "GET":
            phone = request.query_params.get("PhoneNumber")
            rows = (
                [{"sid": "PN" + "0" * 32, "phone_number": phone, "friendly_name": phone}]
                if phone in self.verified
                else []
            )
            return JSONResponse(
                {
                    "outgoing_caller_ids": rows,
                    "page": 0,
                    "page_size": 50,
                    "next_page_uri": None,
                    "uri": request.url.path,
                }
            )
        return JSONResponse(
            {
                "account_sid": self.sid,
                "call_sid": "CA" + "1" * 32,
                "phone_number": form["PhoneNumber"],
                "validation_code": "012345",
                "friendly_name": form["PhoneNumber"],
            }
        )

    async def countries(self, request: Request) -> JSONResponse:
        if isinstance(seen := await self._seen(request), JSONResponse):
            return seen
        return JSONResponse(
            {
                "countries": [
                    {
                        "country_code": "US",
                        "country": "United States",
                        "beta": False,
                        "subresource_uris": {"local": "/l", "toll_free": "/t"},
                    },
                    {
                        "country_code": "GB",
                        "country": "United Kingdom",
                        "beta": False,
                        "subresource_uris": {"local": "/l", "mobile": "/m"},
                    },
                ],
                "uri": request.url.path,
            }
        )

    async def available(self, request: Request) -> JSONResponse:
        if isinstance(seen := await self._seen(request), JSONResponse):
            return seen
        kind = request.path_params["kind"]
        cc = request.path_params["cc"]
        numbers = {"US": ["+12125550123", "+12125550187"], "GB": ["+447400123456"]}.get(cc, [])
        return JSONResponse(
            {
                "available_phone_numbers": [
                    {
                        "phone_number": n,
                        "friendly_name": n,
                        "iso_country": cc,
                        "locality": "New York",
                        "region": "NY",
                        "capabilities": {"voice": True, "SMS": True, "MMS": False},
                    }
                    for n in numbers
                ],
                "uri": f"/{kind}",
            }
        )

    async def buy(self, request: Request) -> JSONResponse:
        form = await self._seen(request)
        if isinstance(form, JSONResponse):
            return form
        phone = form["PhoneNumber"]
        if phone in self.owned:
            return JSONResponse(
                {"code": 21422, "message": "not available", "status": 400}, status_code=400
            )
        self.owned.add(phone)
        return JSONResponse(
            {
                "sid": "PN" + "2" * 32,
                "phone_number": phone,
                "capabilities": {"voice": True, "sms": True},
            },
            status_code=201,
        )

    async def call(self, request: Request) -> JSONResponse:
        form = await self._seen(request)
        if isinstance(form, JSONResponse):
            return form
        return JSONResponse(
            {"sid": "CA" + "3" * 32, "status": "queued", "to": form["To"], "from": form["From"]},
            status_code=201,
        )

    async def regulations(self, request: Request) -> JSONResponse:
        if isinstance(seen := await self._seen(request), JSONResponse):
            return seen
        return JSONResponse(
            {
                "results": [
                    {
                        "sid": "RN" + "4" * 32,
                        "friendly_name": "GB local business",
                        "iso_country": request.query_params.get("IsoCountry"),
                        "number_type": "local",
                        "end_user_type": "business",
                        "url": "/r",
                        "requirements": {
                            "end_user": [
                                {
                                    "name": "Business",
                                    "type": "business",
                                    "requirement_name": "business_info",
                                    "fields": ["business_name", "website"],
                                }
                            ],
                            "supporting_document": [
                                [
                                    {
                                        "name": "Address proof",
                                        "type": "document",
                                        "requirement_name": "proof_of_address",
                                        "description": "Shows the address",
                                        "accepted_documents": [
                                            {"name": "Utility bill", "type": "utility_bill"}
                                        ],
                                    },
                                ]
                            ],
                        },
                    }
                ],
                "meta": {
                    "page": 0,
                    "page_size": 50,
                    "first_page_url": "",
                    "previous_page_url": None,
                    "url": "",
                    "next_page_url": None,
                    "key": "results",
                },
            }
        )

    async def pricing(self, request: Request) -> JSONResponse:
        if isinstance(seen := await self._seen(request), JSONResponse):
            return seen
        return JSONResponse(
            {
                "country": "United States",
                "iso_country": "US",
                "price_unit": "USD",
                "url": "/p",
                "phone_number_prices": [
                    {"number_type": "local", "base_price": "1.15", "current_price": "1.15"},
                    {"number_type": "toll free", "base_price": "2.15", "current_price": "2.15"},
                ],
            }
        )
