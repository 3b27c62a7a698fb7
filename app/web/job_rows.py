"""The job list's rows, rendered once for each distinct content and reused after.

Every open tab fetches the rows again on each job event and each poll, and
usually nothing they show has changed. Rendering 50 rows was most of the
page's cost (bench/web.py), so the HTML is kept, keyed by the job summaries it
was rendered from, which are all the template may show: a job that moved on
(status, progress) is a new key and renders afresh, so nothing needs
invalidating, and rows are only ever served to a request whose own query
returned those same jobs. A pending or running job's row holds a "Cancel" form, whose
CSRF token is the session's: such rows are kept per token too.
"""

from __future__ import annotations

from cachetools import LRUCache
from markupsafe import Markup
from quart import current_app, render_template

from app.jobs.job import JobSummary
from app.web import csrf
from app.web.notices import UNFINISHED

# Rendered rows kept per process, counted in characters (~17,000 for 50 jobs).
CACHE_CHARACTERS = 8 << 20
_CACHE = "gas_job_rows"  # the app's cache, in app.extensions


async def render(jobs: list[JobSummary], more: bool) -> Markup:
    cache: LRUCache[tuple[tuple[JobSummary, ...], bool, str], str] | None = current_app.extensions.get(_CACHE)
    if cache is None:
        cache = current_app.extensions[_CACHE] = LRUCache(maxsize=CACHE_CHARACTERS, getsizeof=len)
    unfinished = any(job.status in UNFINISHED for job in jobs)
    key = (tuple(jobs), more, csrf.token() if unfinished else "")
    html = cache.get(key)
    if html is None:
        html = cache[key] = await render_template("fragments/job_rows.html", jobs=jobs, more=more)
    return Markup(html)
