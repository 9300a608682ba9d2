"""``POST /webhooks/{provider}``: the public URL a carrier calls back. No API key: the
carrier's signature, checked by the provider's ``parse_webhook``, is the authentication.

Bad input from the outside is a 4xx problem, never blamed on the carrier and never a 500:
a body too large (413) or nested too deep (422) is refused before any plugin reads it, and a
body the plugin cannot read is 422 ``webhook_malformed``.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Request

from core import audit
from core.errors import TrunklineError, WebhookMalformed, WebhookSignatureError
from core.events import apply_events
from core.models import WebhookRequest

from ..deps import RuntimeDep, SessionDep
from ..schemas import problems
from ..validation import Text
from ..webhook_guard import check_depth, read_body

router = APIRouter(tags=["webhooks"])
log = logging.getLogger("trunkline.webhooks")


@router.post(
    "/webhooks/{provider}",
    responses=problems(403, 413, 422, 502),
)
async def webhook(
    provider: Annotated[Text, Path(max_length=32)],
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
) -> dict[str, object]:
    rt.host.plugin_for(provider)  # unknown provider: 422 before the body is read
    body = await read_body(request)
    check_depth(body)
    url = f"{rt.settings.public_base_url}{request.url.path}"
    if request.url.query:
        url += "?" + request.url.query
    incoming = WebhookRequest(
        url=url,
        method=request.method,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
    )
    try:
        events = await rt.host.call_provider("parse_webhook", provider, request=incoming)
    except (WebhookSignatureError, WebhookMalformed) as exc:
        log.warning("webhook for %s refused: %s", provider, exc.detail)
        raise
    except TrunklineError:
        raise
    except Exception as exc:
        # The contract says a plugin raises WebhookMalformed for a body it cannot read; one
        # that lets its parser's error escape is still answering about the request's body.
        log.warning(
            "webhook for %s refused: the plugin could not read the body (%s)",
            provider,
            type(exc).__name__,
            exc_info=True,
        )
        raise WebhookMalformed(f"the {provider} plugin could not read this webhook body") from None
    audit.record(
        session,
        action="webhook_received",
        outcome="accepted",
        actor=f"carrier:{provider}",
        workspace_id=None,
        subject_type="webhook",
        provider=provider,
        detail={"events": [e.kind for e in events]},
    )
    changed = await apply_events(rt, session, events, via="callback")
    return {"ok": True, "events": len(events), "changed": changed}
