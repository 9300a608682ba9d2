"""Where an object an operation created or listed can be found: the ``Location`` of a 201 answer
and the OpenAPI links from an answer to the operations on its objects."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response

NUMBER = "/settings/telephony/numbers/{number_id}"
CAMPAIGN = "/campaigns/{cid}"


class Location:
    """A dependency of the operations answering 201: sets the answer's ``Location``."""

    def __init__(self, request: Request, response: Response) -> None:
        self.request = request
        self.response = response

    def set(self, route: str, **params: str) -> None:
        """Point ``Location`` at the route named ``route`` (the function that serves the
        object)."""
        self.response.headers["Location"] = str(self.request.app.url_path_for(route, **params))


LocationDep = Annotated[Location, Depends()]


def _ref(path: str, method: str) -> str:
    """An ``operationRef`` to an operation of this document (a JSON pointer)."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def number_links(pointer: str) -> dict[str, Any]:
    """Links from an answer holding a number's id at ``pointer`` (e.g. ``/id``)."""
    value = f"$response.body#{pointer}"
    by_path = {"parameters": {"number_id": value}}
    by_body = {"requestBody": {"number_id": value}}
    return {
        "GetNumber": {"operationRef": _ref(NUMBER, "get"), **by_path},
        "BindNumber": {"operationRef": _ref(NUMBER, "patch"), **by_path},
        "DeleteNumber": {"operationRef": _ref(NUMBER, "delete"), **by_path},
        "VerifyNumber": {
            "operationRef": _ref("/settings/telephony/numbers/verify-cli", "post"),
            **by_body,
        },
        "CheckNumber": {"operationRef": _ref("/outbound/check", "post"), **by_body},
    }


def campaign_links(pointer: str) -> dict[str, Any]:
    """Links from an answer holding a campaign's id at ``pointer``."""
    by_path = {"parameters": {"cid": f"$response.body#{pointer}"}}
    return {
        "GetCampaign": {"operationRef": _ref(CAMPAIGN, "get"), **by_path},
        "SetCallerId": {"operationRef": _ref(f"{CAMPAIGN}/from_number", "patch"), **by_path},
        "TestCall": {"operationRef": _ref(f"{CAMPAIGN}/test-call", "post"), **by_path},
    }
