"""Topics and queues: publish to a topic, consume from the queues subscribed to it.

Which topics and queues there are is the lifecycle's business (app/jobs/lifecycle.py).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True)
class QueueSpec:
    name: str
    delay_seconds: int = 0
    visibility_seconds: int = 60
    max_receives: int = 5

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.name}-dlq"


@dataclass(frozen=True)
class Message:
    queue: str
    message_id: str
    body: str
    receipt: str
    receive_count: int


# SQS keeps a received message hidden for at most 12 hours from its receipt (the local bus
# has no such limit).
SQS_MAX_HIDDEN_SECONDS = 12 * 3600


class LeaseLimitReached(Exception):
    """The bus will not keep a received message hidden any longer (SQS: 12 hours from its
    receipt): it is delivered again soon, whatever its consumer does."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        super().__init__(f"a received message stays hidden for at most {seconds} s")


class Bus(abc.ABC):
    @abc.abstractmethod
    async def ensure(self, queues: list[QueueSpec], topics: dict[str, list[str]]) -> None:
        """Create queues (each with its dead-letter queue) and subscriptions; idempotent."""

    @abc.abstractmethod
    async def publish(self, topic: str, body: str, *, delay_seconds: int = 0) -> None: ...

    @abc.abstractmethod
    async def send(self, queue: str, body: str, *, delay_seconds: int = 0) -> None:
        """Send straight to one queue (re-queueing with a delay, tests).

        As SQS's ``DelaySeconds``, a positive delay replaces the queue's own.
        """

    @abc.abstractmethod
    async def receive(self, queue: str, *, max_messages: int = 1, wait_seconds: float = 20.0
                      ) -> list[Message]:
        """Long poll: return as soon as a message is visible, or empty after the wait.

        A message received more than its queue's ``max_receives`` times goes to the
        dead-letter queue instead of being returned.
        """

    @abc.abstractmethod
    async def ack(self, message: Message) -> None: ...

    @abc.abstractmethod
    async def extend(self, message: Message, visibility_seconds: int) -> None:
        """Keep a message hidden for this much longer (heartbeat of a long job); past the
        bus's limit, :class:`LeaseLimitReached`."""

    @abc.abstractmethod
    async def release(self, message: Message, delay_seconds: int = 0) -> None:
        """Make a received message visible again after ``delay_seconds``."""

    @abc.abstractmethod
    async def count(self, queue: str) -> int:
        """Messages in the queue, visible or not (backlog, tests)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the adapter holds open."""
