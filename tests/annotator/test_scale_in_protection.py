"""An annotator is protected from scale-in while it has a job in hand, across its lanes,
and unprotected once idle (annotator/protection.py): its own instance, in its own group,
read from the instance metadata service (IMDSv2)."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from annotator.protection import InstanceProtection, NoProtection, protection_for
from annotator.worker import Annotator
from app.config import Settings
from app.jobs.lifecycle import LARGE, SMALL, JobRequest
from app.ports.aws import AwsSession
from app.ports.bus import Message
from app.services import Services
from tests.annotator.test_worker import VCF, new_job
from tests.deploy.template import aws


class Recorded:
    """A protection that notes what it was asked, and how many jobs were in hand then."""

    def __init__(self, annotator: list[Annotator]) -> None:
        self.annotator = annotator
        self.calls: list[tuple[bool, int]] = []

    async def protect(self, protected: bool) -> None:
        self.calls.append((protected, self.annotator[0].busy.jobs))


async def test_the_worker_is_protected_from_taking_a_job_until_it_has_none(services: Services) -> None:
    """Two jobs at once on the two lanes: protection goes on as the first is taken and
    off only when the last is done (never between them); a request for a job that is
    gone asks nothing of the group."""
    holder: list[Annotator] = []
    recorded = Recorded(holder)
    annotator = Annotator(services, recorded)
    holder.append(annotator)
    try:
        jobs = [await new_job(services, VCF), await new_job(services, VCF)]
        messages = [Message(lane, str(uuid.uuid4()), json.dumps({"job_id": job.job_id}), "r", 1)
                    for lane, job in zip((LARGE, SMALL), jobs, strict=True)]
        await asyncio.gather(*(annotator.handle(m, JobRequest.decode(json.loads(m.body))) for m in messages))
        for job in jobs:
            stored = await services.jobs.get(job.job_id)
            assert stored is not None and stored.status == "completed"
        assert [protected for protected, _ in recorded.calls] == [True, False]
        assert recorded.calls[0][1] == 1 and recorded.calls[1][1] == 0
        gone = Message(LARGE, "m", json.dumps({"job_id": str(uuid.uuid4())}), "r", 1)
        await annotator.handle(gone, JobRequest.decode(json.loads(gone.body)))
        assert len(recorded.calls) == 2
    finally:
        annotator.close()


class Refused:
    """A group that refuses every call (no permission, throttled)."""

    def __init__(self) -> None:
        self.asked: list[bool] = []

    async def protect(self, protected: bool) -> None:
        self.asked.append(protected)
        raise RuntimeError("AccessDenied")


async def test_a_refused_protection_never_fails_the_job(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """Protection is a safeguard, not a step of the job: refused, the job completes all
    the same and the refusal is logged; the next job asks again."""
    refused = Refused()
    annotator = Annotator(services, refused)
    try:
        for _ in range(2):
            job = await new_job(services, VCF)
            msg = Message(LARGE, str(uuid.uuid4()), json.dumps({"job_id": job.job_id}), "r", 1)
            await annotator.handle(msg, JobRequest.decode(json.loads(msg.body)))
            stored = await services.jobs.get(job.job_id)
            assert stored is not None and stored.status == "completed"
        assert refused.asked == [True, True]
        assert "could not set this instance's scale-in protection: AccessDenied" in caplog.text
    finally:
        annotator.close()


def test_only_an_annotator_on_aws_asks_for_protection() -> None:
    """The local backend, or AWS without the stack's setting (`gas serve` elsewhere),
    does nothing."""
    assert isinstance(protection_for(Settings(backend="local", annotator_scale_in_protection=True))[0],
                      NoProtection)
    assert isinstance(protection_for(Settings(backend="aws"))[0], NoProtection)


@pytest.fixture
def group(moto_url: str) -> tuple[str, str]:
    """An auto-scaling group of one instance in moto: its name and the instance's id."""
    name = f"annotators-{uuid.uuid4().hex[:8]}"
    template = aws(moto_url, "ec2").create_launch_template(
        LaunchTemplateName=name, LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.small"})
    scaling = aws(moto_url, "autoscaling")
    scaling.create_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=1, MaxSize=2, DesiredCapacity=1, AvailabilityZones=["us-east-1a"],
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"]})
    [described] = scaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return name, described["Instances"][0]["InstanceId"]


def metadata(instance_id: str, group_name: str) -> httpx.MockTransport:
    """IMDSv2 as an instance sees it: a token first (PUT), then reads that carry it."""
    token = uuid.uuid4().hex

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and request.url.path == "/latest/api/token":
            assert request.headers["X-aws-ec2-metadata-token-ttl-seconds"]
            return httpx.Response(200, text=token)
        if request.headers.get("X-aws-ec2-metadata-token") != token:
            return httpx.Response(401)
        values = {"/latest/meta-data/instance-id": instance_id,
                  "/latest/meta-data/tags/instance/aws:autoscaling:groupName": group_name}
        path = request.url.path
        return httpx.Response(200, text=values[path]) if path in values else httpx.Response(404)

    return httpx.MockTransport(answer)


async def test_the_instance_protects_itself_in_its_own_group(
    moto_url: str, aws_session: AwsSession, group: tuple[str, str]
) -> None:
    """Its id and group read from the metadata service with a token, the instance is
    marked protected from scale-in in its group, then unmarked."""
    name, instance_id = group
    protection = InstanceProtection(aws_session, "http://169.254.169.254", metadata(instance_id, name))
    scaling = aws(moto_url, "autoscaling")

    def protected() -> bool:
        described = scaling.describe_auto_scaling_instances(InstanceIds=[instance_id])
        [instance] = described["AutoScalingInstances"]
        return bool(instance["ProtectedFromScaleIn"])

    assert not protected()
    await protection.protect(True)
    assert protected()
    await protection.protect(False)
    assert not protected()
    assert await protection.identity() == (instance_id, name)
