"""The Telnyx SDK client factory, shared by the plugin and its command line.

The SDK is heavy (over a second to import): it is imported only when a client is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .settings import TelnyxSettings

if TYPE_CHECKING:
    from telnyx import AsyncTelnyx

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"


def make_client(settings: TelnyxSettings) -> AsyncTelnyx:
    """An ``AsyncTelnyx`` client for ``settings`` (which must carry an ``api_key``)."""
    from telnyx import AsyncTelnyx

    assert settings.api_key is not None
    return AsyncTelnyx(
        api_key=settings.api_key.get_secret_value(),
        public_key=settings.public_key.get_secret_value() if settings.public_key else None,
        base_url=settings.base_url or DEFAULT_BASE_URL,
        timeout=settings.timeout_seconds,
        max_retries=settings.max_retries,
    )
