"""The conformance kit for provider plugins: a pytest plugin, inert unless asked for.

A provider plugin proves it keeps the Trunkline contract by subclassing
:class:`ProviderConformance` in its own tests and supplying its carrier's HTTP mocks::

    from core.conformance import ProviderConformance

    class TestAcmeConformance(ProviderConformance):
        plugin_name = "acme"                    # the entry-point name
        provider = "acme"                       # the provider it registers
        settings = {"api_key": {"env": "ACME_API_KEY"}}
        env = {"ACME_API_KEY": "test-key"}

        def mock_carrier(self, scenario): ...   # a context manager (e.g. a respx router)
        def signed_webhook(self): ...           # a WebhookRequest the carrier would send
        def forged_webhook(self): ...           # the same with a bad signature
        def sign_webhook(self, body, content_type): ...  # optional: any body, signed

The kit loads the plugin through its entry point into a real host, the way ``trunkline serve``
does, and checks: registration and settings model, hook signatures, imports, the verification
state machine, coverage and regulation shapes, error mapping, provider status, webhook
signature refusal, signed but malformed webhook bodies (when ``sign_webhook`` is defined),
and (for plugins implementing them) the dialing permissions' and the
calling windows' shapes. Every failure is an :class:`ConformanceError` (an ``AssertionError``) whose
message names what is wrong. The ``check_*`` functions may also be called directly.

As a pytest plugin (entry point ``pytest11``) it adds no fixture, marker or test to a run: only
classes that subclass :class:`ProviderConformance` carry its tests, and the option
``--trunkline-conformance`` runs those alone.

The kit is a package along its seams: :mod:`.common` (scenarios, the failure type),
:mod:`.static` (checks of the loaded plugin), :mod:`.results` (checks of a hook's answer),
:mod:`.malformed` (the malformed webhook bodies),
:mod:`.kit` (the real host), :mod:`.suite` (:class:`ProviderConformance`) and
:mod:`.pytest_plugin` (the pytest hooks). Import its names from here, or from
``trunkline.testing``.
"""

from __future__ import annotations

from .common import ERROR_SCENARIOS, SCENARIOS, ConformanceError
from .kit import Kit
from .malformed import MalformedBody, malformed_bodies
from .pytest_plugin import pytest_addoption as pytest_addoption
from .pytest_plugin import pytest_collection_modifyitems as pytest_collection_modifyitems
from .results import (
    check_attestation,
    check_calling_windows,
    check_coverage,
    check_error_mapping,
    check_lookup,
    check_outbound_permissions,
    check_regulations,
    check_released,
    check_result,
    check_verification_completed,
    check_verification_refused,
    check_verification_started,
    check_webhook_accepted,
    check_webhook_malformed,
    check_webhook_refused,
)
from .static import PRIVATE_PACKAGES as PRIVATE_PACKAGES
from .static import PUBLIC_MODULES as PUBLIC_MODULES
from .static import (
    check_capabilities,
    check_hook_signatures,
    check_imports,
    check_provider_status,
    check_registration,
    check_settings_model,
    credential_fields,
    hook_signature,
)
from .suite import ProviderConformance

__all__ = [
    "ERROR_SCENARIOS",
    "SCENARIOS",
    "ConformanceError",
    "Kit",
    "MalformedBody",
    "ProviderConformance",
    "check_attestation",
    "check_calling_windows",
    "check_capabilities",
    "check_coverage",
    "check_error_mapping",
    "check_hook_signatures",
    "check_imports",
    "check_lookup",
    "check_outbound_permissions",
    "check_provider_status",
    "check_registration",
    "check_regulations",
    "check_released",
    "check_result",
    "check_settings_model",
    "check_verification_completed",
    "check_verification_refused",
    "check_verification_started",
    "check_webhook_accepted",
    "check_webhook_malformed",
    "check_webhook_refused",
    "credential_fields",
    "hook_signature",
    "malformed_bodies",
]
