"""deploy/gas.yaml's ColdStorageClass: the settings' default and choices."""

from __future__ import annotations

from typing import get_args

from app.config import Settings
from tests.deploy.template import GAS, parse


def test_cold_storage_class_parameter_follows_the_setting() -> None:
    """GLACIER by default, as GAS_AWS_COLD_STORAGE_CLASS; the choices are the setting's."""
    parameter = parse(GAS)["Parameters"]["ColdStorageClass"]
    assert parameter["Default"] == Settings().aws_cold_storage_class == "GLACIER"
    choices = get_args(Settings.model_fields["aws_cold_storage_class"].annotation)
    assert parameter["AllowedValues"] == list(choices)
