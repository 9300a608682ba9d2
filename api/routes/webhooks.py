"""``POST /webhooks/{provider}``: the public URL a carrier calls back. No API key: the
carrier's signature, checked by the provider's ``parse_webhook``, is the authentication."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Request

from core import audit
from core.errors import WebhookSignatureError
from core.events import apply_events
from core.models import WebhookRequest

from ..deps import RuntimeDep, SessionDep
from ..schemas import problems
from ..validation import Text

router = APIRouter(tags=["webhooks"])
log = logging.getLogger("trunkline.webhooks")


@router.post(
    "/webhooks/{provider}",
    responses=problems(403, 422, 502, 503),
)
async def webhook(
    provider: Annotated[Text, Path(max_length=32)],
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
) -> dict[str, object]:
    url = f"{rt.settings.public_base_url}{request.url.path}"
    if request.url.query:
        url += "?" + request.url.query
    incoming = WebhookRequest(
        url=url,
        method=request.method,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
    )
    try:
        events = await rt.host.call_provider("parse_webhook", provider, request=incoming)
    except WebhookSignatureError as exc:
        log.warning("webhook for %s refused: %s", provider, exc.detail)
        raise
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
    changed = await apply_events(rt, session, events, actor=f"carrier:{provider}")
    return {"ok": True, "events": len(events), "changed": changed}
