"""Trunkline's public surface for plugin authors: ``import trunkline``.

Everything a provider plugin needs, under the distribution's own name: ``trunkline.hookimpl``,
the models hooks exchange, the error hierarchy, :class:`PluginContext`, ``SecretStr`` and the
carrier helpers (:func:`error_for_status`, :func:`parse_retry_after`, :func:`check_same_number`,
:func:`classify_number`, :func:`static_coverage`, :func:`static_requirements`,
:func:`attestation_by_ownership`, :func:`register_provider`). The conformance kit is
:mod:`trunkline.testing`.

This is a thin re-export of what ``core`` promises; ``from core import ...`` keeps working, but
``core``, ``api`` and ``plugins`` are the repository's internal packages and nothing else in them
is promised.
"""

from core import *  # noqa: F403 -- the promised surface, defined once in core/__init__.py
from core import __all__ as _core_all
from core.carrier import (
    attestation_by_ownership,
    check_same_number,
    classify_number,
    error_for_status,
    parse_retry_after,
    register_provider,
    static_coverage,
    static_requirements,
)

__all__ = [
    *_core_all,
    "attestation_by_ownership",
    "check_same_number",
    "classify_number",
    "error_for_status",
    "parse_retry_after",
    "register_provider",
    "static_coverage",
    "static_requirements",
]
