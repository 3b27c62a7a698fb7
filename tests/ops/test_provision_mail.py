"""``gas aws provision`` makes mail work: the sender's SES identity and the configuration set
that records bounces and complaints, so a finished job's mail goes out with no manual step."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from app.config import Settings
from app.jobs.lifecycle import JobResult
from app.services import Services, open_services
from daemons import notify
from tests.conftest import MOTO_CREDENTIALS
from tests.daemons.conftest import make_job, make_user, message
from tests.ops.test_provision import client, provision


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names of this test's own (moto is shared by the session), a sender no other test
    verified, and moto's credentials for the processes' default chain."""
    tag = uuid.uuid4().hex[:8]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", MOTO_CREDENTIALS["access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", MOTO_CREDENTIALS["secret_access_key"])
    return {
        "GAS_AWS_NAME_PREFIX": f"gas{tag}-",
        "GAS_INPUTS_BUCKET": f"gas-{tag}-inputs",
        "GAS_RESULTS_BUCKET": f"gas-{tag}-results",
        "GAS_JOBS_TABLE": f"gas-{tag}-jobs",
        "GAS_MAIL_FROM": f"GAS <gas-{tag}@example.org>",
    }


@pytest.fixture
async def provisioned(moto_url: str, names: dict[str, str], database_url: str,
                      tmp_path: Path) -> AsyncIterator[tuple[Services, dict[str, Any]]]:
    """The stack provisioned from the settings, then the aws services a daemon opens."""
    # The command runs its own event loop: off this one.
    made = await asyncio.to_thread(provision, moto_url, names, f"gas-{uuid.uuid4().hex[:8]}", tmp_path)
    settings = Settings(
        backend="aws", aws_endpoint_url=moto_url, aws_region="us-east-1", database_url=database_url,
        data_dir=tmp_path, public_url="http://gas.test", secret_key="test-secret",
        aws_name_prefix=names["GAS_AWS_NAME_PREFIX"], inputs_bucket=names["GAS_INPUTS_BUCKET"],
        results_bucket=names["GAS_RESULTS_BUCKET"], jobs_table=names["GAS_JOBS_TABLE"],
        mail_from=names["GAS_MAIL_FROM"],
    )
    services = await open_services(settings)
    yield services, made
    await services.close()


async def test_a_finished_jobs_mail_goes_out_after_provisioning(
    moto_url: str, names: dict[str, str], provisioned: tuple[Services, dict[str, Any]]
) -> None:
    """Right after `gas aws provision` the notifier mails a job's owner through SES: the
    sender's identity was made (moto's CloudFormation has no AWS::SES::*, so through the
    API), and the mail goes through the configuration set, which suppresses bounced and
    complained addresses and publishes those events to mail-events. Before, SES refused
    it: MessageRejected, "Did not have authority to send from …"."""
    services, made = provisioned
    prefix, sender = names["GAS_AWS_NAME_PREFIX"], parseaddr(names["GAS_MAIL_FROM"])[1]
    assert {f"SES identity {sender}", f"SES configuration set {prefix}mail"} <= set(made["made_through_api"])
    assert made["outputs"]["MailConfigurationSet"] == f"{prefix}mail"

    configuration = client(moto_url, "sesv2").get_configuration_set(ConfigurationSetName=f"{prefix}mail")
    assert sorted(configuration["SuppressionOptions"]["SuppressedReasons"]) == ["BOUNCE", "COMPLAINT"]
    described = client(moto_url, "ses").describe_configuration_set(
        ConfigurationSetName=f"{prefix}mail", ConfigurationSetAttributeNames=["eventDestinations"])
    [destination] = described["EventDestinations"]
    assert {"bounce", "complaint"} <= set(destination["MatchingEventTypes"])
    assert destination["SNSDestination"]["TopicARN"].endswith(f":{prefix}mail-events")

    user = await make_user(services)
    job = await make_job(services, user)
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    before = len(sent)
    body = {"job_id": job.job_id}
    await notify.handle(services, message(notify.QUEUE, body), JobResult.decode(body))
    [mail] = [m for m in sent[before:] if user.email in m.destinations]
    assert mail.source == sender
    assert f"{job.input_file_name}: results ready" in mail.raw_data
