"""deploy/*.yaml: what a stack's deletion, or a resource's replacement, keeps. The
users' data (inputs, results, jobs, the database and its password) outlives the
stack; what only carries messages for minutes goes with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.template import DATA_PLANE, GAS, parse

KEPT = {
    "InputsBucket": "Retain",
    "ResultsBucket": "Retain",
    "JobsTable": "Retain",
    # A final snapshot, and the secret holding that snapshot's password.
    "Database": "Snapshot",
    "DatabaseSecret": "Retain",
}


@pytest.mark.parametrize("template", [GAS, DATA_PLANE], ids=lambda p: p.name)
def test_stateful_resources_say_what_deletion_keeps(template: Path) -> None:
    """Data is kept on deletion and on replacement alike; every queue (and the cookie
    key) is deleted, explicitly."""
    resources = parse(template)["Resources"]
    for logical_id, policy in KEPT.items():
        if logical_id in resources:
            resource = resources[logical_id]
            assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == (
                policy, policy), logical_id
    deleted = [k for k, r in resources.items() if r["Type"] == "AWS::SQS::Queue"]
    deleted += ["SecretKey"] if "SecretKey" in resources else []
    assert len(deleted) >= 12
    for logical_id in deleted:
        resource = resources[logical_id]
        assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Delete", "Delete")
