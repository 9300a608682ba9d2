"""Twilio's regulations (Numbers v2 ``RegulatoryCompliance/Regulations``) as the core's
:class:`~trunkline.Requirement` items: the end-user information and the supporting documents
each regulation asks for, in Trunkline's vocabulary."""

from __future__ import annotations

import functools
from typing import Any

from trunkline import Requirement

from .errors import PROVIDER


def _number_type(value: Any) -> Any:
    text = str(value or "local").lower().replace(" ", "_").replace("-", "_")
    if text in ("local", "mobile", "toll_free", "national"):
        return text
    return "toll_free" if "toll" in text else "local"


def _document_kind(doc: dict[str, Any]) -> Any:
    """``address`` when every accepted document is an address (or the name says so)."""
    accepted = [a for a in doc.get("accepted_documents") or [] if isinstance(a, dict)]
    if accepted and all(a.get("type") == "address" for a in accepted):
        return "address"
    if "address" in str(doc.get("requirement_name") or doc.get("name") or "").lower():
        return "address"
    return "document"


def _fields(item: dict[str, Any]) -> str:
    detailed = [
        f.get("friendly_name") or f.get("machine_name")
        for f in item.get("detailed_fields") or []
        if isinstance(f, dict)
    ]
    names = [n for n in detailed if n] or [str(f) for f in item.get("fields") or []]
    return ", ".join(names)


def requirements(country: str, regulation: dict[str, Any]) -> list[Requirement]:
    """One Twilio regulation as core requirements.

    Twilio's ``requirements.end_user`` lists the end-user information (``group = end_user``);
    ``requirements.supporting_document`` is a list of groups, each a list of documents:
    every group must be satisfied, and the documents of one group are alternatives
    (``group = supporting_document_N``).
    """
    number_type = _number_type(regulation.get("number_type"))
    end_user: Any = regulation.get("end_user_type") or "any"
    if end_user not in ("individual", "business"):
        end_user = "any"
    reqs = regulation.get("requirements") or {}
    requirement = functools.partial(
        Requirement,
        provider=PROVIDER,
        country_code=country,
        number_type=number_type,
        end_user_type=end_user,
    )
    out: list[Requirement] = []
    for item in reqs.get("end_user") or []:
        fields = _fields(item)
        out.append(
            requirement(
                name=str(item.get("name") or item.get("requirement_name") or "End user"),
                kind="identity" if item.get("type") in ("individual", "business") else "textual",
                description=f"Fields: {fields}." if fields else "",
                group="end_user",
            )
        )
    for index, group in enumerate(reqs.get("supporting_document") or [], start=1):
        for doc in group if isinstance(group, list) else [group]:
            accepted = [
                str(a.get("name"))
                for a in doc.get("accepted_documents") or []
                if isinstance(a, dict) and a.get("name")
            ]
            description = str(doc.get("description") or "").strip()
            if accepted:
                description = f"{description} Accepted: {', '.join(accepted)}.".strip()
            out.append(
                requirement(
                    name=str(doc.get("name") or doc.get("requirement_name") or "Document"),
                    kind=_document_kind(doc),
                    description=description,
                    group=f"supporting_document_{index}",
                )
            )
    return out
