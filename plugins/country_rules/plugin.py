"""``is_country_outbound_blocked`` from ``[plugins.country_rules]`` in ``plugins.toml``.

* ``blocked``: no provider may call to or from these countries;
* ``allowed``: when not empty, only these countries may be called (or call);
* ``by_provider``: ``{provider: [countries]}`` blocked for that provider only.

Codes are ISO 3166 alpha-2, validated at start-up (upper-cased; ``UK`` is not a code: ``GB``).
"""

from __future__ import annotations

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator

from trunkline import hookimpl

#: Every ISO 3166 alpha-2 region phonenumbers knows (a country without a telephone plan
#: cannot be called anyway).
KNOWN_COUNTRIES: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)


def _codes(values: list[str], where: str) -> list[str]:
    out = []
    for value in values:
        code = value.strip().upper()
        if code not in KNOWN_COUNTRIES:
            raise ValueError(f"{where}: {value!r} is not an ISO 3166 alpha-2 country code")
        out.append(code)
    return out


class CountryRulesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blocked: list[str] = Field(default_factory=list)
    allowed: list[str] = Field(default_factory=list)
    by_provider: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("blocked", "allowed")
    @classmethod
    def _iso(cls, values: list[str], info: object) -> list[str]:
        return _codes(values, getattr(info, "field_name", "countries"))

    @field_validator("by_provider")
    @classmethod
    def _iso_by_provider(cls, table: dict[str, list[str]]) -> dict[str, list[str]]:
        return {provider: _codes(v, f"by_provider.{provider}") for provider, v in table.items()}


class CountryRulesPlugin:
    """Blocks countries for every provider or for one; a pure function of its settings."""

    def __init__(self) -> None:
        self.blocked: frozenset[str] = frozenset()
        self.allowed: frozenset[str] = frozenset()
        self.by_provider: dict[str, frozenset[str]] = {}

    @hookimpl
    def trunkline_settings_model(self) -> type[BaseModel]:
        return CountryRulesSettings

    @hookimpl
    def trunkline_configure(self, settings: CountryRulesSettings) -> None:
        self.blocked = frozenset(settings.blocked)
        self.allowed = frozenset(settings.allowed)
        self.by_provider = {p: frozenset(c) for p, c in settings.by_provider.items()}

    @hookimpl
    def is_country_outbound_blocked(self, country_code: str, provider: str) -> bool:
        if country_code in self.blocked:
            return True
        if self.allowed and country_code not in self.allowed:
            return True
        return country_code in self.by_provider.get(provider, ())
