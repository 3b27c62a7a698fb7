"""How request bodies are read: a small size limit everywhere but the object store's
upload, and JSON that is not UTF-8 or is nested too deep, or a form field with NUL
in it, as the client's error."""

from __future__ import annotations

from typing import Any, NoReturn

from quart import Request as QuartRequest
from werkzeug.exceptions import BadRequest

# Forms, JSON and Stripe's events are small. Only uploads to the local object store
# may be as large as an input file (MAX_CONTENT_LENGTH); everywhere else a larger
# body is refused before it is read, instead of being buffered in memory.
BODY_LIMIT = 1 << 20
UPLOADS_PATH = "/objects/"


class Request(QuartRequest):
    def __init__(self, method: str, scheme: str, path: str, *args: Any,
                 max_content_length: int | None = None, **kwargs: Any) -> None:
        # The limit is fixed when the body is created, before routing, so it goes by the path.
        if not path.startswith(UPLOADS_PATH):
            max_content_length = min(max_content_length or BODY_LIMIT, BODY_LIMIT)
        super().__init__(method, scheme, path, *args, max_content_length=max_content_length, **kwargs)
        self.max_content_length = max_content_length

    async def _load_form_data(self) -> None:
        await super()._load_form_data()
        # PostgreSQL's text cannot hold NUL, and no field a person fills in has one:
        # refused here, at every access, rather than by the database as a 500.
        if self._form is not None and any(
            "\x00" in name or "\x00" in value for name, value in self._form.items(multi=True)
        ):
            raise BadRequest("A form field contains a NUL character, which GAS cannot store: "
                             "remove it and send the form again.")

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        # Quart decodes the body as UTF-8 outside its own error handling, so bytes that
        # are not UTF-8 would end as a 500 instead of a 400.
        try:
            return await super().get_json(force=force, silent=silent, cache=cache)
        except UnicodeDecodeError as error:
            if silent:
                return None
            return self.on_json_loading_failed(error)
        except RecursionError:
            # The parser recurses per nesting level: a megabyte of "[" goes past
            # Python's recursion limit, outside Quart's handling of bad JSON too.
            if silent:
                return None
            raise BadRequest("The JSON body is nested too deeply: send at most a few "
                             "hundred levels of arrays and objects.") from None

    def on_json_loading_failed(self, error: Exception) -> NoReturn:
        raise BadRequest("The request body is not valid JSON: send UTF-8 JSON with "
                         "'Content-Type: application/json'.")
