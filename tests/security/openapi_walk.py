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

    def nested_phone_fields(self, doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
        """``(array property, item schema, phone field)`` for arrays of phone-bearing items
        (a batch of preflights)."""
        found = []
        for name, prop in (self.body_schema or {}).get("properties", {}).items():
            item = resolve(doc, prop.get("items")) if prop.get("type") == "array" else None
            for field_name, field_prop in (item or {}).get("properties", {}).items():
                if is_phone(field_prop):
                    found.append((name, item or {}, field_name))
        return found

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


def request_schemas(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every component schema a request body reaches (through ``$ref``, items, ``anyOf``)."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in found:
                    found[name] = doc["components"]["schemas"][name]
                    walk(found[name])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for ops in doc["paths"].values():
        for op in ops.values():
            walk(op.get("requestBody", {}))
    return found


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
