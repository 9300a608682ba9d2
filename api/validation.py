"""The request-validation layer: the types every input is declared with, and the answers for
bodies that cannot be read.

Contracts (docs/api.md, "Input"):

* types are strict: a boolean is ``true`` or ``false`` (never ``"yes"``, ``1`` or ``0``), a
  string is a JSON string;
* free text (:data:`Text`) refuses control characters (C0 with NUL, DEL, C1) and lone UTF-16
  surrogates, which no database column should hold (PostgreSQL refuses NUL outright);
* a name (:data:`Name`) is trimmed and must not be blank;
* an opaque reference (:data:`Reference`) is trimmed, and blank means none (``null``);
* a query-string boolean (:data:`QueryBool`) is ``true`` or ``false``;
* a body that is not JSON answers ``400 invalid_json``, one sent with another content type
  ``415 unsupported_media_type`` (:func:`body_problem`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from fastapi import Query
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

#: Characters no text input may hold: C0 controls (NUL included), DEL, C1 controls, surrogates.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same rule as the OpenAPI document states it (surrogates cannot be written in a pattern).
TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"


def refuse_control_characters(value: str) -> str:
    """``value`` unchanged, or a validation error when it holds a control character."""
    found = CONTROL.search(value)
    if found is not None:
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters (found U+{code} at position {position})",
            {"code": f"{ord(found.group()):04X}", "position": found.start()},
        )
    return value


class _NoControlCharacters:
    """Annotation: validates with :func:`refuse_control_characters`, documents the pattern."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            refuse_control_characters, handler(source)
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", TEXT_PATTERN)
        return json_schema


def _not_blank(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise PydanticCustomError("blank", "must not be blank")
    return stripped


def _blank_is_none(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _strict_query_bool(value: Any) -> Any:
    if isinstance(value, str):
        if value == "true":
            return True
        if value == "false":
            return False
        raise PydanticCustomError("bool_parsing", "must be true or false")
    return value


#: Free text: no control characters.
Text = Annotated[str, _NoControlCharacters()]
#: A name: free text, surrounding whitespace removed, not blank.
Name = Annotated[str, _NoControlCharacters(), AfterValidator(_not_blank)]
#: An opaque reference to another system's object: free text, trimmed, blank is ``None``.
Reference = Annotated[Text | None, AfterValidator(_blank_is_none)]
#: A boolean in the query string: exactly ``true`` or ``false``.
QueryBool = Annotated[bool | None, BeforeValidator(_strict_query_bool), Query()]

M = TypeVar("M")
#: A model whose fields are query-string parameters (a list's filters):
#: ``filters: QueryModel[NumberQuery]``; the document lists each field as a parameter.
QueryModel = Annotated[M, Query()]


def _position(document: str | bytes, pos: int) -> str:
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}, column {column}"


def is_json(content_type: str | None) -> bool:
    """``application/json`` or ``application/<anything>+json``, as FastAPI reads them."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def body_problem(
    exc: RequestValidationError, content_type: str | None
) -> tuple[int, str, str, str] | None:
    """For a body that could not be read as JSON: ``(status, code, title, detail)``.

    None when the body was JSON (its fields are then checked one by one).
    """
    if isinstance(exc.body, bytes | bytearray) and not is_json(content_type):
        # FastAPI hands the raw bytes on when the content type is not JSON
        return (
            415,
            "unsupported_media_type",
            "Unsupported media type",
            "the body must be JSON sent with 'Content-Type: application/json'",
        )
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "malformed")
            loc = error.get("loc", ())
            where = ""
            if len(loc) == 2 and isinstance(loc[1], int) and isinstance(exc.body, str | bytes):
                where = f" ({_position(exc.body, loc[1])})"
            detail = f"the body is not valid JSON: {reason}{where}"
            return 400, "invalid_json", "Body is not JSON", detail
    return None


def undecodable_body(exc: BaseException) -> bool:
    """True for the error FastAPI raises when a JSON body is not valid UTF-8."""
    return isinstance(exc.__cause__, UnicodeDecodeError)
