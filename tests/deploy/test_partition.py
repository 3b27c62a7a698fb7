"""deploy/*.yaml: no ARN names the commercial partition, so the stacks also run in
China (aws-cn) and GovCloud (aws-us-gov)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.template import DATA_PLANE, GAS, parse


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (key, *_strings(value))]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


@pytest.mark.parametrize("template", [GAS, DATA_PLANE], ids=lambda p: p.name)
def test_arns_are_built_with_the_partition(template: Path) -> None:
    """Every ARN a template builds starts ``arn:${AWS::Partition}:``: no string, in
    any property, parameter, condition or output, holds ``arn:aws:`` literally."""
    literal = [s for s in _strings(parse(template)) if "arn:aws:" in s]
    assert literal == []
