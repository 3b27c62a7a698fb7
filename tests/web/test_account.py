"""The account a person manages from /profile and from mailed links (app/web/account.py,
app/web/password_reset.py): verified email, password reset and change, email change,
name and institution."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import uuid
from email.message import EmailMessage
from typing import Any

import pytest
from quart import Quart
from quart.testing import QuartClient

from app.accounts import users
from app.ports.mail import MailRefused
from app.services import Services
from tests.consuming import eventually
from tests.web.conftest import bearer, csrf_from
from tests.web.sessions import PASSWORD, Person, log_in, person

PUBLIC = "http://localhost"  # the services fixture's GAS_PUBLIC_URL


async def mails_to(services: Services, address: str) -> list[EmailMessage]:
    """The mails in the outbox to ``address`` (async, for ``eventually``)."""
    found = []
    for path in sorted((services.settings.data_path / "outbox").glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        if parsed["To"] == address:
            found.append(parsed)
    return found


def link_in(mail: EmailMessage, kind: str) -> str:
    """The path of the one-time link of ``kind`` in the mail's plain text (and the same in its HTML)."""
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [link] = re.findall(rf"{re.escape(PUBLIC)}(/{kind}/[A-Za-z0-9_-]+)", text)
    assert link in mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return link


async def post_page_form(client: QuartClient, path: str, form: dict[str, str], page: str = "/profile",  # type: ignore[no-untyped-def]
                         **headers: str):
    """POST ``form`` to ``path`` with the CSRF token of ``page``, as its browser would."""
    token = csrf_from(await (await client.get(page)).get_data(as_text=True))
    return await client.post(path, form={**form, "csrf_token": token}, headers=headers)


async def signed_in(client: QuartClient) -> bool:
    return (await client.get("/profile")).status_code == 200


def fresh_email() -> str:
    return f"{uuid.uuid4().hex[:10]}@example.org"


async def test_sign_up_mails_a_link_that_confirms_the_address_once(app: Quart, services: Services) -> None:
    """Sign-up leaves the address unconfirmed and mails a link built from GAS_PUBLIC_URL (not the
    request's Host); opening it only asks (scanners open links), the button confirms, and the link
    then works no more."""
    address = fresh_email()
    client = app.test_client()
    response = await post_page_form(client, "/signup", {"email": address, "password": PASSWORD},
                                    page="/signup", Host="evil.example")
    assert response.status_code == 302
    profile = await (await client.get("/profile")).get_data(as_text=True)
    assert "not confirmed yet" in profile
    [mail] = await mails_to(services, address)
    assert mail["Subject"] == "Confirm your email address for GAS"
    link = link_in(mail, "verify-email")
    assert (await client.get(link)).status_code == 200
    user = await users.get_by_email(services.db, address)
    assert user is not None and not user.verified
    done = await post_page_form(client, link, {}, page=link)
    assert done.status_code == 303
    assert "Your email address is confirmed." in await (await client.get("/profile")).get_data(as_text=True)
    assert (await users.get_by_email(services.db, address)).verified  # type: ignore[union-attr]
    assert (await client.get(link)).status_code == 404
    assert (await post_page_form(client, link, {})).status_code == 404


async def test_resend_sends_another_link_up_to_the_hourly_cap(app: Quart, services: Services) -> None:
    """"Send the link again" on /profile mails a new link, until GAS_LINKS_PER_HOUR links went out
    this hour: then the page says so and no more mail is sent."""
    someone = await person(app, services)
    for _ in range(services.settings.links_per_hour):
        assert (await post_page_form(someone.client, "/profile/verify", {})).status_code == 303
    refused = await post_page_form(someone.client, "/profile/verify", {})
    assert refused.status_code == 400
    assert "Too many confirmation mails" in await refused.get_data(as_text=True)
    assert len(await mails_to(services, someone.user.email)) == services.settings.links_per_hour


async def test_forgot_password_answers_the_same_for_any_address(app: Quart, services: Services) -> None:
    """No account enumeration: an address with an account and one without get the same page;
    only the account's owner gets a mail."""
    someone = await person(app, services)
    stranger = fresh_email()
    pages = []
    for address in (someone.user.email, stranger):
        response = await post_page_form(app.test_client(), "/forgot-password", {"email": address},
                                        page="/forgot-password")
        assert response.status_code == 200
        html = (await response.get_data(as_text=True)).replace(address, "ADDRESS")
        pages.append(re.sub(r'"X-CSRF-Token": "[^"]+"', "", html))
    assert pages[0] == pages[1]
    await eventually(lambda: mails_to(services, someone.user.email))
    await asyncio.sleep(0.3)  # what the stranger's request would have sent by now
    assert len(await mails_to(services, someone.user.email)) == 1
    assert await mails_to(services, stranger) == []


async def test_forgot_password_mails_after_answering(
    app: Quart, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer does not wait for the mail: a slow mail server (SES, SMTP) would otherwise make
    an address with an account answer later than one without."""
    someone = await person(app, services)
    sent = asyncio.Event()
    slow_send = services.mail.send

    async def slow(*args: object, **kwargs: object) -> None:
        await asyncio.sleep(1)
        await slow_send(*args, **kwargs)  # type: ignore[arg-type]
        sent.set()

    monkeypatch.setattr(services.mail, "send", slow)
    client = app.test_client()
    started = asyncio.get_running_loop().time()
    await post_page_form(client, "/forgot-password", {"email": someone.user.email}, page="/forgot-password")
    assert asyncio.get_running_loop().time() - started < 0.9
    await asyncio.wait_for(sent.wait(), 10)


async def test_reset_sets_the_password_ends_every_session_and_unlocks(
    app: Quart, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reset link's page sets a new password under sign-up's rules; it signs out every session
    of the account, clears the failed log-ins a stranger piled on it, confirms the address (the
    mail was read), and the link works once."""
    someone = await person(app, services)
    monkeypatch.setattr(services.settings, "login_failures_per_account", 2)
    for _ in range(2):
        await log_in(app.test_client(), someone.user.email, "wrong guess")
    assert (await log_in(app.test_client(), someone.user.email)).status_code == 429
    await post_page_form(app.test_client(), "/forgot-password", {"email": someone.user.email},
                         page="/forgot-password")
    [mail] = await eventually(lambda: mails_to(services, someone.user.email))
    link = link_in(mail, "reset-password")
    browser = app.test_client()
    weak = await post_page_form(browser, link, {"password": "short"}, page=link)
    assert weak.status_code == 400 and "at least 8 characters" in await weak.get_data(as_text=True)
    done = await post_page_form(browser, link, {"password": "a new long password"}, page=link)
    assert done.status_code == 200 and "signed out" in await done.get_data(as_text=True)
    assert not await signed_in(someone.client)
    assert (await log_in(app.test_client(), someone.user.email)).status_code == 401
    assert (await log_in(app.test_client(), someone.user.email, "a new long password")).status_code == 302
    assert (await users.get(services.db, someone.user.user_id)).verified  # type: ignore[union-attr]
    again = await post_page_form(browser, link, {"password": "yet another one"}, page="/login")
    assert again.status_code == 404


async def test_change_password_needs_the_current_one_and_signs_out_the_others(
    app: Quart, services: Services
) -> None:
    """Changing the password asks for the current one; it then ends every other session of the
    account, and this browser stays signed in."""
    someone = await person(app, services)
    other = app.test_client()
    assert (await log_in(other, someone.user.email)).status_code == 302
    wrong = await post_page_form(someone.client, "/profile/password",
                                 {"current_password": "not it", "new_password": "a new long password"})
    assert wrong.status_code == 400 and "not your current password" in await wrong.get_data(as_text=True)
    weak = await post_page_form(someone.client, "/profile/password",
                                {"current_password": PASSWORD, "new_password": "short"})
    assert weak.status_code == 400
    done = await post_page_form(someone.client, "/profile/password",
                                {"current_password": PASSWORD, "new_password": "a new long password"})
    assert done.status_code == 303
    assert await signed_in(someone.client) and not await signed_in(other)
    assert await users.authenticate(services.db, someone.user.email, "a new long password") is not None


async def test_guessing_the_current_password_is_limited_as_log_ins_are(
    app: Quart, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser left signed in cannot be used to guess the password through the change forms:
    wrong current passwords count as failed log-ins, and past the limit even the right one is
    refused for a while, in the log-in page's words."""
    monkeypatch.setattr(services.settings, "login_failures_per_account_and_ip", 2)
    someone = await person(app, services)
    for _ in range(2):
        await post_page_form(someone.client, "/profile/email", {"email": fresh_email(), "password": "guess"})
    right = await post_page_form(someone.client, "/profile/password",
                                 {"current_password": PASSWORD, "new_password": "a new long password"})
    assert right.status_code == 400
    assert "Too many failed log-ins for this account" in await right.get_data(as_text=True)
    assert await users.authenticate(services.db, someone.user.email, PASSWORD) is not None


async def test_email_changes_only_when_the_link_to_the_new_address_is_opened(
    app: Quart, services: Services
) -> None:
    """An email change needs the password; it mails a link to the new address and a notice to the
    old one, and the address changes (confirmed) only when the link is used. A verification link
    to the old address then confirms nothing."""
    someone = await person(app, services)
    await post_page_form(someone.client, "/profile/verify", {})
    old_link = link_in((await mails_to(services, someone.user.email))[-1], "verify-email")
    new = fresh_email()
    refused = await post_page_form(someone.client, "/profile/email", {"email": new, "password": "not it"})
    assert refused.status_code == 400 and await mails_to(services, new) == []
    asked = await post_page_form(someone.client, "/profile/email", {"email": new, "password": PASSWORD})
    assert asked.status_code == 303
    notice = (await mails_to(services, someone.user.email))[-1]
    assert new in notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert (await users.get(services.db, someone.user.user_id)).email == someone.user.email  # type: ignore[union-attr]
    link = link_in((await mails_to(services, new))[-1], "change-email")
    assert (await post_page_form(someone.client, link, {}, page=link)).status_code == 303
    changed = await users.get(services.db, someone.user.user_id)
    assert changed is not None and changed.email == new and changed.verified
    assert (await post_page_form(someone.client, old_link, {})).status_code == 404


async def test_email_change_to_an_address_in_use_is_refused(app: Quart, services: Services) -> None:
    """Another account's address (in any case) is refused with a reason, and nothing is mailed."""
    someone, other = await person(app, services), await person(app, services)
    refused = await post_page_form(someone.client, "/profile/email",
                                   {"email": other.user.email.upper(), "password": PASSWORD})
    assert refused.status_code == 400
    assert "Another account has this address" in await refused.get_data(as_text=True)
    assert all(m["Subject"] != "Confirm your new email address for GAS"
               for m in await mails_to(services, other.user.email.upper()))


async def test_name_and_institution_are_editable_within_limits(app: Quart, services: Services) -> None:
    """Name and institution are saved from /profile and shown by the API's /me; one too long or
    with a line break is refused with a clear error and nothing is saved."""
    someone: Person = await person(app, services)
    saved = await post_page_form(someone.client, "/profile",
                                 {"name": "Rosalind Franklin", "institution": "King's College London"})
    assert saved.status_code == 303
    me = await (await app.test_client().get("/api/v1/me", headers=bearer(someone.token))).get_json()
    assert me["name"] == "Rosalind Franklin" and me["institution"] == "King's College London"
    assert me["email_verified"] is False
    too_long = await post_page_form(someone.client, "/profile", {"name": "x" * 101, "institution": ""})
    assert too_long.status_code == 400
    assert "Use at most 100 characters (this has 101)." in await too_long.get_data(as_text=True)
    broken = await post_page_form(someone.client, "/profile", {"name": "A", "institution": "line\nbreak"})
    assert broken.status_code == 400 and "no line breaks" in await broken.get_data(as_text=True)
    user = await users.get(services.db, someone.user.user_id)
    assert user is not None
    assert (user.name, user.institution) == ("Rosalind Franklin", "King's College London")



def refusing(services: Services, address: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The mail service refuses ``address`` for good (an SES sandbox's unverified recipient)."""
    send = services.mail.send

    async def refuse(to: str, *args: Any, **kwargs: Any) -> None:
        if to.lower() == address.lower():
            raise MailRefused(f"MessageRejected: Email address is not verified: {to}")
        await send(to, *args, **kwargs)

    monkeypatch.setattr(services.mail, "send", refuse)


async def test_a_refused_link_mail_is_said_on_the_page_not_a_500(
    app: Quart, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the mail service refuses a link mail for good, "Send the link again" and an email
    change answer the form with what happened and what to do (never a server error, never the
    service's own words); an email change whose notice to the old address is refused still
    mails its link."""
    someone = await person(app, services)
    refusing(services, someone.user.email, monkeypatch)
    again = await post_page_form(someone.client, "/profile/verify", {})
    said = await again.get_data(as_text=True)
    assert again.status_code == 400
    assert f"We could not mail {someone.user.email}: the mail service refused it." in said
    assert "MessageRejected" not in said

    new = fresh_email()
    asked = await post_page_form(someone.client, "/profile/email", {"email": new, "password": PASSWORD})
    assert asked.status_code == 303  # the old address's notice refused; the link went out
    assert len(await mails_to(services, new)) == 1

    other = await person(app, services)
    unmailable = fresh_email()
    refusing(services, unmailable, monkeypatch)
    change = await post_page_form(other.client, "/profile/email", {"email": unmailable, "password": PASSWORD})
    assert change.status_code == 400
    said = await change.get_data(as_text=True)
    assert f"We could not mail {unmailable}: the mail service refused it." in said
