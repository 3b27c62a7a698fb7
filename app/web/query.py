"""A page's query string, read through a pydantic model of it.

Each page declares what it takes as a model (its fields, with the defaults and the
forgiving conversions the page has always made); :func:`read` is the one place where a
value the page refuses becomes the client's error: a 400 whose text is the validator's
own message, said the way a person can act on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError
from quart import request
from werkzeug.exceptions import BadRequest

M = TypeVar("M", bound=BaseModel)


def cut(length: int) -> Callable[[str], str]:
    """For an ``AfterValidator``: the text's first ``length`` characters (no page needs
    more, and a log line or a query is not made of whatever length was sent)."""
    return lambda text: text[:length]


def refuse(message: str) -> PydanticCustomError:
    """For a validator to raise: the 400's text, shown as it is."""
    # In the context, not the template: a value quoted in the message may hold braces.
    return PydanticCustomError("refused", "{message}", {"message": message})


def read(model: type[M], **context: object) -> M:
    """The request's query string as ``model`` (of a repeated argument, its first value);
    ``context``: for its validators (pydantic's validation context)."""
    try:
        return model.model_validate(request.args.to_dict(), context=context)
    except ValidationError as error:
        raise BadRequest(error.errors()[0]["msg"]) from None
