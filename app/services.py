"""Everything a GAS process talks to, built once from settings.

Web, annotator and daemons all start from :func:`open_services`, so the choice of
adapters (local or AWS) is made in exactly one place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from databases import Database

from app import db as dbmod
from app.config import Settings
from app.ports.bus import TOPICS, Bus, QueueSpec
from app.ports.events import Events
from app.ports.jobs import JobStore
from app.ports.mail import Mailer
from app.ports.objects import ObjectStore

log = logging.getLogger(__name__)


def queue_specs(settings: Settings) -> list[QueueSpec]:
    vis, receives = settings.queue_visibility_seconds, settings.queue_max_receives
    return [
        QueueSpec("job-requests", 0, vis, receives),
        QueueSpec("job-results-notify", 0, vis, receives),
        QueueSpec("job-results-archive", 0, vis, receives),
        QueueSpec("user-upgraded", 0, vis, receives),
        QueueSpec("restore-complete", 0, vis, receives),
    ]


@dataclass
class Services:
    settings: Settings
    db: Database
    objects: ObjectStore
    jobs: JobStore
    bus: Bus
    mail: Mailer
    events: Events
    _embedded: dbmod.EmbeddedPostgres | None = field(default=None, repr=False)

    async def close(self) -> None:
        await self.events.close()
        await self.bus.close()
        await self.db.disconnect()
        if self._embedded is not None:
            self._embedded.stop()


async def open_services(settings: Settings) -> Services:
    from app.ports.bus.local import PostgresBus
    from app.ports.events.local import PostgresEvents
    from app.ports.jobs.local import PostgresJobStore
    from app.ports.mail.local import OutboxMailer, SmtpMailer
    from app.ports.objects.local import LocalObjectStore

    data = settings.data_path
    data.mkdir(parents=True, exist_ok=True)
    embedded = None
    url = settings.database_url
    if not url:
        embedded = dbmod.EmbeddedPostgres(data)
        url = embedded.start()
    try:
        db = await dbmod.connect(url)
        await dbmod.migrate(db)
        mail: Mailer = (
            SmtpMailer(settings.smtp_url, settings.mail_from)
            if settings.smtp_url
            else OutboxMailer(data / "outbox", settings.mail_from)
        )
        services = Services(
            settings=settings,
            db=db,
            objects=LocalObjectStore(
                Path(data / "objects"), settings.secret, settings.public_url.rstrip("/") + "/objects"
            ),
            jobs=PostgresJobStore(db),
            bus=PostgresBus(db, url),
            mail=mail,
            events=PostgresEvents(db, url),
            _embedded=embedded,
        )
        await services.bus.ensure(queue_specs(settings), TOPICS)
        await services.events.start()
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise
    return services
