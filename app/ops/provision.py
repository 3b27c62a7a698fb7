"""``gas aws provision``: the data plane (buckets, table, topics, queues) as a
CloudFormation stack made from ``deploy/data-plane.yaml``, with parameters taken
from the settings so that the stack and the processes agree on every name.

After the stack is complete the wiring the processes depend on is checked
through the service APIs: every topic's queue subscriptions (raw delivery,
queue policy, redrive), the results bucket's restore notification, and mail: the
SES configuration set with its bounce and complaint destination, and the sender's
identity. On AWS the stack made all of it and the check changes nothing; a partial
CloudFormation (moto's has no ``AWS::SNS::Subscription``, ``AWS::SQS::QueuePolicy``,
``AWS::SES::*`` or bucket notifications) gets the missing pieces made through the
APIs, and each is reported. An identity SES has not verified yet (DNS records to
publish, a link to click) is logged: until it is, SES refuses every mail.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from app.config import Settings
from app.jobs.lifecycle import RESTORE_COMPLETE, TOPICS, archive_delay, queue_specs
from app.ports.aws import AwsSession, error_code
from app.ports.bus.aws import SnsSqsBus
from app.ports.mail.aws import CONFIGURATION_SET, MAIL_EVENTS

log = logging.getLogger(__name__)

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "data-plane.yaml"
RESTORE_EVENT = "s3:ObjectRestore:Completed"
_DONE = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE"})


class ProvisionError(Exception):
    pass


@dataclass
class Provisioned:
    stack_name: str
    status: str
    outputs: dict[str, str]
    # What the stack did not make and was made through the service APIs instead.
    completed: list[str] = field(default_factory=list)


def origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stack_parameters(settings: Settings) -> dict[str, str]:
    return {
        "NamePrefix": settings.aws_name_prefix,
        "InputsBucketName": settings.inputs_bucket,
        "ResultsBucketName": settings.results_bucket,
        "JobsTableName": settings.jobs_table,
        "VisibilityTimeout": str(settings.queue_visibility_seconds),
        "MaxReceives": str(settings.queue_max_receives),
        "ArchiveDelaySeconds": str(archive_delay(settings)),
        "UploadOrigin": origin(settings.public_url),
        "MailFrom": parseaddr(settings.mail_from)[1],
    }


async def _status(cfn: Any, stack_name: str) -> str | None:
    try:
        stacks = (await cfn.describe_stacks(StackName=stack_name))["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


async def _failure_reasons(cfn: Any, stack_name: str) -> list[str]:
    events = (await cfn.describe_stack_events(StackName=stack_name)).get("StackEvents", [])
    return [
        f"{e.get('LogicalResourceId')}: {e.get('ResourceStatusReason')}"
        for e in events
        if str(e.get("ResourceStatus", "")).endswith("FAILED")
    ][:10]


async def _deploy(cfn: Any, stack_name: str, body: str, parameters: dict[str, str]) -> str:
    """Create or update the stack; its final status."""
    request = {
        "StackName": stack_name,
        "TemplateBody": body,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        "Tags": [{"Key": "app", "Value": "gas"}],
    }
    status = await _status(cfn, stack_name)
    if status == "ROLLBACK_COMPLETE":
        # A stack whose creation failed cannot be updated, only replaced.
        await cfn.delete_stack(StackName=stack_name)
        await _settle(cfn, stack_name)
        status = None
    if status is None:
        await cfn.create_stack(**request)
    else:
        try:
            await cfn.update_stack(**request)
        except ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
            return status
    return await _settle(cfn, stack_name)


async def _settle(cfn: Any, stack_name: str) -> str:
    """Wait until the stack is no longer changing."""
    while True:
        status = await _status(cfn, stack_name) or "DELETE_COMPLETE"
        if not status.endswith("_IN_PROGRESS"):
            return status
        await asyncio.sleep(2)


async def _complete_subscriptions(aws: AwsSession, settings: Settings) -> list[str]:
    bus = SnsSqsBus(aws, settings.aws_name_prefix)
    missing = []
    for topic, queues in TOPICS.items():
        subscribed = await bus.subscriptions(await bus.topic_arn(topic))
        missing += [f"subscription {topic} -> {queue}" for queue in queues
                    if await bus.queue_arn(queue) not in subscribed]
    # Idempotent: leaves what the stack made as it is, adds what is missing.
    await bus.ensure(queue_specs(settings), TOPICS)
    return missing


async def _complete_restore_notification(aws: AwsSession, settings: Settings) -> list[str]:
    s3 = await aws.client("s3")
    bucket = settings.results_bucket
    current = await s3.get_bucket_notification_configuration(Bucket=bucket)
    current.pop("ResponseMetadata", None)
    topics = current.get("TopicConfigurations", [])
    if any(RESTORE_EVENT in t.get("Events", []) for t in topics):
        return []
    topic_arn = await aws.arn("sns", f"{settings.aws_name_prefix}{RESTORE_COMPLETE}")
    current["TopicConfigurations"] = [*topics, {"TopicArn": topic_arn, "Events": [RESTORE_EVENT]}]
    await s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=current)
    return [f"notification {bucket} {RESTORE_EVENT} -> {RESTORE_COMPLETE}"]


async def _missing(call: Any, **request: Any) -> bool:
    """Whether SES answers NotFound for this description (the thing does not exist)."""
    try:
        await call(**request)
    except ClientError as exc:
        if error_code(exc) in ("NotFoundException", "ConfigurationSetDoesNotExist"):
            return True
        raise
    return False


async def _complete_mail(aws: AwsSession, settings: Settings) -> list[str]:
    """The configuration set (suppressing bounced and complained addresses), its events to the
    mail-events topic and queue, and the sender's identity sending through it. SES's v2 API
    makes the set and the identity as the stack's resources do; moto's v2 has no event
    destinations, so they go through v1, which every SES also answers."""
    sesv2, ses = await aws.client("sesv2"), await aws.client("ses")
    bus = SnsSqsBus(aws, settings.aws_name_prefix)
    name = f"{settings.aws_name_prefix}{CONFIGURATION_SET}"
    sender = parseaddr(settings.mail_from)[1]
    made = []
    if await _missing(sesv2.get_configuration_set, ConfigurationSetName=name):
        await sesv2.create_configuration_set(
            ConfigurationSetName=name,
            SuppressionOptions={"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
            ReputationOptions={"ReputationMetricsEnabled": True},
        )
        made.append(f"SES configuration set {name}")
    topic, queue = await bus.topic_arn(MAIL_EVENTS), await bus.queue_arn(MAIL_EVENTS)
    described = await ses.describe_configuration_set(
        ConfigurationSetName=name, ConfigurationSetAttributeNames=["eventDestinations"])
    if not any(d and d.get("SNSDestination") for d in described.get("EventDestinations", [])):
        await ses.create_configuration_set_event_destination(
            ConfigurationSetName=name,
            EventDestination={
                "Name": bus.physical(MAIL_EVENTS), "Enabled": True,
                "MatchingEventTypes": ["bounce", "complaint", "reject"],
                "SNSDestination": {"TopicARN": topic},
            },
        )
        made.append(f"SES event destination {name} -> {MAIL_EVENTS}")
    if queue not in await bus.subscriptions(topic):
        sns = await aws.client("sns")
        await sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue,
                            Attributes={"RawMessageDelivery": "true"})
        made.append(f"subscription {MAIL_EVENTS} -> {MAIL_EVENTS}")
    # The sender's domain verified (with DKIM) covers the address: nothing to add then.
    identities = [i for i in (sender, sender.rpartition("@")[2])
                  if not await _missing(sesv2.get_email_identity, EmailIdentity=i)]
    if not identities:
        await sesv2.create_email_identity(EmailIdentity=sender, ConfigurationSetName=name)
        made.append(f"SES identity {sender}")
        identities = [sender]
    verified = [(await sesv2.get_email_identity(EmailIdentity=i)).get("VerifiedForSendingStatus")
                for i in identities]
    if not any(verified):
        log.warning("SES has not verified %s yet and refuses every mail from it until it does "
                    "(README: Deploy to AWS, mail)", " or ".join(identities))
    return made


async def provision(
    settings: Settings, stack_name: str = "gas", template: Path = TEMPLATE,
    *, aws: AwsSession | None = None, max_wait: float = 1800,
) -> Provisioned:
    own = aws is None
    session = aws or AwsSession(settings.aws_region, settings.aws_endpoint_url)
    try:
        cfn = await session.client("cloudformation")
        body = await asyncio.to_thread(template.read_text)
        try:
            async with asyncio.timeout(max_wait):
                status = await _deploy(cfn, stack_name, body, stack_parameters(settings))
        except TimeoutError:
            raise ProvisionError(f"stack {stack_name} not settled after {max_wait:.0f} s") from None
        if status not in _DONE:
            reasons = "; ".join(await _failure_reasons(cfn, stack_name))
            raise ProvisionError(f"stack {stack_name} ended {status}: {reasons or 'no reason given'}")
        stack = (await cfn.describe_stacks(StackName=stack_name))["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        completed = await _complete_subscriptions(session, settings)
        completed += await _complete_restore_notification(session, settings)
        completed += await _complete_mail(session, settings)
        for item in completed:
            log.warning("the stack did not make %s; made through the API", item)
        return Provisioned(stack_name, status, outputs, completed)
    finally:
        if own:
            await session.close()
