"""Conformance kit for provider plugins (a pytest plugin; inert unless asked for)."""
