"""Topics and queues on SNS and SQS: each topic fans out to SQS queues by raw
delivery (the body arrives as sent, not wrapped in SNS's JSON envelope).

Queue and topic names get a prefix (``gas-`` by default) so several deployments
can share an account; the rest of GAS uses the logical names of ``app.jobs.lifecycle.TOPICS``.
Every queue has a redrive policy to ``<queue>-dlq``: after ``max_receives``
receives SQS moves a message there itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Any

from botocore.exceptions import ClientError

from app.ports.aws import AwsSession, error_code
from app.ports.bus import SQS_MAX_HIDDEN_SECONDS, Bus, LeaseLimitReached, Message, QueueSpec

log = logging.getLogger(__name__)

# SQS's limits: a delay of at most 15 minutes, a long poll of at most 20 s, at most
# 10 messages per receive, a message hidden for at most 12 hours.
MAX_DELAY = 900
MAX_WAIT = 20
MAX_BATCH = 10
MAX_VISIBILITY = SQS_MAX_HIDDEN_SECONDS
RETENTION = 14 * 24 * 3600  # the longest SQS keeps a message: time to look at poison
_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)
# What SQS says when a receipt is not the message's current one (a worker whose
# delivery timed out): the message belongs to another worker now. InvalidParameterValue
# is also what it says of an expired receipt ("parameter ReceiptHandle is invalid")...
_STALE = frozenset({"ReceiptHandleIsInvalid", "MessageNotInflight", "InvalidParameterValue"})
# ...and of a visibility past 12 hours from the receipt ("Value 60 for parameter
# VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond
# the limit [43200 seconds]"): not stale, the message is ours until it reappears.
_PAST_LIMIT = "parameter VisibilityTimeout"
_NO_QUEUE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
_POLICY_SID = "gas-topics"


def _delay(seconds: float) -> int:
    # The archiver re-queues with the retention left, which may be longer than SQS
    # allows; such a message comes back early and is re-queued again.
    return max(0, min(MAX_DELAY, math.ceil(seconds)))


def topics_statement(queue_arn: str, topic_arns: list[str]) -> dict[str, Any]:
    """A queue policy statement: these topics (and nothing else) may send to the queue."""
    return {
        "Sid": _POLICY_SID,
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": sorted(topic_arns)}},
    }


def allowed_topics(policy: dict[str, Any]) -> set[str]:
    """Topic ARNs any Allow statement of a queue policy lets send to it (ours or the stack's)."""
    allowed: set[str] = set()
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        condition = statement.get("Condition", {})
        for test in ("ArnEquals", "ArnLike", "StringEquals"):
            arns = condition.get(test, {}).get("aws:SourceArn", [])
            allowed |= {arns} if isinstance(arns, str) else set(arns)
    return allowed


class SnsSqsBus(Bus):
    def __init__(self, aws: AwsSession, prefix: str = "gas-") -> None:
        self.aws = aws
        self.prefix = prefix
        self._urls: dict[str, str] = {}

    async def _sqs(self) -> Any:
        return await self.aws.client("sqs")

    async def _sns(self) -> Any:
        return await self.aws.client("sns")

    def physical(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def topic_arn(self, topic: str) -> str:
        return await self.aws.arn("sns", self.physical(topic))

    async def queue_arn(self, queue: str) -> str:
        return await self.aws.arn("sqs", self.physical(queue))

    async def _url(self, queue: str) -> str:
        url = self._urls.get(queue)
        if url is None:
            sqs = await self._sqs()
            try:
                url = str((await sqs.get_queue_url(QueueName=self.physical(queue)))["QueueUrl"])
            except ClientError as exc:
                if error_code(exc) in _NO_QUEUE:
                    raise LookupError(f"no such queue: {queue}") from None
                raise
            self._urls[queue] = url
        return url

    # -- topology -----------------------------------------------------------------

    async def _upsert_queue(self, queue: str, attributes: dict[str, str]) -> None:
        sqs = await self._sqs()
        try:
            url = await self._url(queue)
        except LookupError:
            created = await sqs.create_queue(QueueName=self.physical(queue), Attributes=attributes)
            self._urls[queue] = str(created["QueueUrl"])
            return
        await sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)

    async def ensure(self, queues: list[QueueSpec], topics: dict[str, list[str]]) -> None:
        for spec in queues:
            await self._upsert_queue(spec.dead_letter_queue, {
                "MessageRetentionPeriod": str(RETENTION),
                "VisibilityTimeout": str(spec.visibility_seconds),
            })
            redrive = {
                "deadLetterTargetArn": await self.queue_arn(spec.dead_letter_queue),
                "maxReceiveCount": spec.max_receives,
            }
            await self._upsert_queue(spec.name, {
                "DelaySeconds": str(_delay(spec.delay_seconds)),
                "VisibilityTimeout": str(spec.visibility_seconds),
                "ReceiveMessageWaitTimeSeconds": str(MAX_WAIT),
                "MessageRetentionPeriod": str(RETENTION),
                "RedrivePolicy": json.dumps(redrive),
            })
        feeds: dict[str, set[str]] = {}
        for topic, names in topics.items():
            arn = await self._ensure_topic(topic, names)
            for name in names:
                feeds.setdefault(name, set()).add(arn)
        for name, arns in feeds.items():
            await self._allow_topics(name, arns)

    async def subscriptions(self, topic_arn: str) -> dict[str, str]:
        """The topic's SQS subscriptions: queue ARN -> subscription ARN."""
        sns = await self._sns()
        found: dict[str, str] = {}
        request: dict[str, Any] = {"TopicArn": topic_arn}
        while True:
            response = await sns.list_subscriptions_by_topic(**request)
            for sub in response.get("Subscriptions", []):
                if sub.get("Protocol") == "sqs":
                    found[sub["Endpoint"]] = sub["SubscriptionArn"]
            if not response.get("NextToken"):
                return found
            request["NextToken"] = response["NextToken"]

    async def _ensure_topic(self, topic: str, queues: list[str]) -> str:
        sns = await self._sns()
        arn = str((await sns.create_topic(Name=self.physical(topic)))["TopicArn"])
        existing = await self.subscriptions(arn)
        wanted = {await self.queue_arn(name) for name in queues}
        # Declarative, as locally: a queue dropped from a topic stops getting its messages.
        for endpoint, subscription in existing.items():
            if endpoint not in wanted and subscription.startswith("arn:"):
                await sns.unsubscribe(SubscriptionArn=subscription)
        for endpoint in wanted:
            current = existing.get(endpoint)
            if current is None or not current.startswith("arn:"):
                await sns.subscribe(
                    TopicArn=arn, Protocol="sqs", Endpoint=endpoint,
                    Attributes={"RawMessageDelivery": "true"}, ReturnSubscriptionArn=True,
                )
            else:
                await sns.set_subscription_attributes(
                    SubscriptionArn=current, AttributeName="RawMessageDelivery",
                    AttributeValue="true",
                )
        return arn

    async def _allow_topics(self, queue: str, topic_arns: set[str]) -> None:
        """Let the topics send to the queue, keeping every statement already there
        (a policy made by the stack is left alone when it allows them already)."""
        sqs = await self._sqs()
        url = await self._url(queue)
        current = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
        text = current.get("Attributes", {}).get("Policy")
        policy: dict[str, Any] = json.loads(text) if text else {"Version": "2012-10-17"}
        if topic_arns <= allowed_topics(policy):
            return
        statements = policy.get("Statement", [])
        ours = [s for s in statements if s.get("Sid") == _POLICY_SID]
        arns = topic_arns | (allowed_topics({"Statement": ours}) if ours else set())
        others = [s for s in statements if s.get("Sid") != _POLICY_SID]
        policy["Statement"] = [*others, topics_statement(await self.queue_arn(queue), sorted(arns))]
        await sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})

    # -- messages -----------------------------------------------------------------

    async def publish(self, topic: str, body: str, *, delay_seconds: int = 0) -> None:
        arn = await self.topic_arn(topic)
        if delay_seconds <= 0:
            sns = await self._sns()
            await sns.publish(TopicArn=arn, Message=body)
            return
        # SNS cannot delay one message: send it to each subscribed queue instead.
        queues = [endpoint.rsplit(":", 1)[1] for endpoint in await self.subscriptions(arn)]
        if not queues:
            log.warning("no queue subscribes to topic %s; message dropped", topic)
        for physical in queues:
            await self.send(physical.removeprefix(self.prefix), body, delay_seconds=delay_seconds)

    async def send(self, queue: str, body: str, *, delay_seconds: int = 0) -> None:
        sqs = await self._sqs()
        request: dict[str, Any] = {"QueueUrl": await self._url(queue), "MessageBody": body}
        if delay_seconds > 0:
            # Only when asked: a message's DelaySeconds replaces the queue's own delay.
            request["DelaySeconds"] = _delay(delay_seconds)
        await sqs.send_message(**request)

    async def receive(
        self, queue: str, *, max_messages: int = 1, wait_seconds: float = 20.0
    ) -> list[Message]:
        sqs = await self._sqs()
        url = await self._url(queue)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            remaining = deadline - loop.time()
            # SQS waits whole seconds: round up, so a short wait is still a wait.
            wait = 0 if remaining <= 0 else min(MAX_WAIT, math.ceil(remaining))
            response = await sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=max(1, min(MAX_BATCH, max_messages)),
                WaitTimeSeconds=wait,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            received = response.get("Messages", [])
            if received or wait == 0 or loop.time() >= deadline:
                return [
                    Message(
                        queue=queue,
                        message_id=m["MessageId"],
                        body=m["Body"],
                        receipt=m["ReceiptHandle"],
                        receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                    )
                    for m in received
                ]

    async def _change_visibility(self, message: Message, seconds: int) -> None:
        sqs = await self._sqs()
        try:
            await sqs.change_message_visibility(
                QueueUrl=await self._url(message.queue),
                ReceiptHandle=message.receipt,
                VisibilityTimeout=max(0, min(MAX_VISIBILITY, seconds)),
            )
        except ClientError as exc:
            code = error_code(exc)
            if code == "InvalidParameterValue" and _PAST_LIMIT in str(exc):
                raise LeaseLimitReached(MAX_VISIBILITY) from exc
            if code not in _STALE:
                raise
            log.info("receipt no longer current; left alone", extra={"queue": message.queue})

    async def ack(self, message: Message) -> None:
        sqs = await self._sqs()
        try:
            await sqs.delete_message(
                QueueUrl=await self._url(message.queue), ReceiptHandle=message.receipt
            )
        except ClientError as exc:
            if error_code(exc) not in _STALE:
                raise

    async def extend(self, message: Message, visibility_seconds: int) -> None:
        await self._change_visibility(message, visibility_seconds)

    async def release(self, message: Message, delay_seconds: int = 0) -> None:
        await self._change_visibility(message, delay_seconds)

    async def count(self, queue: str) -> int:
        sqs = await self._sqs()
        response = await sqs.get_queue_attributes(
            QueueUrl=await self._url(queue), AttributeNames=list(_COUNTS)
        )
        attributes = response.get("Attributes", {})
        return sum(int(attributes.get(name, 0)) for name in _COUNTS)
