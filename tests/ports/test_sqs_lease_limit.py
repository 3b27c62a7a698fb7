"""SQS says InvalidParameterValue both of an expired receipt and of a visibility past 12 hours
from the receipt: the bus tells the two apart (moto enforces neither, so SQS's answers are
stubbed, worded as SQS words them)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from app.ports.bus import SQS_MAX_HIDDEN_SECONDS, LeaseLimitReached, Message
from app.ports.bus.aws import SnsSqsBus

PAST_LIMIT = ("InvalidParameterValue", "Value 60 for parameter VisibilityTimeout is invalid. Reason: "
              "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]")
EXPIRED = ("InvalidParameterValue", "Value AQEB for parameter ReceiptHandle is invalid. Reason: "
           "The receipt handle has expired.")
NOT_CURRENT = ("ReceiptHandleIsInvalid", "The input receipt handle is invalid.")


class RefusingSqs:
    """An SQS client whose ChangeMessageVisibility answers with one error."""

    def __init__(self, code: str, text: str) -> None:
        self.error = {"Error": {"Code": code, "Message": text}}

    async def change_message_visibility(self, **_: Any) -> None:
        raise ClientError(self.error, "ChangeMessageVisibility")  # type: ignore[arg-type]


class StubAws:
    def __init__(self, sqs: RefusingSqs) -> None:
        self.sqs = sqs

    async def client(self, name: str) -> RefusingSqs:
        assert name == "sqs"
        return self.sqs


def bus_answering(code: str, text: str) -> SnsSqsBus:
    bus = SnsSqsBus(StubAws(RefusingSqs(code, text)))  # type: ignore[arg-type]
    bus._urls["jobs"] = "https://sqs.us-east-1.amazonaws.com/123456789012/gas-jobs"
    return bus


MESSAGE = Message("jobs", "m-1", "{}", "AQEB", 1)


async def test_a_visibility_past_the_limit_is_the_lease_limit() -> None:
    """Past 12 hours the message cannot be kept hidden: the consumer is told so, not left to
    believe another worker has it."""
    with pytest.raises(LeaseLimitReached) as raised:
        await bus_answering(*PAST_LIMIT).extend(MESSAGE, 60)
    assert raised.value.seconds == SQS_MAX_HIDDEN_SECONDS


@pytest.mark.parametrize("answer", [EXPIRED, NOT_CURRENT], ids=["expired", "not-current"])
async def test_a_stale_receipt_is_left_alone(answer: tuple[str, str]) -> None:
    """A receipt that is no longer the message's (an expired one says InvalidParameterValue
    too): the message is another delivery's now; extending and releasing do nothing."""
    bus = bus_answering(*answer)
    await bus.extend(MESSAGE, 60)
    await bus.release(MESSAGE, 0)
