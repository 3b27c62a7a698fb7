"""A job's end reaches its page with its notice without the event stream: the fragment
a page fetches (polling, or on its stream's (re)connect) brings the notice when it
first shows the job ended, the same notice the stream sends."""

from __future__ import annotations

import re
from html import unescape

from quart.testing import QuartClient

from app.jobs.job import COMPLETED, FAILED, PENDING, RUNNING, utcnow
from app.jobs.lifecycle import JobEvent
from app.services import Services
from app.web import events
from tests.job_states import advance
from tests.web.test_events import read_until
from tests.web.test_pages import signed_up_user, signed_up_with_job

FRAGMENT = {"HX-Request": "true"}
NOTICES = re.compile(r'<template><div hx-swap-oob="afterbegin:#notices">(.*?)</div></template>', re.S)


def notices_in(html: str) -> list[str]:
    return [n for block in NOTICES.findall(html) for n in re.findall(r"<p .*?</p>", block, re.S)]


def polled_url(html: str) -> str:
    found = re.search(r'hx-get="([^"]+)"', html)
    assert found, html
    return unescape(found.group(1))


async def fetch_again(client: QuartClient, url: str, shown_by: str) -> str:
    """The fragment the page asks for, sending what ``shown_by`` (its HTML) shows."""
    shown = re.findall(r'<input type="hidden" name="(shown|unfinished)" value="([^"]+)">', shown_by)
    response = await client.get(url, query_string=[(k, unescape(v)) for k, v in shown], headers=FRAGMENT)
    return str(await response.get_data(as_text=True))


async def test_job_page_fragment_brings_the_notice_once_the_job_ends(
    client: QuartClient, services: Services
) -> None:
    """The job page asks again with the status it shows; the answer that first shows the
    job completed carries the stream's "finished" notice for it, and the next (the page
    now showing it completed) none."""
    job = await signed_up_with_job(client, services, "quick.vcf")
    page = await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True)
    url = polled_url(page)
    fragment = await fetch_again(client, url, page)
    assert notices_in(fragment) == []

    await services.jobs.transition(job.job_id, [PENDING], RUNNING, started_at=utcnow(), progress=50)
    fragment = await fetch_again(client, url, fragment)
    assert notices_in(fragment) == [] and "badge-running" in fragment

    await services.jobs.transition(job.job_id, [RUNNING], COMPLETED, completed_at=utcnow(), progress=100)
    fragment = await fetch_again(client, url, fragment)
    stream_notice = events._notice(JobEvent(job.job_id, COMPLETED, 100, file="quick.vcf")).decode()
    print("notice:", notices_in(fragment))
    assert notices_in(fragment) == [stream_notice.removeprefix("event: notice\ndata: ").strip()]
    assert "finished" in notices_in(fragment)[0] and "badge-completed" in fragment
    assert notices_in(await fetch_again(client, url, fragment)) == []


async def test_failed_job_fragment_brings_the_failed_notice_and_the_reason(
    client: QuartClient, services: Services
) -> None:
    """A job that fails while its page shows it pending: the fragment shows the reason
    and carries the "failed" notice."""
    job = await signed_up_with_job(client, services, "broken.vcf")
    page = await (await client.get(f"/annotations/{job.job_id}")).get_data(as_text=True)
    await services.jobs.transition(job.job_id, [PENDING], FAILED, completed_at=utcnow(),
                                   error="Line 7: POS is not a number")
    fragment = await fetch_again(client, polled_url(page), page)
    assert "Line 7: POS is not a number" in fragment
    [notice] = notices_in(fragment)
    assert f'data-notice="{job.job_id}:failed"' in notice and "broken.vcf</a> failed." in notice


async def test_job_list_rows_bring_the_notices_of_jobs_they_showed_unfinished(
    client: QuartClient, services: Services
) -> None:
    """The list's rows name the jobs they show unfinished, and the rows fetched next
    carry a notice for each of those that has ended since, and for no other job."""
    job = await signed_up_with_job(client, services, "listed.vcf")
    page = await (await client.get("/annotations")).get_data(as_text=True)
    assert f'name="unfinished" value="{job.job_id}"' in page
    assert 'hx-include="#job-rows [name=unfinished]"' in page
    url = polled_url(page)
    await advance(services.jobs, job.job_id, COMPLETED, completed_at=utcnow(), progress=100)
    rows = await (await client.get(url, headers=FRAGMENT)).get_data(as_text=True)
    assert notices_in(rows) == [], "the page did not say it showed the job unfinished"
    rows = await fetch_again(client, url, page)
    assert 'name="unfinished"' not in rows
    [notice] = notices_in(rows)
    assert f'data-notice="{job.job_id}:completed"' in notice and "listed.vcf</a> finished." in notice
    assert notices_in(await fetch_again(client, url, rows)) == []


async def test_an_event_sent_as_the_stream_opens_is_not_lost(
    client: QuartClient, services: Services
) -> None:
    """The stream is subscribed by the time its first bytes reach the browser (which then
    fetches its page's state): an event published at that moment is delivered. (In
    process the old order, subscribing after the first frame, won the race too: this
    guards the outcome; e2e/test_job_status.py the browser's side.)"""
    user = await signed_up_user(client, services)
    async with client.request("/events") as connection:
        await connection.send_complete()
        await read_until(connection, b"retry:")
        await services.events.publish(user.user_id, {"type": "job", "job_id": "j-1",
                                                     "status": COMPLETED, "progress": 100})
        data = await read_until(connection, b"event: notice", within=3)
        await connection.disconnect()
    assert b"event: job-j-1" in data
