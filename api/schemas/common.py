"""What every answer and body shares: the request base, pages, problem documents and their
``responses=``, phone fields."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class In(BaseModel):
    """A request body: unknown fields refused, no coercion between types (``api.validation``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def iso_date(value: Any) -> date | None:
    """A ``YYYY-MM-DD`` string as a date (parsed here: strict validation takes no string for a
    date); anything else is refused."""
    if value is not None and not (
        isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
    ):
        raise ValueError("must be a date, YYYY-MM-DD")
    try:
        return date.fromisoformat(value) if value is not None else None
    except ValueError:
        raise ValueError("must be a date, YYYY-MM-DD") from None


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(**constraints: Any) -> Any:
    """A PATCH field that may be left out but not set to null (its column has no "none")."""
    return Field(default=None, json_schema_extra=_no_default, **constraints)


class RowOut(BaseModel):
    """An answer read from a table row: each field not given is the row's attribute of the
    same name, an id (UUID) as its string."""

    @classmethod
    def from_row(cls, row: Any, **given: Any) -> Self:
        values = {
            name: _plain(getattr(row, name)) for name in cls.model_fields if name not in given
        }
        return cls(**values, **given)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    model_config = ConfigDict(extra="allow")


#: Marks a phone-number field or query parameter in the OpenAPI document (``x-phone``); every
#: one is read by ``core.phone.parse_e164`` (or ``parse_digit_filter`` for search fragments).
PHONE_SCHEMA: dict[str, Any] = {"x-phone": True}
PHONE_RULE = (
    "E.164: `+` and 7 to 15 ASCII digits, surrounding whitespace ignored; anything else, or "
    "more than 32 characters, is 422 `invalid_phone_number`."
)


def phone_field(default: Any = ..., *, alias: str | None = None) -> Any:
    """A phone-number field of a request body. No ``max_length`` here: the one parse refuses
    a too-long number as ``invalid_phone_number``, like any other malformed number."""
    return Field(
        default,
        alias=alias,
        description=PHONE_RULE,
        examples=["+14155550100"],
        json_schema_extra=PHONE_SCHEMA,
    )


def problems(*codes: int, body: bool = False) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for problem documents, declared under the media type they are sent with
    (``application/problem+json``) as well as ``application/json``.

    Each operation lists the statuses it can answer; ``body=True`` adds what any JSON body
    can answer: 400 ``invalid_json``, 415 ``unsupported_media_type``, 422 ``validation_error``.
    """
    ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
    statuses = sorted({*codes, *((400, 415, 422) if body else ())})
    return {
        code: {"model": Problem, "content": {"application/problem+json": ref}} for code in statuses
    }


def drop_default_422(document: dict[str, Any]) -> dict[str, Any]:
    """Remove FastAPI's automatic 422 (its ``HTTPValidationError``, a shape this API never
    sends) from an OpenAPI document: an operation that can answer 422 declares it with
    :func:`problems`, as the problem document it is."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            if "HTTPValidationError" in str(answer.get("content", {})):
                del operation["responses"]["422"]
    schemas = document.get("components", {}).get("schemas", {})
    if "HTTPValidationError" not in str(document.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def created(
    *codes: int, body: bool = False, links: dict[str, Any] | None = None
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of an operation that answers 201 with the new object's ``Location``
    (and ``links`` to the operations on it)."""
    location = {
        "description": "The new object's URL.",
        "schema": {"type": "string", "format": "uri-reference"},
    }
    answer: dict[str, Any] = {"headers": {"Location": location}}
    if links:
        answer["links"] = links
    return {201: answer, **problems(*codes, body=body)}


def listed(*codes: int, links: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a list whose answer links to the operations on its first item."""
    return {200: {"links": links}, **problems(*codes)}
