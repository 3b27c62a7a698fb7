"""On S3 an upload that never becomes a job is deleted by the inputs bucket's lifecycle
rule, which matches a tag: every upload form sets that tag, and making the job removes
it. Through the real path (upload policy, form POST, job submission) against moto."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
import xml.etree.ElementTree as ET

import httpx
from botocore.exceptions import ClientError

from app.accounts import users
from app.jobs import submissions
from app.ports.aws import AwsSession
from app.ports.objects.aws import S3ObjectStore
from app.services import Services
from tests.deploy.template import DATA_PLANE, parse

VCF = b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n1\t100\t.\tA\tG\t.\t.\t.\n"


def lifecycle_tag() -> dict[str, str]:
    """The tag deploy/data-plane.yaml's expire-unclaimed-uploads rule deletes by."""
    rules = parse(DATA_PLANE)["Resources"]["InputsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [rule] = [r for r in rules if r["Id"] == "expire-unclaimed-uploads"]
    return {f["Key"]: f["Value"] for f in rule["TagFilters"]}


async def test_an_upload_carries_the_expiring_tag_until_it_becomes_a_job(
    services: Services, aws_session: AwsSession
) -> None:
    """The form a browser posts sets exactly the tag the lifecycle rule expires (S3
    applies a form's ``tagging`` field; moto ignores it, so the test tags the object as
    S3 would); submitting the upload as a job removes the tag, so the input stays."""
    s3 = await aws_session.client("s3")
    bucket = services.settings.inputs_bucket
    with contextlib.suppress(ClientError):  # moto is shared by the test session
        await s3.create_bucket(Bucket=bucket)
    on_s3 = dataclasses.replace(services, objects=S3ObjectStore(aws_session))
    user = await users.create(services.db, f"{uuid.uuid4().hex[:10]}@example.org", "password123",
                              name="Ada", role="free")

    post = await submissions.new_upload(on_s3, user, with_file_name=False)
    tagging = ET.fromstring(post.fields["tagging"])
    form_tags = {tag.findtext("Key"): tag.findtext("Value") for tag in tagging.iter("Tag")}
    assert form_tags == lifecycle_tag()
    async with httpx.AsyncClient() as http:
        posted = await http.post(post.url, data=post.fields, files={"file": ("in.vcf", VCF)})
    assert posted.status_code == 201, posted.text
    await s3.put_object_tagging(Bucket=bucket, Key=post.key, Tagging={
        "TagSet": [{"Key": key, "Value": value} for key, value in form_tags.items()]})

    job = await submissions.submit(on_s3, user, post.key, "in.vcf")
    assert job.input_key == post.key
    assert (await s3.get_object_tagging(Bucket=bucket, Key=post.key))["TagSet"] == []
    assert (await s3.head_object(Bucket=bucket, Key=post.key))["ContentLength"] == len(VCF)
