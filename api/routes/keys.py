"""``/settings/api-keys``: the calling workspace's API keys: list, create (shown once), revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response

from core import apikeys

from ..deps import PageDep, PrincipalDep, SessionDep
from ..schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, PageOut, created, problems

router = APIRouter(prefix="/settings/api-keys", tags=["api-keys"])


@router.get("", response_model=PageOut[ApiKeyOut], responses=problems(401, 422))
async def list_keys(
    session: SessionDep, principal: PrincipalDep, page: PageDep
) -> PageOut[ApiKeyOut]:
    """The workspace's keys, newest first, revoked ones included (never the keys themselves)."""
    rows, total = await apikeys.list_keys(session, principal.workspace_id, page)
    return page.of([ApiKeyOut.of(k) for k in rows], total)


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyCreated,
    responses=created(401, 403, 422, body=True),
)
async def create_key(
    body: ApiKeyCreate, response: Response, session: SessionDep, principal: PrincipalDep
) -> ApiKeyCreated:
    """A new key for the caller's user. The answer's `key` is shown this once: store it."""
    row, key = await apikeys.create_key(
        session,
        principal.workspace_id,
        actor=principal.actor,
        name=body.name,
        user_id=principal.user_id,
    )
    response.headers["Location"] = f"/settings/api-keys/{row.id}"
    return ApiKeyCreated(**ApiKeyOut.of(row).model_dump(), key=key)


@router.get("/{key_id}", response_model=ApiKeyOut, responses=problems(401, 404))
async def get_key(key_id: str, session: SessionDep, principal: PrincipalDep) -> ApiKeyOut:
    return ApiKeyOut.of(await apikeys.get_key(session, principal.workspace_id, key_id))


@router.delete("/{key_id}", status_code=204, responses=problems(401, 403, 404))
async def revoke_key(key_id: str, session: SessionDep, principal: PrincipalDep) -> Response:
    """Revoke a key (idempotent). This worker refuses it at once, every other worker when the
    announcement reaches it, and any worker within `TRUNKLINE_SNAPSHOT_TTL_SECONDS`."""
    await apikeys.revoke(session, principal.workspace_id, key_id, actor=principal.actor)
    return Response(status_code=204)
