"""Trunkline provider plugin for ACME Telecom (a fictional carrier with a JSON API)."""

from .plugin import AcmePlugin, AcmeSettings

__all__ = ["AcmePlugin", "AcmeSettings"]
