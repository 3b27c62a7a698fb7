"""Job keys and file names: nothing a user names can escape their prefix."""

from __future__ import annotations

import uuid

import pytest

from app.jobs.job import display_file_name, input_key, parse_input_key, safe_file_name


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sample.vcf", "sample.vcf"),
        ("my sample (1).vcf.gz", "my_sample_1_.vcf.gz"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("a\x00b.vcf", "a_b.vcf"),
        ("\u202egnp.vcf", "gnp.vcf"),
        ('"><script>alert(1)</script>.vcf', "script_.vcf"),
        ("...", "input.vcf"),
        ("", "input.vcf"),
    ],
)
def test_safe_file_name(given: str, expected: str) -> None:
    """Safe names keep letters, digits, dot, dash and underscore and drop directories."""
    assert safe_file_name(given) == expected


def test_safe_file_name_is_short_and_keeps_extension() -> None:
    """A 300-character name is cut, keeping its extension."""
    name = safe_file_name("x" * 300 + ".vcf")
    assert len(name) <= 120 and name.endswith(".vcf")


def test_display_name_drops_controls_and_bidi_overrides() -> None:
    """The name shown to people has no control or RTL-override characters."""
    assert display_file_name("evil\u202egpj.vcf\x07") == "evilgpj.vcf"
    assert display_file_name("dir/a.vcf") == "a.vcf"


def test_parse_input_key_accepts_only_the_users_own_keys() -> None:
    """Keys outside the user's prefix, not naming a job id, or that no store can hold
    (which no upload made) are refused."""
    user, other, job = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    assert parse_input_key(user, input_key(user, job, "a.vcf")) == (job, "a.vcf")
    assert parse_input_key(user, f"inputs/{user}/{job}") == (job, "")
    assert parse_input_key(user, input_key(other, job, "a.vcf")) is None
    assert parse_input_key(user, f"inputs/{user}/not-a-uuid~a.vcf") is None
    assert parse_input_key(user, f"inputs/{user}/{job}~x/../../y") is None
    assert parse_input_key(user, f"inputs/{user}/{job.upper()}~a.vcf") is None
    # Keys no store can hold: NUL, not UTF-8, over S3's 1024 bytes.
    assert parse_input_key(user, input_key(user, job, "a\x00.vcf")) is None
    assert parse_input_key(user, input_key(user, job, "a\ud800.vcf")) is None
    assert parse_input_key(user, input_key(user, job, "\u00e9" * 480)) is None
