"""Real local services with retention and restore delays of seconds, and helpers
to make jobs in each state and to hand a daemon a message as the bus would."""

from __future__ import annotations

import email
import email.policy
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from email.message import EmailMessage

import pytest

from app.accounts import users
from app.accounts.users import User
from app.config import Settings
from app.jobs.job import COMPLETED, PENDING, Job, input_key, result_prefix, utcnow
from app.ports.bus import Message
from app.services import Services, open_services
from tests.conftest import installed_reference
from tests.job_states import advance

RETENTION = 2


@pytest.fixture(scope="module")
async def services(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("gas"), database_url=database_url,
        public_url="http://gas.test", cookie_secure=False, secret_key="test-secret",
        queue_wait_seconds=0.2, reference_dir=installed_reference(),
        free_retention_seconds=RETENTION, local_restore_expedited_seconds=1,
        local_restore_standard_seconds=2,
    )
    opened = await open_services(settings)
    yield opened
    await opened.close()


@pytest.fixture(autouse=True)
async def _empty_queues(services: Services) -> None:
    """Each test starts with no messages left over from another."""
    await services.db.execute("DELETE FROM queue_messages")


async def make_user(services: Services, role: users.Role = "free") -> User:
    return await users.create(services.db, f"{uuid.uuid4().hex[:10]}@example.org", "password123",
                              name="Ada", role=role)


async def make_job(services: Services, user: User, *, status: str = COMPLETED,
                   age: float = RETENTION + 1, storage: str | None = "hot") -> Job:
    """A job as the annotator leaves it; completed ``age`` seconds ago with a hot result."""
    job_id = str(uuid.uuid4())
    settings = services.settings
    job = Job(job_id=job_id, user_id=user.user_id, input_file_name="in.vcf",
              input_bucket=settings.inputs_bucket, input_key=input_key(user.user_id, job_id, "in.vcf"),
              input_size=10, submitted_at=utcnow() - timedelta(seconds=age + 5), status=PENDING)
    assert await services.jobs.create(job)
    if status == COMPLETED:
        key = f"{result_prefix(user.user_id, job_id)}in.annot.vcf"
        await services.objects.put_bytes(settings.results_bucket, key, b"##fileformat=VCFv4.2\n",
                                         "text/x-vcf")
        assert await advance(
            services.jobs, job_id, COMPLETED, completed_at=utcnow() - timedelta(seconds=age),
            result_bucket=settings.results_bucket, result_key=key, storage=storage, progress=100,
        )
    elif status != PENDING:
        assert await advance(services.jobs, job_id, status, completed_at=utcnow(),  # type: ignore[arg-type]
                             error="The uploaded file is no longer in storage.")
    found = await services.jobs.get(job_id)
    assert found is not None
    return found


def message(queue: str, body: Mapping[str, object]) -> Message:
    """A delivery of ``body`` as the consumer loop hands it over."""
    return Message(queue, str(uuid.uuid4()), json.dumps(body), str(uuid.uuid4()), 1)


def outbox(services: Services) -> list[EmailMessage]:
    found = []
    for path in sorted((services.settings.data_path / "outbox").glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found


def mail_to(services: Services, user: User) -> list[EmailMessage]:
    return [m for m in outbox(services) if m["To"] == user.email]
