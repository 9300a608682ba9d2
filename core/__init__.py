"""Trunkline's core, and the whole public surface a plugin author imports.

Everything a plugin needs is re-exported here: ``hookimpl``, the models hooks exchange, the
error hierarchy and :class:`PluginContext`. Nothing else under ``core`` is promised to plugins.
The conformance kit lives in ``core.conformance`` (a pytest plugin).
"""

from .context import PluginContext
from .errors import (
    ConfigurationError,
    PluginLoadError,
    ProviderAuthError,
    ProviderError,
    ProviderNotConfigured,
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    TrunklineError,
    UnsupportedOperation,
    WebhookMalformed,
    WebhookSignatureError,
)
from .hookspecs import hookimpl
from .models import (
    ATTESTATION_LEVELS,
    CAPABILITIES,
    LINE_TYPES,
    NUMBER_TYPES,
    AttestationEstimate,
    AttestationLevel,
    AvailableNumber,
    CallOptions,
    CoverageEntry,
    LineType,
    NumberIntel,
    NumberRef,
    NumberSearch,
    PlacedCall,
    ProviderEvent,
    ProviderInfo,
    PurchasedNumber,
    Requirement,
    VerificationResult,
    WebhookRequest,
)
from .secrets import SecretStr

__all__ = [
    "ATTESTATION_LEVELS",
    "CAPABILITIES",
    "LINE_TYPES",
    "NUMBER_TYPES",
    "AttestationEstimate",
    "AttestationLevel",
    "AvailableNumber",
    "CallOptions",
    "ConfigurationError",
    "CoverageEntry",
    "LineType",
    "NumberIntel",
    "NumberRef",
    "NumberSearch",
    "PlacedCall",
    "PluginContext",
    "PluginLoadError",
    "ProviderAuthError",
    "ProviderError",
    "ProviderEvent",
    "ProviderInfo",
    "ProviderNotConfigured",
    "ProviderNotFound",
    "ProviderRateLimited",
    "ProviderRejected",
    "ProviderUnavailable",
    "PurchasedNumber",
    "Requirement",
    "SecretStr",
    "TrunklineError",
    "UnsupportedOperation",
    "VerificationResult",
    "WebhookMalformed",
    "WebhookRequest",
    "WebhookSignatureError",
    "hookimpl",
]
