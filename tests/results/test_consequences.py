"""The viewer's consequence order and IMPACT classes."""

from __future__ import annotations

from app.results import consequences


def test_impact_at_least() -> None:
    """'At least MODERATE' is HIGH and MODERATE; 'at least MODIFIER' is every class."""
    assert consequences.at_least("MODERATE") == ("HIGH", "MODERATE")
    assert consequences.at_least("MODIFIER") == consequences.IMPACTS
    assert consequences.term_rank("stop_gained") < consequences.term_rank("missense_variant")
    assert consequences.term_rank("not_a_term") == len(consequences.TERMS)
