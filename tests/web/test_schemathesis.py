"""The JSON API under generated input: schemathesis reads /openapi.json from a live
``gas serve`` and sends valid and invalid requests to every operation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode

from e2e.server import Server, serving

# Per operation and mode: enough to hit the validation paths, about a minute in all.
EXAMPLES = 150


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """``gas serve`` on a free port, and an API token of a free user of it."""
    with serving(tmp_path_factory.mktemp("schemathesis") / "var", "fuzz@example.org") as live:
        yield live


def _error_shape_ok(response: requests.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return (isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], dict)
            and set(body["error"]) == {"code", "message"})


def _fuzz(base_url: str, token: str) -> tuple[int, list[str]]:
    """Every operation, valid and invalid input: how many requests were sent, and
    those that got a 5xx, or an API error without the API's error shape."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    sent = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7, "the API's operations are missing from /openapi.json"
    # DELETE /api/v1/me deletes the fuzzing user: fuzzed last, so every other operation is
    # reached with a token that works.
    operations.sort(key=lambda op: (op.method.upper(), op.path) == ("DELETE", "/api/v1/me"))
    for operation in operations:
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @hypothesis.settings(
            max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
            phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=strategy)
        def check(case: schemathesis.Case) -> None:
            headers = dict(case.headers or {})
            # The generated Authorization header is noise; a real token reaches the handlers.
            headers["Authorization"] = f"Bearer {token}"
            response = case.call(base_url=base_url, headers=headers, timeout=30, allow_redirects=False)
            nonlocal sent
            sent += 1
            api_error = case.path.startswith("/api/") and response.status_code >= 400
            if response.status_code >= 500 or (api_error and not _error_shape_ok(response)):
                failures.append(f"{case.method} {case.formatted_path} body={case.body!r} "
                                f"query={case.query!r} -> {response.status_code} {response.text[:200]}")

        check()
    return sent, failures


async def test_schemathesis_finds_no_server_error(live: tuple[Server, str]) -> None:
    """No request that schemathesis derives from /openapi.json, valid or not, gets a 5xx:
    bad input is a 4xx with the API's error shape."""
    server, token = live
    sent, failures = await asyncio.to_thread(_fuzz, server.url, token)
    print(f"schemathesis sent {sent} requests")
    assert sent >= 7 * EXAMPLES // 2, sent
    assert not failures, "\n".join(failures[:20]) + f"\n(server log: {Path(server.data_dir, 'serve.log')})"
