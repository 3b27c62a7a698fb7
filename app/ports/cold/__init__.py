"""Cold tier: where free users' results go once their retention has passed.

An archived object cannot be downloaded. Getting it back takes two steps, as with
S3 Glacier storage classes: a *restore* is requested at a tier (accepted, or
refused when that tier has no capacity), and some time later its completion
arrives as a message on its topic (app/jobs/lifecycle.py) — nobody polls for it.
Then the object is *thawed*: back in the hot tier for good.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Literal

from app.jobs.lifecycle import RestoreCompleted

Tier = Literal["Expedited", "Standard"]
TIERS: tuple[Tier, ...] = ("Expedited", "Standard")


class RestoreRefused(Exception):
    """The tier cannot take this restore now (S3: ``GlacierExpeditedRetrievalNotAvailable``)."""


@dataclass(frozen=True)
class Restore:
    tier: Tier
    expected_seconds: int


class ColdTier(abc.ABC):
    @abc.abstractmethod
    async def archive(self, bucket: str, key: str) -> None:
        """Move the object to the cold tier; done already is fine.

        Raises ``ObjectNotFound`` when the object is in neither tier.
        """

    @abc.abstractmethod
    async def is_archived(self, bucket: str, key: str) -> bool:
        """True while the object is in the cold tier (restored or not, until thawed)."""

    @abc.abstractmethod
    async def restore(self, bucket: str, key: str, tier: Tier) -> Restore:
        """Ask for the object back; its completion is published as a :class:`RestoreCompleted`.

        Asking again while a restore is under way is accepted without starting
        another. Raises :class:`RestoreRefused`, or ``ObjectNotFound``.
        """

    @abc.abstractmethod
    async def thaw(self, bucket: str, key: str) -> None:
        """After a completed restore: the object is hot again, for good (idempotent)."""

    @abc.abstractmethod
    async def delete(self, bucket: str, key: str) -> None:
        """Remove the cold copy (restored or not) and any restore under way; none is fine."""

    @abc.abstractmethod
    def expected_seconds(self, tier: Tier) -> int:
        """How long a restore at this tier usually takes (what the job page tells people)."""

    @abc.abstractmethod
    def completed(self, body: dict[str, Any]) -> RestoreCompleted:
        """The restore completion a message on its topic tells of; ``ValueError`` if it is
        not such a message."""
