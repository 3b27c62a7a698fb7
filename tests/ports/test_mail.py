"""Contract of the mail port: what is sent arrives as a well-formed RFC 5322 message."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.ports.mail.local import OutboxMailer

from .conftest import SENDER, MailHarness


async def test_message_has_text_and_html_parts(mail: MailHarness) -> None:
    """A sent message parses with ``email`` and carries both alternatives and the headers."""
    await mail.mailer.send(
        "ana@example.org", "Your job is done", "See https://gas.test/jobs/1",
        "<p>See <a href='https://gas.test/jobs/1'>your job</a></p>",
    )
    [message] = await mail.delivered()
    assert message["To"] == "ana@example.org"
    assert message["From"] == SENDER
    assert message["Subject"] == "Your job is done"
    assert message["Date"] and message["Message-ID"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and "https://gas.test/jobs/1" in text.get_content()
    assert html is not None and "<a href=" in html.get_content()


async def test_text_only_message(mail: MailHarness) -> None:
    """Without HTML the message is a single text/plain part, non-ASCII intact."""
    await mail.mailer.send("ana@example.org", "Résultats", "Bonjour Ana — c'est prêt.")
    [message] = await mail.delivered()
    assert message.get_content_type() == "text/plain"
    assert message["Subject"] == "Résultats"
    assert message.get_content().strip() == "Bonjour Ana — c'est prêt."


async def test_header_injection_is_refused(mail: MailHarness) -> None:
    """A subject carrying CR/LF cannot add headers: the send fails and nothing goes out."""
    with pytest.raises(ValueError):
        await mail.mailer.send("ana@example.org", "hi\r\nBcc: all@example.org", "x")
    assert await mail.delivered() == []


async def test_outbox_files_sort_by_time_and_are_whole(tmp_path: Path) -> None:
    """Outbox names sort in sending order and no temporary file is left behind."""
    mailer = OutboxMailer(tmp_path / "outbox", SENDER)
    for i in range(5):
        await mailer.send("ana@example.org", f"message {i}", "body")
    files = sorted((tmp_path / "outbox").iterdir())
    assert all(f.suffix == ".eml" for f in files)
    subjects = [f.read_text().split("Subject: ", 1)[1].split("\n", 1)[0] for f in files]
    assert subjects == [f"message {i}" for i in range(5)]
