"""Scale-in protection: an annotator instance keeps its auto-scaling group from
terminating it while it has a job in hand, and gives that up once it has none.

The group scales on work per instance (deploy/gas.yaml, AnnotatorBacklogScaling);
when it scales in, EC2 Auto Scaling picks the instance to end, busy or not. A job
on an ended instance is not lost (its message reappears after the visibility
timeout) but its work so far is, and a long premium job may be ended again and
again. So the instance protects itself on its first job and unprotects when its
last one, across both lanes, is done: the group then ends only idle instances.

On AWS the instance learns its id and group from the instance metadata service
(IMDSv2; the group from its ``aws:autoscaling:groupName`` tag, which the launch
template exposes there). Elsewhere (the local backend, `gas serve`) nothing is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

import httpx

from app.config import Settings
from app.ports.aws import AwsSession

log = logging.getLogger(__name__)

# Seconds an IMDSv2 token lives: it is asked for once a process, for the two reads.
_TOKEN_SECONDS = 300


class Protection(Protocol):
    async def protect(self, protected: bool) -> None:
        """Ask that this instance be (or no longer be) spared by scale-in."""


class NoProtection:
    """Not on an auto-scaling group: nothing to protect from."""

    async def protect(self, protected: bool) -> None:
        return None


class InstanceProtection:
    """SetInstanceProtection on this EC2 instance, in its own group."""

    def __init__(self, aws: AwsSession, metadata_url: str,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.aws = aws
        self.metadata_url = metadata_url.rstrip("/")
        self._transport = transport
        self._identity: tuple[str, str] | None = None

    async def identity(self) -> tuple[str, str]:
        """This instance's id and its auto-scaling group's name, read once."""
        if self._identity is None:
            async with httpx.AsyncClient(base_url=self.metadata_url, timeout=5,
                                         transport=self._transport) as imds:
                token = (await imds.put("/latest/api/token", headers={
                    "X-aws-ec2-metadata-token-ttl-seconds": str(_TOKEN_SECONDS)})).raise_for_status().text
                headers = {"X-aws-ec2-metadata-token": token}
                instance = (await imds.get("/latest/meta-data/instance-id", headers=headers))
                group = (await imds.get("/latest/meta-data/tags/instance/aws:autoscaling:groupName",
                                        headers=headers))
                self._identity = (instance.raise_for_status().text, group.raise_for_status().text)
        return self._identity

    async def protect(self, protected: bool) -> None:
        instance, group = await self.identity()
        autoscaling = await self.aws.client("autoscaling")
        await autoscaling.set_instance_protection(
            InstanceIds=[instance], AutoScalingGroupName=group, ProtectedFromScaleIn=protected)


class Busy:
    """The jobs an annotator has in hand, across its lanes: protected from the first
    one taken until none is left."""

    def __init__(self, protection: Protection) -> None:
        self.protection = protection
        self.jobs = 0
        self._protected = False
        # Jobs start and end on one event loop; the lock keeps the count and the
        # protection asked of AWS in step while a call is on its way.
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def job(self) -> AsyncIterator[None]:
        async with self._lock:
            self.jobs += 1
            if not self._protected:
                await self._set(True)
        try:
            yield
        finally:
            async with self._lock:
                self.jobs -= 1
                if self.jobs == 0 and self._protected:
                    await self._set(False)

    async def _set(self, protected: bool) -> None:
        # Never a job's failure: unprotected, a job ended by scale-in is redelivered;
        # left protected, the next idle moment tries again.
        try:
            await self.protection.protect(protected)
        except Exception as exc:
            log.warning("could not %s this instance's scale-in protection: %s",
                        "set" if protected else "remove", exc)
            return
        self._protected = protected
        log.info("scale-in protection %s", "on: a job is in hand" if protected else "off: idle")


def protection_for(settings: Settings) -> tuple[Protection, AwsSession | None]:
    """The protection these settings ask for, and the AWS session it opened (to close)."""
    if settings.backend != "aws" or not settings.annotator_scale_in_protection:
        return NoProtection(), None
    aws = AwsSession(settings.aws_region, settings.aws_endpoint_url)
    return InstanceProtection(aws, settings.instance_metadata_url), aws
