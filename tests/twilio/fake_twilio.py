"""A small fake Twilio on 127.0.0.1: the endpoints the Twilio plugin calls, in Twilio's wire format.

Reusable by any test::

    with FakeTwilio(SID, TOKEN) as fake:          # uvicorn in a thread, on a free port
        settings = {..., "base_url": fake.url}    # every Twilio host replaced by the fake
        ...
        fake.requests                             # [Seen(method, path, params, auth_ok)]
        fake.fail("/Calls.json", 503, times=2)    # the next two matching requests fail
        params = fake.complete_validation("+14155550100")   # the user typed the code
        sig = twilio_signature(TOKEN, url, params)          # X-Twilio-Signature, computed here

It checks HTTP basic auth (``AccountSid:AuthToken``) on every request, keeps what it was
asked, and answers like Twilio (form-encoded POSTs, snake_case JSON, paging envelopes, error
bodies ``{"code", "message", "status"}``). ``twilio_signature`` is written from Twilio's
published algorithm, independently of the SDK, so that tests prove compatibility rather than
agreement with themselves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_KINDS = {"Local": "local", "Mobile": "mobile", "TollFree": "toll_free", "National": "national"}
INVENTORY: dict[tuple[str, str], list[str]] = {
    ("US", "local"): ["+12125550123", "+12125550187", "+13125550140"],
    ("US", "toll_free"): ["+18005550199"],
    ("GB", "local"): ["+442071234567"],
    ("GB", "mobile"): ["+447400123456"],
}
PRICES = {
    "US": ("USD", {"local": "1.15", "toll free": "2.15"}),
    "GB": ("GBP", {"local": "1.00", "mobile": "4.00"}),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def twilio_signature(token: str, url: str, params: Mapping[str, str]) -> str:
    """``X-Twilio-Signature``: base64(HMAC-SHA1(token, url + each key+value, keys sorted))."""
    payload = url + "".join(key + params[key] for key in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    auth_ok: bool


@dataclass
class _Fault:
    suffix: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.sid = account_sid
        self.token = auth_token
        self.requests: list[Seen] = []
        self.verified: dict[str, str] = {}  # phone -> caller id SID
        self.friendly_names: dict[str, str] = {}  # caller id SID -> its FriendlyName
        self.validations: dict[str, dict[str, str]] = {}  # phone -> the validation request
        self.owned: dict[str, str] = {}  # phone -> PN SID
        self.calls: dict[str, dict[str, str]] = {}  # CA SID -> the call's form
        self.pricing_available = True
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)
        acct = "/2010-04-01/Accounts/{sid}"
        self.app = Starlette(
            routes=[
                Route(acct + "/OutgoingCallerIds.json", self.caller_ids, methods=["GET", "POST"]),
                Route(acct + "/OutgoingCallerIds/{cid}.json", self.forget, methods=["DELETE"]),
                Route(acct + "/AvailablePhoneNumbers.json", self.countries),
                Route(acct + "/AvailablePhoneNumbers/{cc}/{kind}.json", self.available),
                Route(acct + "/IncomingPhoneNumbers.json", self.buy, methods=["POST"]),
                Route(acct + "/IncomingPhoneNumbers/{pid}.json", self.release, methods=["DELETE"]),
                Route(acct + "/Calls.json", self.call, methods=["POST"]),
                Route("/v2/RegulatoryCompliance/Regulations", self.regulations),
                Route("/v1/PhoneNumbers/Countries/{cc}", self.pricing),
            ]
        )
        self.port = free_port()
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- control ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeTwilio:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True)
        self._thread.start()
        for _ in range(250):
            if self.server.started:
                return self
            time.sleep(0.02)
        raise RuntimeError("fake Twilio did not start")

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None and self._thread is not None
        self.server.should_exit = True
        self._thread.join(timeout=5)

    def fail(
        self,
        path_suffix: str,
        status: int,
        *,
        code: int | None = None,
        message: str = "fake failure",
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests whose path ends with ``path_suffix`` answer an error."""
        body = {"code": code, "message": message, "status": status, "more_info": ""}
        self._faults.append(_Fault(path_suffix, status, body, headers or {}, times))

    def seen(self, method: str, path_suffix: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    def complete_validation(self, phone: str, *, success: bool = True) -> dict[str, str]:
        """The user answered Twilio's validation call: the form Twilio posts to StatusCallback."""
        started = self.validations[phone]
        params = {
            "AccountSid": self.sid,
            "CallSid": started["call_sid"],
            "Called": phone,
            "To": phone,
            "VerificationStatus": "success" if success else "failed",
        }
        if success:
            sid = "PN" + f"{next(self._ids):032x}"
            self.verified[phone] = sid
            self.friendly_names[sid] = started["friendly_name"]
            params["OutgoingCallerIdSid"] = sid
        return params

    def call_status(self, call_sid: str, status: str) -> dict[str, str]:
        """The form Twilio posts to a call's StatusCallback when it reaches ``status``."""
        call = self.calls[call_sid]
        return {
            "AccountSid": self.sid,
            "CallSid": call_sid,
            "CallStatus": status,
            "From": call["From"],
            "To": call["To"],
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }

    # -- the API ----------------------------------------------------------------------------

    def _sid(self, prefix: str) -> str:
        return prefix + f"{next(self._ids):032x}"

    async def _seen(self, request: Request) -> dict[str, str] | JSONResponse:
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        form = (
            {k: str(v) for k, v in (await request.form()).items()}
            if request.method == "POST"
            else {}
        )
        params = {**dict(request.query_params), **form}
        self.requests.append(Seen(request.method, request.url.path, params, auth == expected))
        if auth != expected:
            return JSONResponse(
                {"code": 20003, "message": "Authenticate", "status": 401}, status_code=401
            )
        for fault in self._faults:
            if fault.times > 0 and request.url.path.endswith(fault.suffix):
                fault.times -= 1
                return JSONResponse(fault.body, status_code=fault.status, headers=fault.headers)
        return form

    async def caller_ids(self, request: Request) -> JSONResponse:
        form = await self._seen(request)
        if isinstance(form, JSONResponse):
            return form
        if request.method == "GET":
            phone = request.query_params.get("PhoneNumber")
            rows = [
                {
                    "sid": sid,
                    "phone_number": p,
                    "friendly_name": self.friendly_names.get(sid, p),
                    "account_sid": self.sid,
                }
                for p, sid in self.verified.items()
                if phone in (None, p)
            ]
            return JSONResponse(
                {
                    "outgoing_caller_ids": rows,
                    "page": 0,
                    "page_size": int(request.query_params.get("PageSize", 50)),
                    "next_page_uri": None,
                    "uri": request.url.path,
                }
            )
        phone = form["PhoneNumber"]
        if phone in self.verified:
            return JSONResponse(
                {"code": 21450, "message": "Phone number is already verified.", "status": 400},
                status_code=400,
            )
        started = {
            "account_sid": self.sid,
            "call_sid": self._sid("CA"),
            "phone_number": phone,
            "friendly_name": form.get("FriendlyName", phone),
            "validation_code": f"{next(self._ids) % 1000000:06d}",
            "status_callback": form.get("StatusCallback", ""),
        }
        self.validations[phone] = started
        return JSONResponse({k: v for k, v in started.items() if k != "status_callback"})

    async def forget(self, request: Request) -> Response:
        """``DELETE .../OutgoingCallerIds/{sid}.json``: 204, or Twilio's 404 (code 20404)."""
        if isinstance(seen := await self._seen(request), JSONResponse):
            return seen
        sid = request.path_params["cid"]
        phone = next((p for p, s in self.verified.items() if s == sid), None)
        if phone is None:
            return _not_found()
        del self.verified[phone]
        return Response(status_code=204)

    async def release(self, request: Request) -> Response:
        """``DELETE .../IncomingPhoneNumbers/{sid}.json``: 204, or Twilio's 404 (code 20404)."""
        if isinstance(seen := await self._seen(request), JSONResponse):
            return seen
        sid = request.path_params["pid"]
        phone = next((p for p, s in self.owned.items() if s == sid), None)
        if phone is None:
            return _not_found()
        del self.owned[phone]
        return Response(status_code=204)

    async def countries(self, request: Request) -> JSONResponse:
        if isinstance(seen := await self._seen(request), JSONResponse):
            return seen
        names = {"US": "United States", "GB": "United Kingdom"}
        countries = []
        for cc, name in names.items():
            kinds = {kind for (c, kind) in INVENTORY if c == cc}
            uris = {
                kind: f"/2010-04-01/Accounts/{self.sid}/AvailablePhoneNumbers/{cc}/{path}.json"
                for path, kind in _KINDS.items()
                if kind in kinds
            }
            countries.append(
                {"country_code": cc, "country": name, "beta": False, "subresource_uris": uris}
            )
        return JSONResponse({"countries": countries, "uri": request.url.path})

    async def available(self, request: Request) -> JSONResponse:
        if isinstance(seen := await self._seen(request), JSONResponse):
            return seen
        cc = request.path_params["cc"]
        kind = _KINDS.get(request.path_params["kind"], "")
        q = request.query_params
        numbers = [
            n
            for n in INVENTORY.get((cc, kind), [])
            if n not in self.owned
            and q.get("Contains", "") in n
            and (not q.get("AreaCode") or n.startswith("+1" + q["AreaCode"]))
        ]
        size = int(q.get("PageSize", 50))
        return JSONResponse(
            {
                "available_phone_numbers": [
                    {
                        "phone_number": n,
                        "friendly_name": n,
                        "iso_country": cc,
                        "locality": "New York" if cc == "US" else "London",
                        "region": "NY" if cc == "US" else "",
                        "capabilities": {"voice": True, "SMS": kind != "toll_free", "MMS": False},
                    }
                    for n in numbers[:size]
                ],
                "uri": request.url.path,
            }
        )

    async def buy(self, request: Request) -> JSONResponse:
        form = await self._seen(request)
        if isinstance(form, JSONResponse):
            return form
        phone = form["PhoneNumber"]
        if phone in self.owned or not any(phone in v for v in INVENTORY.values()):
            return JSONResponse(
                {"code": 21422, "message": "PhoneNumber is not available", "status": 400},
                status_code=400,
            )
        self.owned[phone] = self._sid("PN")
        return JSONResponse(
            {
                "sid": self.owned[phone],
                "account_sid": self.sid,
                "phone_number": phone,
                "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
            },
            status_code=201,
        )

    async def call(self, request: Request) -> JSONResponse:
        form = await self._seen(request)
        if isinstance(form, JSONResponse):
            return form
        if form.get("From") not in self.verified and form.get("From") not in self.owned:
            return JSONResponse(
                {"code": 21210, "message": "'From' phone number not verified", "status": 400},
                status_code=400,
            )
        sid = self._sid("CA")
        self.calls[sid] = form
        return JSONResponse(
            {"sid": sid, "status": "queued", "to": form["To"], "from": form["From"]},
            status_code=201,
        )

    async def regulations(self, request: Request) -> JSONResponse:
        if isinstance(seen := await self._seen(request), JSONResponse):
            return seen
        q = request.query_params
        results = [
            {
                "sid": "RN" + "4" * 32,
                "friendly_name": f"{q.get('IsoCountry')}: Local - Business",
                "iso_country": q.get("IsoCountry"),
                "number_type": "local",
                "end_user_type": "business",
                "url": "https://numbers.twilio.com/v2/RegulatoryCompliance/Regulations/RN",
                "requirements": {
                    "end_user": [
                        {
                            "name": "Business",
                            "type": "business",
                            "requirement_name": "business_info",
                            "fields": ["business_name", "website"],
                            "detailed_fields": [
                                {"machine_name": "business_name", "friendly_name": "Name"},
                                {"machine_name": "website", "friendly_name": "Website"},
                            ],
                        }
                    ],
                    "supporting_document": [
                        [
                            {
                                "name": "Address",
                                "type": "document",
                                "requirement_name": "proof_of_address",
                                "description": "Shows the address",
                                "accepted_documents": [
                                    {"name": "Address Validation", "type": "address"}
                                ],
                            },
                        ],
                        [
                            {
                                "name": "Business registration",
                                "type": "document",
                                "requirement_name": "business_registration",
                                "accepted_documents": [
                                    {"name": "Certificate of incorporation", "type": "document"}
                                ],
                            },
                            {
                                "name": "Trade license",
                                "type": "document",
                                "requirement_name": "trade_license",
                            },
                        ],
                    ],
                },
            }
        ]
        if q.get("NumberType") not in (None, "local") or q.get("EndUserType") == "individual":
            results = []
        return JSONResponse(
            {
                "results": results,
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
        cc = request.path_params["cc"]
        if not self.pricing_available or cc not in PRICES:
            return JSONResponse(
                {"code": 20404, "message": "not found", "status": 404}, status_code=404
            )
        currency, prices = PRICES[cc]
        return JSONResponse(
            {
                "country": cc,
                "iso_country": cc,
                "price_unit": currency,
                "url": request.url.path,
                "phone_number_prices": [
                    {"number_type": kind, "base_price": price, "current_price": price}
                    for kind, price in prices.items()
                ],
            }
        )


def _not_found() -> JSONResponse:
    return JSONResponse(
        {"code": 20404, "message": "The requested resource was not found", "status": 404},
        status_code=404,
    )
