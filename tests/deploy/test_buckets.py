"""The buckets as an AWS engineer would sign them off: uploads from GAS's own origin
only, no plain-HTTP request to either bucket, uploads that never became a job expire."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import Settings
from app.ops.provision import stack_parameters
from app.ports.objects.aws import UNCLAIMED_TAG
from tests.deploy.template import DATA_PLANE, GAS, listed, parse

TEMPLATES = [DATA_PLANE, GAS]
BUCKETS = ["InputsBucket", "ResultsBucket"]


def allowed(template: Path, origin: str) -> bool:
    """Whether CloudFormation takes ``origin`` as UploadOrigin (AllowedPattern is
    matched against the whole value, as ``re.fullmatch`` does)."""
    return re.fullmatch(parse(template)["Parameters"]["UploadOrigin"]["AllowedPattern"], origin) is not None


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_uploads_come_from_one_origin(template: Path) -> None:
    """The inputs bucket's CORS names UploadOrigin, which has no default and takes one
    origin, never "*" or a wildcard host: a form leaked to another site cannot be
    posted from its pages."""
    parameter = parse(template)["Parameters"]["UploadOrigin"]
    assert "Default" not in parameter
    [rule] = parse(template)["Resources"]["InputsBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == [{"Ref": "UploadOrigin"}]
    assert allowed(template, "https://gas.example.org")
    assert allowed(template, "https://gas.example.org:8443")
    for refused in ("*", "https://*", "https://*.example.org", "https://gas.example.org/",
                    "https://gas.example.org/app", "gas.example.org", ""):
        assert not allowed(template, refused), refused


def test_the_whole_system_is_reached_over_https_only() -> None:
    """gas.yaml's origin is the load balancer's HTTPS name; the data plane alone may
    serve a development web server on http (the settings' default address)."""
    assert not allowed(GAS, "http://gas.example.org")
    assert allowed(DATA_PLANE, Settings().public_url)


def test_provision_passes_the_public_urls_origin() -> None:
    """`gas aws provision` sets UploadOrigin to GAS_PUBLIC_URL's origin (no path), which
    the data plane's pattern accepts."""
    origin = stack_parameters(Settings(public_url="https://gas.example.org:8443/gas/"))["UploadOrigin"]
    assert origin == "https://gas.example.org:8443"
    assert allowed(DATA_PLANE, origin)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
@pytest.mark.parametrize("bucket", BUCKETS)
def test_each_bucket_refuses_plain_http(template: Path, bucket: str) -> None:
    """Each bucket has a policy denying every request, to the bucket and its objects,
    that does not arrive over TLS, and nothing else (it allows no one anything)."""
    policies = [r["Properties"] for r in parse(template)["Resources"].values()
                if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}]
    [policy] = policies
    [statement] = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Deny", "*", "s3:*")
    assert statement["Resource"] == [{"Fn::GetAtt": [bucket, "Arn"]}, {"Fn::Sub": f"${{{bucket}.Arn}}/*"}]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_unclaimed_uploads_expire_by_their_tag(template: Path) -> None:
    """The inputs bucket expires objects still carrying the tag every upload policy
    sets (and claiming removes), and only those: a job's input stays while the job does."""
    rules = parse(template)["Resources"]["InputsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = [rule for rule in rules if "ExpirationInDays" in rule]
    [rule] = expiring
    assert rule["Status"] == "Enabled"
    assert rule["TagFilters"] == [{"Key": UNCLAIMED_TAG[0], "Value": UNCLAIMED_TAG[1]}]
    assert rule["ExpirationInDays"] == 1


def test_the_upload_signer_may_tag_and_untag_inputs() -> None:
    """S3 stores a form's ``tagging`` only if the policy's signer (the web role) may
    tag objects, and ``claim`` untags with the same role: without either, uploads
    would fail or every job's input would expire with the unclaimed ones."""
    web = parse(GAS)["Resources"]["WebRole"]["Properties"]["Policies"]
    inputs = {"Fn::Sub": "${InputsBucket.Arn}/inputs/*"}
    allowed = {action for policy in web for statement in policy["PolicyDocument"]["Statement"]
               if statement["Effect"] == "Allow" and statement["Resource"] == inputs
               for action in listed(statement["Action"])}
    assert {"s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObjectTagging"} <= allowed
