"""The app's request class: a body that is not JSON is the client's error, whatever its bytes."""

from __future__ import annotations

from typing import Any, NoReturn

from quart import Request as QuartRequest
from werkzeug.exceptions import BadRequest


class Request(QuartRequest):
    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        # Quart decodes the body as UTF-8 outside its own error handling, so bytes that
        # are not UTF-8 would end as a 500 instead of a 400.
        try:
            return await super().get_json(force=force, silent=silent, cache=cache)
        except UnicodeDecodeError as error:
            if silent:
                return None
            return self.on_json_loading_failed(error)

    def on_json_loading_failed(self, error: Exception) -> NoReturn:
        raise BadRequest("The request body is not valid JSON: send UTF-8 JSON with "
                         "'Content-Type: application/json'.")
