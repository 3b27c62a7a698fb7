"""Behind the load balancer: X-Forwarded-For and X-Forwarded-Proto are believed only
when GAS_TRUSTED_PROXY_HOPS says a proxy sets them, and then only its own entry."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from quart import Quart, jsonify, request
from quart.typing import ResponseReturnValue

from app.config import Settings
from app.jobs.job import Job, input_key, utcnow
from app.services import Services
from app.web import create_app

from .conftest import bearer, make_user

# What the load balancer sends: a client's own (forged) X-Forwarded-For entry, then
# the address the balancer saw, appended by it; the scheme the client used.
FORWARDED = {"X-Forwarded-For": "198.51.100.66, 203.0.113.7", "X-Forwarded-Proto": "https"}


async def _running(services: Services, hops: int) -> AsyncIterator[Quart]:
    settings = Settings(**{**services.settings.model_dump(), "trusted_proxy_hops": hops})
    app = create_app(settings, services)

    @app.get("/test-probe")
    async def probe() -> ResponseReturnValue:
        return jsonify({"client": request.remote_addr, "scheme": request.scheme})

    async with app.test_app() as running:
        yield running  # type: ignore[misc]


@pytest.fixture
async def behind_balancer(services: Services) -> AsyncIterator[Quart]:
    async for app in _running(services, 1):
        yield app


@pytest.fixture
async def direct(services: Services) -> AsyncIterator[Quart]:
    async for app in _running(services, 0):
        yield app


async def test_default_trusts_no_forwarded_headers(direct: Quart) -> None:
    """With the default (0 hops) a client cannot claim another address or https."""
    assert Settings().trusted_proxy_hops == 0
    response = await direct.test_client().get("/test-probe", headers=FORWARDED)
    seen = await response.get_json()
    assert seen["scheme"] == "http"
    assert seen["client"] not in ("198.51.100.66", "203.0.113.7")


async def test_one_hop_takes_the_balancers_entry_only(behind_balancer: Quart) -> None:
    """With one trusted hop the client is the address the balancer appended (not the
    entry the client forged before it) and the scheme is the balancer's https."""
    response = await behind_balancer.test_client().get("/test-probe", headers=FORWARDED)
    assert await response.get_json() == {"client": "203.0.113.7", "scheme": "https"}


async def test_api_links_are_on_the_public_url_behind_the_balancer_or_not(
        services: Services, direct: Quart, behind_balancer: Quart) -> None:
    """A job's links in the API are on GAS_PUBLIC_URL whether the forwarded headers are
    trusted or not: neither X-Forwarded-Proto nor the Host header makes them."""
    user, token = await make_user(services)
    job_id = str(uuid.uuid4())
    await services.jobs.create(Job(
        job_id=job_id, user_id=user.user_id, input_file_name="in.vcf",
        input_bucket=services.settings.inputs_bucket,
        input_key=input_key(user.user_id, job_id, "in.vcf"), input_size=10, submitted_at=utcnow(),
    ))
    headers = {**bearer(token), **FORWARDED, "Host": "gas.example.org"}
    for app in (behind_balancer, direct):
        job = await (await app.test_client().get(f"/api/v1/jobs/{job_id}", headers=headers)).get_json()
        assert job["links"]["self"] == f"{services.settings.public_url}/api/v1/jobs/{job_id}"


def test_negative_hops_are_refused() -> None:
    """A negative hop count is a mistake, not "trust none"."""
    with pytest.raises(ValueError):
        Settings(trusted_proxy_hops=-1)
