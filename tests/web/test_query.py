"""app/web/query.py: a page's query string through its model, and a refusal as a 400."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, field_validator
from quart import Quart
from werkzeug.exceptions import BadRequest

from app.web import query


class Shape(BaseModel):
    colour: str = "red"
    sides: int = 3

    @field_validator("colour")
    @classmethod
    def _known(cls, colour: str) -> str:
        if colour not in ("red", "blue"):
            raise query.refuse(f"The colour filter takes red or blue; not {colour!r}.")
        return colour


async def test_arguments_are_read_through_the_model_first_value_first() -> None:
    async with Quart(__name__).test_request_context("/?colour=blue&colour=red&sides=4&other=x"):
        assert query.read(Shape) == Shape(colour="blue", sides=4)


async def test_a_refusal_is_a_400_whose_text_is_the_validators_message_as_it_is() -> None:
    """Braces in a quoted value stay as typed (pydantic formats a message template)."""
    async with Quart(__name__).test_request_context("/?colour={sides}"):
        with pytest.raises(BadRequest) as refused:
            query.read(Shape)
    assert refused.value.description == "The colour filter takes red or blue; not '{sides}'."
