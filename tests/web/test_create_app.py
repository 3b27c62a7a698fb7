"""The app's wiring: what every page pays for before its view runs."""

from __future__ import annotations

import inspect

from quart import render_template_string
from quart.testing.app import TestApp
from quart_auth import AuthUser, login_user


async def test_template_context_processors_are_async(app: TestApp) -> None:
    """No sync context processor: Quart would run it on a worker thread for every page
    rendered (quart-auth's and Flask's blueprint default: 12% of a profile of the job list)."""
    processors = [p for name in app.app.template_context_processors
                  for p in app.app.template_context_processors[name]]
    assert processors
    assert [p for p in processors if not inspect.iscoroutinefunction(p)] == []


async def test_templates_still_see_current_user(app: TestApp) -> None:
    """quart-auth's `current_user` stays available to templates, signed out and in."""
    async with app.app.test_request_context("/"):
        assert await render_template_string("{{ current_user.auth_id }}") == "None"
    async with app.app.test_request_context("/"):
        login_user(AuthUser("someone"))
        assert await render_template_string("{{ current_user.auth_id }}") == "someone"
