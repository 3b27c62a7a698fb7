"""The viewer's consequence order and IMPACT classes."""

from __future__ import annotations

from annotator import consequence
from app.results import consequences


def test_the_viewers_order_is_the_engines() -> None:
    """The viewer ranks terms (the row's most severe, the select, the plot) in the
    order the engine ranks them when it writes GAS_CONSEQUENCE; app cannot import
    the engine, so the two lists are held equal here."""
    assert consequences.TERMS == consequence.SEVERITY
    assert set(consequence.IMPACT.values()) == set(consequences.IMPACTS)


def test_impact_at_least() -> None:
    """'At least MODERATE' is HIGH and MODERATE; 'at least MODIFIER' is every class."""
    assert consequences.at_least("MODERATE") == ("HIGH", "MODERATE")
    assert consequences.at_least("MODIFIER") == consequences.IMPACTS
    assert consequences.term_rank("stop_gained") < consequences.term_rank("missense_variant")
    assert consequences.term_rank("not_a_term") == len(consequences.TERMS)
