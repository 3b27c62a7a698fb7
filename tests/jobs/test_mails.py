"""The mails about a job, rendered from app/templates/mail/: the plain text is laid out as it
always was, and the HTML escapes what a person named (a file name is theirs to choose)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from app.config import Settings
from app.jobs import mails
from app.jobs.job import Job

SETTINGS = Settings(public_url="http://gas.test/", free_retention_seconds=5400)


def job(name: str, day: int = 1, status: str = "completed") -> Job:
    return Job(job_id=str(uuid.uuid4()), user_id="u", input_file_name=name, input_bucket="b", input_key="k",
               input_size=1, submitted_at=datetime(2026, 1, day, tzinfo=UTC), status=status,  # type: ignore[arg-type]
               completed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), variant_count=1234)


def test_a_completed_job_mail_for_a_free_account() -> None:
    done = job("a.vcf")
    subject, text, _ = mails.finished(SETTINGS, done, premium=False)
    assert subject == "a.vcf: results ready"
    assert text == (
        "Your annotation of a.vcf completed at 2026-01-02 03:04:05 UTC.\n\n"
        "1,234 variants were annotated.\n\n"
        "Free accounts can download results for 90 minutes; after that they are archived until you "
        "upgrade to Premium.\n\n"
        f"See the job: http://gas.test/annotations/{done.job_id}\n\n"
        "— GAS, the Genomics Annotation Service\n"
    )


def test_html_escapes_the_file_name_and_the_reason() -> None:
    failed = job("<b>x</b>.vcf", status="failed")
    failed.error = "Line 7: <script>"
    subject, text, html = mails.finished(SETTINGS, failed, premium=True)
    assert subject == "<b>x</b>.vcf: annotation failed"
    assert "Your annotation of <b>x</b>.vcf failed.\n\nWhy: Line 7: <script>\n\n" in text
    assert "&lt;b&gt;x&lt;/b&gt;.vcf" in html and "&lt;script&gt;" in html
    assert "<b>" not in html and "<script>" not in html


def test_the_restored_digest_lists_every_result_oldest_first() -> None:
    newer, older = job("new.vcf", day=3), job("old.vcf", day=1)
    subject, text, html = mails.restored(SETTINGS, [newer, older])
    assert subject == "2 results are back from the archive"
    assert text.index(f"old.vcf: http://gas.test/annotations/{older.job_id}") < text.index("new.vcf")
    assert "See your jobs: http://gas.test/annotations\n\n" in text
    assert '<a href="http://gas.test/annotations">See your jobs</a>' in html
    one_subject, one_text, _ = mails.restored(SETTINGS, [older])
    assert one_subject == "old.vcf: results are back"
    assert f"See the job: http://gas.test/annotations/{older.job_id}" in one_text
