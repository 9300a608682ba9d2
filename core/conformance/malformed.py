"""The signed-but-malformed webhook bodies the kit sends to ``parse_webhook``: bodies no carrier
sends, some generic (not JSON, not an object, the wrong types under common keys, too long a
number), some derived from the plugin's own ``signed_webhook()`` body (each of its fields
removed or given another type, its strings made enormous, a truncated copy).

Every body stays within what the core lets reach a plugin (``POST /webhooks/{provider}``
refuses a body over 256 KiB, or one whose brackets nest deeper than 32 levels, before any
plugin reads it), so a plugin is never asked about a body the core would not pass it.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
#: How deep the kit's deepest body nests: under the core's limit (32), which refuses deeper
#: bodies before a plugin sees them.
DEPTH = 30
#: The size of the kit's enormous bodies, under the core's 256 KiB limit.
HUGE = 200_000
#: At most this many fields of ``signed_webhook()``'s body are changed one by one.
MAX_FIELDS = 40

#: Marks a member to remove (see :func:`_changed`).
_REMOVE = object()
#: What each field of the plugin's own body is changed to, one change per body.
_WRONG_TYPES: tuple[tuple[str, Any], ...] = (
    ("null", None),
    ("a number", 7),
    ("a string", "text"),
    ("an array", []),
    ("an object", {}),
)

#: Bodies of JSON with keys carriers commonly use, holding the wrong types.
_WRONG_SHAPES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("data null", {"data": None}),
    ("data an array", {"data": []}),
    ("data a string", {"data": "text"}),
    ("data.payload a string", {"data": {"event_type": "call.hangup", "payload": "text"}}),
    ("data.payload null", {"data": {"event_type": "call.hangup", "payload": None}}),
    ("data.event_type a number", {"data": {"event_type": 7, "payload": {}}}),
    ("kind and type numbers", {"kind": 7, "type": 7, "data": {}}),
    ("kind an object", {"kind": {"kind": "call_status"}, "phone_e164": ["+14155550100"]}),
)


class MalformedBody(NamedTuple):
    """One body the kit signs and sends: what it is, its bytes, its content type."""

    label: str
    body: bytes
    content_type: str

    def describe(self) -> str:
        """The body, named for a failure message: its label, its first bytes, its type."""
        head = self.body[:48]
        shown = repr(head) + (f"... ({len(self.body)} bytes)" if len(self.body) > len(head) else "")
        return f"a signed body, {self.label}: {shown} ({self.content_type})"


def malformed_bodies(sample: bytes, content_type: str) -> list[MalformedBody]:
    """The malformed bodies to sign, given ``signed_webhook()``'s body and content type.

    Generic JSON bodies are sent as ``application/json`` and, when the carrier's callbacks are
    of another type, as that type too; form bodies as ``application/x-www-form-urlencoded``;
    the derived ones as the carrier's own type.
    """
    found: list[MalformedBody] = []
    json_types = list(dict.fromkeys([JSON, content_type]))

    def add(label: str, body: bytes, types: list[str]) -> None:
        found.extend(MalformedBody(label, body, t) for t in types)

    add("empty", b"", json_types)
    add("not UTF-8", b"\xff\xfe\xfa\x00{", json_types)
    add("not JSON", b"this is not json", [JSON])
    for label, text in (
        ("JSON null", "null"),
        ("an empty JSON array", "[]"),
        ("an empty JSON object", "{}"),
        ("a JSON string", '"text"'),
        ("a JSON number", "12345"),
        ("a JSON number too long for an int", "1" * 5_000),
    ):
        add(label, text.encode(), json_types)
    for label, value in _WRONG_SHAPES:
        add(f"with {label}", json.dumps(value).encode(), json_types)
    add("nested 30 deep (objects)", _nested_objects(DEPTH), json_types)
    add("nested 30 deep (arrays)", b"[" * DEPTH + b"]" * DEPTH, json_types)
    add("with an enormous string", json.dumps({"data": "x" * HUGE}).encode(), json_types)
    add("of form fields nobody expects", b"unexpected=1&Other%20Key=%FF%FE&=empty&bare", [FORM])
    add("of an enormous form field", b"data=" + b"x" * HUGE, [FORM])

    own = [content_type]
    if len(sample) > 1:
        add("cut in half (signed_webhook()'s body)", sample[: len(sample) // 2], own)
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        return found
    add("in UTF-16 (signed_webhook()'s body)", text.encode("utf-16"), own)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict | list):
        found.extend(_json_variants(parsed, content_type))
    elif "=" in text:
        found.extend(_form_variants(parse_qsl(text, keep_blank_values=True), content_type))
    return found


def _nested_objects(depth: int) -> bytes:
    return b'{"data": ' * depth + b"1" + b"}" * depth


def _json_variants(root: Any, content_type: str) -> list[MalformedBody]:
    """``root`` with each field removed or given each wrong type, one change per body, and
    with every string made enormous."""
    found: list[MalformedBody] = []
    paths = list(_paths(root, ()))[:MAX_FIELDS]
    for path in paths:
        name = ".".join(str(p) for p in path)
        if isinstance(path[-1], str):
            body = json.dumps(_changed(root, path, _REMOVE)).encode()
            found.append(MalformedBody(f"without {name}", body, content_type))
        for label, value in _WRONG_TYPES:
            body = json.dumps(_changed(root, path, value)).encode()
            found.append(MalformedBody(f"with {name} set to {label}", body, content_type))
    strings = [p for p in paths if isinstance(_get(root, p), str)]
    if strings:
        huge = root
        for path in strings:
            huge = _changed(huge, path, "x" * (HUGE // len(strings)))
        body = json.dumps(huge).encode()
        found.append(MalformedBody("with every string enormous", body, content_type))
    return found


def _form_variants(fields: list[tuple[str, str]], content_type: str) -> list[MalformedBody]:
    """The form without each field, with it empty, with it twice, and with every value
    enormous."""
    found: list[MalformedBody] = []
    for i, (key, _value) in enumerate(fields[:MAX_FIELDS]):
        without = fields[:i] + fields[i + 1 :]
        empty = [*without, (key, "")]
        twice = [*fields, (key, "other")]
        for label, form in (("without", without), ("with an empty", empty), ("with two", twice)):
            found.append(MalformedBody(f"{label} {key}", urlencode(form).encode(), content_type))
    if fields:
        each = HUGE // len(fields)
        huge = urlencode([(k, "x" * each) for k, _ in fields]).encode()
        found.append(MalformedBody("with every field enormous", huge, content_type))
    return found


def _paths(node: Any, at: tuple[str | int, ...]) -> Any:
    """Every member's path in ``node`` (objects and arrays), depth first."""
    items: list[tuple[str | int, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, child in items:
        yield (*at, key)
        yield from _paths(child, (*at, key))


def _get(node: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def _changed(node: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A copy of ``node`` with the member at ``path`` set to ``value`` (removed: ``_REMOVE``)."""
    key, rest = path[0], path[1:]
    copy: Any = dict(node) if isinstance(node, dict) else list(node)
    if rest:
        copy[key] = _changed(node[key], rest, value)
    elif value is _REMOVE:
        del copy[key]
    else:
        copy[key] = value
    return copy
