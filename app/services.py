"""Everything a GAS process talks to, built once from settings.

Web, annotator and daemons all start from :func:`open_services`, so the choice of
adapters (local or AWS) is made in exactly one place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from databases import Database

from app.config import Settings
from app.infra import db as dbmod
from app.jobs.lifecycle import TOPICS, queue_specs
from app.ports.bus import Bus
from app.ports.cold import ColdTier
from app.ports.events import Events
from app.ports.jobs import JobStore
from app.ports.mail import Mailer
from app.ports.objects import ObjectStore
from app.ports.payments import Payments

if TYPE_CHECKING:  # aioboto3 is imported only by processes that use the aws backend
    from app.ports.aws import AwsSession

log = logging.getLogger(__name__)

@dataclass
class Services:
    settings: Settings
    db: Database
    objects: ObjectStore
    jobs: JobStore
    bus: Bus
    mail: Mailer
    events: Events
    cold: ColdTier
    payments: Payments
    _embedded: dbmod.EmbeddedPostgres | None = field(default=None, repr=False)
    _aws: AwsSession | None = field(default=None, repr=False)

    async def close(self) -> None:
        await self.events.close()
        await self.bus.close()
        if self._aws is not None:
            await self._aws.close()
        await self.db.disconnect()
        if self._embedded is not None:
            self._embedded.stop()


def make_payments(settings: Settings) -> Payments:
    """Stripe when its keys are set, else the test mode that takes only test cards."""
    if settings.stripe_secret_key:
        from app.ports.payments.stripe import StripePayments

        if not settings.stripe_price_id:
            raise ValueError("STRIPE_PRICE_ID is needed with STRIPE_SECRET_KEY: the Premium price.")
        return StripePayments(
            settings.stripe_secret_key, settings.stripe_webhook_secret, settings.stripe_price_id,
            api_base=settings.stripe_api_base,
        )
    from app.ports.payments import Price
    from app.ports.payments.local import LocalPayments

    return LocalPayments(Price(
        settings.test_price_amount, settings.test_price_currency, settings.test_price_interval or None
    ))


def _local_services(
    settings: Settings, db: Database, url: str, embedded: dbmod.EmbeddedPostgres | None
) -> Services:
    from app.ports.bus.local import PostgresBus
    from app.ports.cold.local import LocalColdTier
    from app.ports.events.local import PostgresEvents
    from app.ports.jobs.local import PostgresJobStore
    from app.ports.mail.local import OutboxMailer, SmtpMailer
    from app.ports.objects.local import LocalObjectStore

    data = settings.data_path
    mail: Mailer = (
        SmtpMailer(settings.smtp_url, settings.mail_from)
        if settings.smtp_url
        else OutboxMailer(data / "outbox", settings.mail_from)
    )
    objects = LocalObjectStore(
        Path(data / "objects"), settings.secret, settings.public_url.rstrip("/") + "/objects"
    )
    bus = PostgresBus(db, url)
    return Services(
        settings=settings,
        db=db,
        objects=objects,
        jobs=PostgresJobStore(db),
        bus=bus,
        mail=mail,
        events=PostgresEvents(db, url),
        cold=LocalColdTier(
            objects, data / "cold", bus,
            expedited_seconds=settings.local_restore_expedited_seconds,
            standard_seconds=settings.local_restore_standard_seconds,
            expedited_available=settings.local_expedited_available,
        ),
        payments=make_payments(settings),
        _embedded=embedded,
    )


def _aws_services(
    settings: Settings, db: Database, url: str, embedded: dbmod.EmbeddedPostgres | None
) -> Services:
    """S3, DynamoDB, SNS/SQS and SES; users and live events stay in PostgreSQL (RDS)."""
    from app.ports.aws import AwsSession
    from app.ports.bus.aws import SnsSqsBus
    from app.ports.cold.aws import S3ColdTier
    from app.ports.events.local import PostgresEvents
    from app.ports.jobs.aws import DynamoJobStore
    from app.ports.mail.aws import CONFIGURATION_SET, SesMailer
    from app.ports.objects.aws import S3ObjectStore

    aws = AwsSession(settings.aws_region, settings.aws_endpoint_url)
    bus = SnsSqsBus(aws, settings.aws_name_prefix)
    return Services(
        settings=settings,
        db=db,
        objects=S3ObjectStore(aws),
        jobs=DynamoJobStore(aws, settings.jobs_table),
        bus=bus,
        mail=SesMailer(aws, settings.mail_from, f"{settings.aws_name_prefix}{CONFIGURATION_SET}"),
        events=PostgresEvents(db, url),
        cold=S3ColdTier(aws, bus, settings.aws_cold_storage_class),
        payments=make_payments(settings),
        _embedded=embedded,
        _aws=aws,
    )


async def open_services(settings: Settings) -> Services:
    data = settings.data_path
    data.mkdir(parents=True, exist_ok=True)
    embedded = None
    url = settings.database_url
    if not url:
        embedded = dbmod.EmbeddedPostgres(data)
        url = embedded.start()
    try:
        db = await dbmod.connect(url, max_size=settings.db_pool_size)
        await dbmod.migrate(db)
        if settings.backend == "aws":
            services = _aws_services(settings, db, url, embedded)
        else:
            services = _local_services(settings, db, url, embedded)
        # On AWS the stack (`gas aws provision`) makes the queues unless asked otherwise.
        if settings.backend == "local" or settings.aws_ensure_queues:
            await services.bus.ensure(queue_specs(settings), TOPICS)
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise
    return services
