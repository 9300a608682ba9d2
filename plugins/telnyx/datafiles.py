"""The static data shipped with the plugin: coverage and regulations, validated on load.

``coverage.json`` and ``regulations.json`` are validated against the models below (which are the
schema; ``coverage.schema.json`` is generated from :class:`CoverageFile`) and indexed once, in
memory, by country.
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

NumberType = Literal["local", "mobile", "toll_free", "national"]
Feature = Literal["voice", "sms", "mms", "fax"]


ISO_PATTERN = "^[A-Z]{2}$"


def _iso_keys(cls: type, value: dict[str, Any]) -> dict[str, Any]:
    for code in value:
        if len(code) != 2 or not code.isalpha() or not code.isupper():
            raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 code")
    return value


class CoverageFile(BaseModel):
    """``coverage.json``: per ISO country, the number types offered and their features."""

    model_config = ConfigDict(extra="forbid")

    generated: date
    source: str = "telnyx country_coverage"
    countries: dict[str, dict[NumberType, list[Feature]]] = Field(
        json_schema_extra={"propertyNames": {"pattern": ISO_PATTERN}}
    )

    _iso = field_validator("countries")(_iso_keys)


class RequirementItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number_type: NumberType
    end_user_type: Literal["individual", "business", "any"]
    name: str = Field(min_length=1)
    kind: Literal["document", "address", "textual", "identity"]
    description: str = ""
    group: str | None = None


class RegulationsFile(BaseModel):
    """``regulations.json``: per ISO country, requirements in the core's ``Requirement`` form."""

    model_config = ConfigDict(extra="forbid")

    generated: date
    countries: dict[str, list[RequirementItem]] = Field(
        json_schema_extra={"propertyNames": {"pattern": ISO_PATTERN}}
    )

    _iso = field_validator("countries")(_iso_keys)


def _read(name: str) -> Any:
    return json.loads(resources.files(__package__).joinpath("data", name).read_text("utf-8"))


@lru_cache(maxsize=1)
def coverage() -> CoverageFile:
    """The shipped coverage, validated and read once per process."""
    return CoverageFile.model_validate(_read("coverage.json"))


@lru_cache(maxsize=1)
def regulations() -> RegulationsFile:
    """The shipped regulations, validated and read once per process."""
    return RegulationsFile.model_validate(_read("regulations.json"))


def write_coverage(path: Path, data: CoverageFile) -> None:
    """Write a coverage file in the shipped schema (sorted, stable)."""
    payload = data.model_dump(mode="json")
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def coverage_schema() -> dict[str, Any]:
    """The JSON schema of ``coverage.json``, shipped as ``data/coverage.schema.json``."""
    return CoverageFile.model_json_schema()


def regulations_schema() -> dict[str, Any]:
    """The JSON schema of ``regulations.json``, shipped as ``data/regulations.schema.json``."""
    return RegulationsFile.model_json_schema()


SCHEMAS = {"coverage.schema.json": coverage_schema, "regulations.schema.json": regulations_schema}


def write_schemas(folder: Path) -> list[Path]:
    """Regenerate the shipped schemas from the models: ``python -m plugins.telnyx.datafiles``."""
    written = []
    for name, schema in SCHEMAS.items():
        path = folder / name
        path.write_text(json.dumps(schema(), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    for written_path in write_schemas(Path(__file__).parent / "data"):
        print(f"wrote {written_path}")
