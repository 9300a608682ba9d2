"""A route class for the dialer's hot path: documented like any route, handled lean.

FastAPI's generic request handler costs more than the whole preflight once the preflight
reads from memory (``docs/performance.md`` has the profile): it solves dependencies through a
generic graph, parses the body with ``json.loads`` and then validates the Python objects,
validates the endpoint's return value against the response model again and serialises it
through ``jsonable_encoder``. A :class:`HotRoute` endpoint has the fixed signature
``(body: Model, request: Request, principal: Principal)``; its handler

* authenticates first (as FastAPI does: a sub-dependency raises before body errors are
  reported), with the same :data:`api.deps.get_principal`;
* validates the raw JSON bytes with pydantic-core in one pass (``model_validate_json``),
  answering the same 422 ``validation_error`` problem as FastAPI (through
  ``RequestValidationError``);
* serialises the returned model with its own serializer (an endpoint may also return a
  ``Response``, which is sent as it is).

A request whose ``Content-Type`` is not JSON goes through FastAPI's own handler, so every
unusual case keeps FastAPI's behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, get_type_hints

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

from .deps import get_principal


class HotRoute(APIRoute):
    """See the module: an ``APIRoute`` whose handler skips FastAPI's generic machinery."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        generic = super().get_route_handler()
        model: type[BaseModel] = get_type_hints(self.endpoint)["body"]
        answer = TypeAdapter(self.response_model)
        endpoint = self.endpoint
        status = self.status_code or 200

        async def handle(request: Request) -> Response:
            content_type = request.headers.get("content-type", "")
            if not content_type.startswith("application/json"):
                return await generic(request)
            principal = await get_principal(request)
            raw = await request.body()
            try:
                body = model.model_validate_json(raw)
            except ValidationError as exc:
                errors = exc.errors(include_url=False)
                for err in errors:
                    err["loc"] = ("body", *err["loc"])
                raise RequestValidationError(errors, body=raw) from None
            result = await endpoint(body=body, request=request, principal=principal)
            if isinstance(result, Response):
                return result
            return Response(answer.dump_json(result), status, media_type="application/json")

        return handle
