"""The line a page's notices area shows when a job ends ("finished" or "failed").

It reaches the page two ways, and says the same either way: over the event stream
(app/web/events.py), and with the fragment that first shows the page a job it saw
unfinished has ended (app/web/jobs.py), for a page that polls or that missed the
event before its stream opened. A page that gets both keeps one: ``data-notice``
names the job and its end (app/static/app.js).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from app.jobs.job import COMPLETED, FINISHED, PENDING, RUNNING, Status

# What the page said the job was when it asked again: only these can have ended since.
UNFINISHED = (PENDING, RUNNING)


def notice(job_id: str, file: str | None, status: str) -> str:
    """The notice of job ``job_id`` ending in ``status``; ``file`` names it when known."""
    job = escape(job_id)
    name = escape(file or job_id)
    verb = "finished" if status == COMPLETED else "failed"
    return (f'<p class="notice-item notice-{escape(status)}" data-notice="{job}:{escape(status)}">'
            f'Job <a href="/annotations/{job}">{name}</a> {verb}.</p>')


def ended(shown: str | None, status: Status) -> bool:
    """Whether a job the page showed as ``shown`` has ended since, now being ``status``."""
    return shown in UNFINISHED and status in FINISHED


def out_of_band(lines: Iterable[str]) -> str:
    """The notices, to ride with a fragment into the notices area (an htmx out-of-band
    swap); in a template element, so a response of table rows parses them too."""
    html = "".join(lines)
    return f'<template><div hx-swap-oob="afterbegin:#notices">{html}</div></template>' if html else ""
