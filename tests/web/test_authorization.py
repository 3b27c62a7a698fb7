"""The same access rules on every route, table-driven over ``app.url_map``.

Each route is requested with no session, with another user's session and token,
and with another user's ids; the owner's own request is the control. A route added
to the app without a row here fails the test until someone says who may use it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest
from quart import Quart
from quart.testing import QuartClient
from werkzeug.routing import Map

from app.accounts import users
from app.jobs.job import Job, input_key, utcnow
from app.services import Services
from tests.run_annotator import annotate
from tests.web.conftest import csrf_from
from tests.web.sessions import Person, person
from tests.web.test_results import VCF


@dataclass(frozen=True)
class Public:
    """Anyone may call it; ``why`` says what guards it instead of a session."""

    why: str
    # Ends the caller's session: requested last, after everything that needs it.
    ends_session: bool = False


@dataclass(frozen=True)
class Page:
    """A signed-in page: 302 to /login without a session. ``owned`` names the path or
    query value that must belong to the caller (404, or 403 for an upload key)."""

    owned: str | None = None
    # A live stream: checked signed out only (tests/web/test_events.py checks whose events it carries).
    stream: bool = False
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Api:
    """The JSON API: 401 without a bearer token; another user's ids are 404 (a key, 403)."""

    owned: str | None = None
    body: dict[str, object] = field(default_factory=dict)
    # Deletes the caller's account: requested last, after everything that needs it.
    ends_session: bool = False


ROUTES: dict[str, Public | Page | Api] = {
    "static": Public("the app's own CSS and JS, the same for everyone"),
    "openapi": Public("the API's description, no data"),
    "pages.index": Public("the home page; a visitor sees sign-up and log-in links"),
    "pages.health": Public("readiness, boot's probe; says only whether the database answers"),
    "pages.live": Public("liveness, the load balancer's probe; says only that the process runs"),
    "auth.signup": Public("making an account needs none (CSRF-checked)"),
    "auth.login": Public("logging in needs no session (CSRF-checked, rate limited)"),
    "auth.logout": Public("logging out only ends the caller's own session (CSRF-checked)",
                          ends_session=True),
    "objects.upload": Public("local object store: the signed upload policy is the permission, as on S3"),
    "objects.download": Public("local object store: the signed URL is the permission, as on S3"),
    "subscription.stripe_webhook": Public("Stripe's signature on the payload is the permission"),
    "oidc.start": Public("starts signing in with the provider (404 when none is configured)"),
    "oidc.callback": Public("the provider's return: state, PKCE and the ID token are the permission"),
    "account.verify_email_page": Public("the mailed one-time link is the permission (it only asks)"),
    "account.verify_email": Public("the mailed one-time link is the permission (CSRF-checked)"),
    "account.change_email_page": Public("the mailed one-time link is the permission (it only asks)"),
    "account.confirm_email_change": Public("the link mailed to the new address is the permission"),
    "password_reset.forgot": Public("mails a link to the address's owner, whoever asks; "
                                    "the same answer for any address"),
    "password_reset.reset_page": Public("the mailed one-time link is the permission (it only asks)"),
    "password_reset.reset": Public("the mailed one-time link is the permission (CSRF-checked)"),
    "pages.profile": Page(),
    "pages.create_token": Page(),
    "pages.revoke_token": Page(owned="token_id"),
    "account.edit_profile": Page(),
    "account.change_password": Page(),
    "account.change_email": Page(),
    "account.resend_verification": Page(),
    "account_deletion.confirm": Page(),
    "account_deletion.delete": Page(),
    "jobs.upload_fields": Page(),
    "jobs.annotate": Page(),
    "jobs.uploaded": Page(owned="key", query={"key": "{key}"}),
    "jobs.job_list": Page(),
    "jobs.job_page": Page(owned="job_id"),
    "jobs.job_log": Page(owned="job_id"),
    "jobs.resubmit": Page(owned="job_id"),
    "jobs.cancel": Page(owned="job_id"),
    "jobs.confirm_delete": Page(owned="job_id"),
    "jobs.delete": Page(owned="job_id"),
    "jobs.download": Page(owned="job_id"),
    "jobs.input_file": Page(owned="job_id"),
    "results.viewer": Page(owned="job_id"),
    "results.export": Page(owned="job_id"),
    "results.export_vcf": Page(owned="job_id"),
    "events.events": Page(stream=True),
    "subscription.subscribe": Page(),
    "subscription.pay": Page(),
    "subscription.manage": Page(),
    "api.create_upload": Api(),
    "api.create_job": Api(owned="key", body={"key": "{key}", "file_name": "x.vcf"}),
    "api.list_jobs": Api(),
    "api.get_job": Api(owned="job_id"),
    "api.job_result": Api(owned="job_id"),
    "api.job_log": Api(owned="job_id"),
    "api.job_variants": Api(owned="job_id"),
    "api.cancel": Api(owned="job_id"),
    "api.delete": Api(owned="job_id"),
    "api.me": Api(),
    "account_deletion.api_delete": Api(ends_session=True),
    "subscription.api_subscribe": Api(body={"payment_method": "pm_card_chargeDeclined"}),
}

IGNORED_METHODS = {"HEAD", "OPTIONS"}
UNCONTROLLED = ("pages.revoke_token", "jobs.resubmit", "jobs.cancel", "jobs.delete", "api.cancel",
                "api.delete")


@dataclass
class Owner:
    """Alice: a person with a completed job, an upload key and a token of her own."""

    person: Person
    job: Job
    token_id: str

    def values(self) -> dict[str, str]:
        return {"job_id": self.job.job_id, "key": self.job.input_key, "token_id": self.token_id,
                "bucket": self.job.input_bucket, "filename": "app.css", "token": "not-a-mailed-link"}

    def leaked(self, body: str, path: str) -> list[str]:
        """What of hers a response to someone else shows, beyond the path they asked for."""
        mine = [self.job.job_id, self.person.user.email, self.person.user.user_id, "alice-secret-name"]
        return [value for value in mine if value in body and value not in path]


@pytest.fixture(scope="module")
async def alice(app: Quart, services: Services) -> Owner:
    owner = await person(app, services)
    job_id = str(uuid.uuid4())
    key = input_key(owner.user.user_id, job_id, "alice-secret-name.vcf")
    await services.objects.put_bytes(services.settings.inputs_bucket, key, VCF.encode(), "text/plain")
    await services.jobs.create(Job(
        job_id=job_id, user_id=owner.user.user_id, input_file_name="alice-secret-name.vcf",
        input_bucket=services.settings.inputs_bucket, input_key=key, input_size=len(VCF),
        submitted_at=utcnow()))
    job = await annotate(services, job_id)
    assert job.status == "completed"
    (token,) = await users.list_tokens(services.db, owner.user.user_id)
    return Owner(owner, job, token.token_id)


def url_map(app: Quart) -> Map:
    """The routes of the app, also when it is the running test app around it."""
    found: Map = getattr(app, "app", app).url_map
    return found


def _routes(app: Quart) -> list[tuple[str, str, str]]:
    routes = [(rule.endpoint, method, rule.rule)
              for rule in url_map(app).iter_rules() for method in (rule.methods or ()) - IGNORED_METHODS]
    spec = ROUTES.get

    def last_if_ending(route: tuple[str, str, str]) -> tuple[bool, tuple[str, str, str]]:
        return getattr(spec(route[0]), "ends_session", False), route

    return sorted(routes, key=last_if_ending)


def _path(app: Quart, endpoint: str, method: str, values: dict[str, str]) -> str:
    rule = next(r for r in url_map(app).iter_rules(endpoint) if method in (r.methods or ()))
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", values[name]).replace(f"<path:{name}>", values[name])
    spec = ROUTES[endpoint]
    if isinstance(spec, Page) and spec.query:
        path += "?" + "&".join(f"{k}={v.format(**values)}" for k, v in spec.query.items())
    return path


async def _call(client: QuartClient, method: str, path: str, spec: Public | Page | Api,
                values: dict[str, str], token: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if isinstance(spec, Api):
        body = {k: v.format(**values) if isinstance(v, str) else v for k, v in spec.body.items()}
        return await client.open(path, method=method, headers=headers,
                                 json=body if method == "POST" else None)
    if method == "POST":
        # A real CSRF token of this client's session: what is tested here is the login rule.
        page = await (await client.get("/login")).get_data(as_text=True)
        return await client.open(path, method=method, form={"csrf_token": csrf_from(page)})
    return await client.open(path, method=method)


async def test_every_route_is_in_the_table(app: Quart) -> None:
    """No route can be added without saying who may call it."""
    missing = sorted({endpoint for endpoint, _, _ in _routes(app)} - set(ROUTES))
    assert not missing, f"routes without an access rule in ROUTES: {missing}"
    stale = sorted(set(ROUTES) - {endpoint for endpoint, _, _ in _routes(app)})
    assert not stale, f"ROUTES names routes the app no longer has: {stale}"


async def test_signed_out_gets_login_or_401(app: Quart, alice: Owner) -> None:
    """Without a session, pages redirect to /login and the API answers 401 with its
    error shape; public routes answer without any of Alice's data."""
    checked = 0
    for endpoint, method, _ in _routes(app):
        spec = ROUTES[endpoint]
        client = app.test_client()
        path = _path(app, endpoint, method, alice.values())
        response = await _call(client, method, path, spec, alice.values())
        body = await response.get_data(as_text=True)
        where = f"{method} {path}"
        if isinstance(spec, Page):
            assert response.status_code == 302, where
            assert response.headers["Location"].startswith("/login?next="), where
        elif isinstance(spec, Api):
            assert response.status_code == 401, where
            assert (await response.get_json())["error"]["code"] == "unauthorized", where
        else:
            assert response.status_code < 500, where
        assert not alice.leaked(body, path), where
        checked += 1
    assert checked == len(_routes(app))


async def test_another_user_never_gets_alices_data(
    app: Quart, services: Services, alice: Owner
) -> None:
    """Bob, signed in and with his own token, asking for Alice's job ids, token id and
    upload key: 404 (403 for a key), and no response of any route carries her data."""
    bob = await person(app, services)
    for endpoint, method, _ in _routes(app):
        spec = ROUTES[endpoint]
        if isinstance(spec, Page) and spec.stream:
            continue
        path = _path(app, endpoint, method, alice.values())
        response = await _call(bob.client, method, path, spec, alice.values(), token=bob.token)
        body = await response.get_data(as_text=True)
        where = f"{method} {path}"
        owned = getattr(spec, "owned", None)
        if owned == "key":
            assert response.status_code == 403, where
        elif owned:
            assert response.status_code == 404, where
        else:
            assert response.status_code < 500, where
        assert not alice.leaked(body, path), where
    # Bob's revoke of her token id did nothing: it still works.
    me = await app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {alice.person.token}"})
    assert me.status_code == 200


async def test_the_owner_reaches_every_owned_route(app: Quart, alice: Owner) -> None:
    """The control: Alice's own session and token open the routes Bob was refused,
    so the 404s above are about ownership, not a broken request."""
    for endpoint, method, _ in _routes(app):
        spec = ROUTES[endpoint]
        # Her job completed, so resubmitting or cancelling it is refused (409), and deleting it
        # would leave the other routes nothing to open: tests/web/test_resubmit.py and
        # tests/web/test_job_control.py are the owner's controls for those routes.
        if not getattr(spec, "owned", None) or endpoint in UNCONTROLLED:
            continue
        path = _path(app, endpoint, method, alice.values())
        response = await _call(alice.person.client, method, path, spec, alice.values(),
                               token=alice.person.token)
        assert response.status_code in (200, 201, 302, 303), f"{method} {path}: {response.status_code}"
