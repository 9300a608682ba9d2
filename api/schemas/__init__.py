"""What goes in and out of the HTTP API, one module per area; every name is importable
from ``api.schemas``."""

from __future__ import annotations

from .apikeys import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from .campaigns import (
    CallOut,
    CallStatus,
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    CampaignWarning,
    FromNumberIn,
    TestCallIn,
)
from .catalog import (
    CallingRuleOut,
    CatalogOut,
    PermissionsOut,
    PluginOut,
    ProviderFailure,
    ProviderOut,
)
from .common import (
    PHONE_RULE,
    PHONE_SCHEMA,
    In,
    PageOut,
    Problem,
    created,
    drop_default_422,
    listed,
    omittable,
    phone_field,
    problems,
)
from .numbers import NumberBinding, NumberCreate, NumberOut, PurchaseIn, VerifyIn, VerifyOut
from .outbound import (
    BATCH_MAX_CHECKS,
    DestinationOut,
    LookupOut,
    OutboundBatchIn,
    OutboundBatchOut,
    OutboundCheckError,
    OutboundCheckIn,
    OutboundCheckOut,
)
from .records import AuditOut, LedgerOut

__all__ = [
    "BATCH_MAX_CHECKS",
    "PHONE_RULE",
    "PHONE_SCHEMA",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyOut",
    "AuditOut",
    "CallOut",
    "CallStatus",
    "CallingRuleOut",
    "CampaignCreate",
    "CampaignOut",
    "CampaignUpdate",
    "CampaignWarning",
    "CatalogOut",
    "DestinationOut",
    "FromNumberIn",
    "In",
    "LedgerOut",
    "LookupOut",
    "NumberBinding",
    "NumberCreate",
    "NumberOut",
    "OutboundBatchIn",
    "OutboundBatchOut",
    "OutboundCheckError",
    "OutboundCheckIn",
    "OutboundCheckOut",
    "PageOut",
    "PermissionsOut",
    "PluginOut",
    "Problem",
    "ProviderFailure",
    "ProviderOut",
    "PurchaseIn",
    "TestCallIn",
    "VerifyIn",
    "VerifyOut",
    "created",
    "drop_default_422",
    "listed",
    "omittable",
    "phone_field",
    "problems",
]
