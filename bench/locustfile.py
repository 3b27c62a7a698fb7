"""Locust load test of the signed-in job list: the page `/annotations` and the
HTMX fragment of its rows (the same URL with `HX-Request: true`, which the page
fetches on every `sse:job` event and on each poll while the stream is down).

    locust -f bench/locustfile.py --host https://<alb-dns>            # web UI on :8089
    locust -f bench/locustfile.py --host http://127.0.0.1:5000 --headless -u 200 -r 200 -t 30s

`bench/web.py` runs it headless against a `gas serve` it starts and seeds.

Who it signs in as, from the environment:

- `GAS_BENCH_EMAIL` and `GAS_BENCH_PASSWORD`: an account on that GAS (with
  jobs, for a meaningful list). The file logs in once per locust process
  through the login form and every simulated user shares that session, so a
  run costs one password check, not 200 (and stays clear of per-account login
  limits).
- or `GAS_BENCH_COOKIE`: the `Cookie` header of a signed-in browser (the
  `session` and `QUART_AUTH` cookies), when the password is not to be shared.
  API tokens (`gas users token`) sign in only the JSON API, not these pages.

Pacing: each user makes `GAS_BENCH_USER_RPS` requests a second on average
(default 6, so 200 users offer 1,200 req/s), at random moments, half of them
pages and half fragments. A user without think time is a saturation test,
not 200 people: set `GAS_BENCH_USER_RPS=0` for that.

It needs locust (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import os
import random
import re
import time

import gevent
import requests
from gevent.lock import BoundedSemaphore
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_login_lock = BoundedSemaphore()
_cookie: dict[str, str] = {}


def _log_in(host: str, email: str, password: str) -> str:
    """The Cookie header of a fresh session, through the login form as a browser does it."""
    http = requests.Session()
    page = http.get(f"{host}/login", timeout=30)
    page.raise_for_status()
    found = _CSRF.search(page.text)
    if found is None:
        raise RuntimeError(f"{host}/login has no csrf_token field")
    done = http.post(f"{host}/login", data={"email": email, "password": password,
                                            "csrf_token": found[1]},
                     allow_redirects=False, timeout=30)
    if done.status_code not in (302, 303):
        raise RuntimeError(f"login as {email} failed: HTTP {done.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def session_cookie(host: str) -> str:
    """One login per locust process, shared by its users (the first one logs in)."""
    with _login_lock:
        if host not in _cookie:
            given = os.environ.get("GAS_BENCH_COOKIE")
            email, password = os.environ.get("GAS_BENCH_EMAIL"), os.environ.get("GAS_BENCH_PASSWORD")
            if given:
                _cookie[host] = given
            elif email and password:
                _cookie[host] = _log_in(host, email, password)
            else:
                raise RuntimeError("set GAS_BENCH_EMAIL and GAS_BENCH_PASSWORD, or GAS_BENCH_COOKIE")
        return _cookie[host]


def _pacing():  # type: ignore[no-untyped-def]
    """Each user starts requests at random moments, ``rate`` a second on average
    (exponential gaps: a Poisson process, as independent people make).

    locust's ``constant_throughput`` keeps every user on the phase it started
    with: 200 users spawned together then ask in bursts of 200 at once, forever,
    and the last of each burst waits for all the others (p99 = 200 x the service
    time even at half load). A user behind its schedule asks at once.
    """
    rate = float(os.environ.get("GAS_BENCH_USER_RPS", "6"))
    if rate <= 0:
        return constant(0)

    def wait(user: FastHttpUser) -> float:
        now = time.monotonic()
        start = max(now, getattr(user, "next_start", now) + random.expovariate(rate))
        user.next_start = start  # type: ignore[attr-defined]
        return start - now

    return wait


class JobListUser(FastHttpUser):
    wait_time = _pacing()

    def on_start(self) -> None:
        assert self.host is not None
        try:
            cookie = session_cookie(self.host.rstrip("/"))
        except (RuntimeError, requests.RequestException) as exc:
            self.environment.events.request.fire(
                request_type="LOGIN", name="/login", response_time=0, response_length=0,
                exception=exc, context={},
            )
            raise StopUser() from exc
        self.page_headers = {"Cookie": cookie}
        self.fragment_headers = {"Cookie": cookie, "HX-Request": "true"}
        # Users spawned together would all make their first request at once.
        gevent.sleep(self.wait_time())

    @task
    def job_list_page(self) -> None:
        with self.client.get("/annotations", headers=self.page_headers, name="/annotations page",
                             allow_redirects=False, catch_response=True) as response:
            # A lost session shows as a redirect to /login, not as an error status.
            if response.status_code != 200 or "My annotation jobs" not in (response.text or ""):
                response.failure(f"HTTP {response.status_code}, not the job list")

    @task
    def job_rows_fragment(self) -> None:
        with self.client.get("/annotations", headers=self.fragment_headers,
                             name="/annotations fragment (HX-Request)", allow_redirects=False,
                             catch_response=True) as response:
            text = response.text or ""
            if response.status_code != 200 or "<tr>" not in text or "<html" in text:
                response.failure(f"HTTP {response.status_code}, not the rows fragment")
