"""verify-cli's limit (5 a minute per user), in the ways it could be got wrong: keyed per API key
(one user may hold several keys), blind to calls that carry a code (code guessing), or telling
clients to retry after a fixed second. Every call here reaches the carrier, so each counts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from core.auth import issue_key
from core.tables import User
from tests.fakes import FakeCarrier

URL = "/settings/telephony/numbers/verify-cli"


@pytest.fixture
def fake() -> FakeCarrier:
    return FakeCarrier()


@pytest.fixture
def api(make_api: Any, fake: FakeCarrier) -> Any:
    return make_api(plugins=[], extra={"fake": fake})


def _numbers(api: Any, count: int) -> list[str]:
    return [api.add_number(f"+1415555{100 + i:04d}", "fake")["id"] for i in range(count)]


def _second_key(api: Any) -> dict[str, str]:
    """Another key of workspace A's user (as ``trunkline workspaces demo-key`` issues)."""

    async def issue() -> str:
        async with api.runtime.sessionmaker() as session:
            user = (
                await session.execute(
                    select(User).where(User.workspace_id == uuid.UUID(api.workspace_id))
                )
            ).scalar_one()
            _row, key = issue_key(session, user)
            await session.commit()
            return key

    return {"Authorization": f"Bearer {api.run(issue)}"}


def test_the_limit_is_per_user_whichever_key_they_use(api: Any, fake: FakeCarrier) -> None:
    other_key = _second_key(api)
    statuses = []
    for i, number_id in enumerate(_numbers(api, 6)):
        headers = other_key if i % 2 else {}
        r = api.client.post(URL, json={"number_id": number_id}, headers=headers)
        statuses.append(r.status_code)
    assert statuses == [200] * 5 + [429], statuses
    assert fake.calls["verify_cli"] == 5


def test_calls_with_a_code_count_too(api: Any, fake: FakeCarrier) -> None:
    """Start and submit a code for number after number: the sixth call of the minute is
    refused, whether or not it carries a code (else codes could be guessed without bound)."""
    statuses = []
    for number_id in _numbers(api, 3):
        for code in (None, "123456"):
            body = (
                {"number_id": number_id} if code is None else {"number_id": number_id, "code": code}
            )
            statuses.append(api.client.post(URL, json=body).status_code)
    assert statuses == [200] * 5 + [429], statuses
    assert fake.calls["verify_cli"] == 5


def test_retry_after_is_the_time_left_in_the_window(api: Any) -> None:
    ids = _numbers(api, 6)
    for number_id in ids[:5]:
        assert api.client.post(URL, json={"number_id": number_id}).status_code == 200
    r = api.client.post(URL, json={"number_id": ids[5]})
    assert r.status_code == 429
    # the window is a minute and began with the first of these calls: far more than a second
    # is left (a fixed "1" would send clients straight back into the limit)
    assert 2 <= int(r.headers["Retry-After"]) <= 60, r.headers["Retry-After"]
    assert r.json()["retry_after"] == int(r.headers["Retry-After"])
