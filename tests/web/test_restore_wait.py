"""What the job page says a restore takes, in the unit a person would use."""

from __future__ import annotations

import pytest

from app.web.subscription import within


@pytest.mark.parametrize(("seconds", "said"), [
    (5 * 60, "5 minutes"),  # Expedited
    (30, "1 minute"),
    (90 * 60, "90 minutes"),
    (5 * 3600, "5 hours"),  # Standard from GLACIER
    (12 * 3600, "12 hours"),  # Standard from DEEP_ARCHIVE
])
def test_a_restore_wait_is_minutes_then_hours(seconds: int, said: str) -> None:
    """Up to two hours in minutes, then in hours: a DEEP_ARCHIVE restore is "within 12
    hours", not "within 720 minutes"."""
    assert within(seconds) == said
