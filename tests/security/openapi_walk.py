"""Walking the app's own OpenAPI document: every operation, its phone-typed inputs, and a
minimal valid request for it, so that each hole class of issue 13 is tried on every route
(a route added later is tried too, without anyone remembering to add it here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: Names that hold a phone number wherever they appear; each must carry ``x-phone``.
PHONE_NAME = re.compile(r"^(e164|from|to|phone|caller_id|contains|area_code)$|_e164$")


@dataclass
class Operation:
    method: str
    path: str
    op: dict[str, Any]
    body_schema: dict[str, Any] | None
    query: list[dict[str, Any]] = field(default_factory=list)
    path_params: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def body_phone_fields(self) -> list[str]:
        props = (self.body_schema or {}).get("properties", {})
        return [name for name, prop in props.items() if is_phone(prop)]

    @property
    def query_phone_params(self) -> list[str]:
        return [p["name"] for p in self.query if is_phone(p.get("schema", {}))]


def is_phone(schema: dict[str, Any]) -> bool:
    return bool(schema.get("x-phone"))


def resolve(doc: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any] | None:
    if schema is None:
        return None
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        found: dict[str, Any] = doc["components"]["schemas"][name]
        return found
    return schema


def operations(doc: dict[str, Any]) -> Iterator[Operation]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            body = resolve(doc, content.get("application/json", {}).get("schema"))
            params = op.get("parameters", [])
            yield Operation(
                method=method,
                path=path,
                op=op,
                body_schema=body,
                query=[p for p in params if p["in"] == "query"],
                path_params=[p["name"] for p in params if p["in"] == "path"],
            )


def _types(prop: dict[str, Any]) -> set[str]:
    if "anyOf" in prop:
        return {t.get("type", "") for t in prop["anyOf"]}
    return {prop.get("type", "")}


def sample(name: str, prop: dict[str, Any], known: dict[str, Any]) -> Any:
    """A valid value for a non-phone field: a known one, an enum member, or one of its type."""
    if name in known:
        return known[name]
    if "enum" in prop:
        return prop["enum"][0]
    if prop.get("examples"):
        return prop["examples"][0]
    types = _types(prop)
    if "boolean" in types:
        return False
    if "integer" in types or "number" in types:
        return prop.get("minimum", 1)
    if "array" in types:
        return []
    return "x"


def body_for(op: Operation, known: dict[str, Any], phone: str) -> dict[str, Any] | None:
    """Every required field, and every phone field (valid: ``phone``)."""
    schema = op.body_schema
    if schema is None:
        return None
    required = set(schema.get("required", []))
    body: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if is_phone(prop):
            body[name] = phone
        elif name in required:
            body[name] = sample(name, prop, known)
    return body


def query_for(op: Operation, known: dict[str, Any]) -> dict[str, Any]:
    return {
        p["name"]: sample(p["name"], p.get("schema", {}), known)
        for p in op.query
        if p.get("required")
    }


def url_for(op: Operation, ids: dict[str, str]) -> str:
    url = op.path
    for name in op.path_params:
        url = url.replace("{" + name + "}", ids[name])
    return url
