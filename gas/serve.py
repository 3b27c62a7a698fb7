"""Running roles in one event loop: ``gas serve`` runs them all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from app.config import Settings
from app.services import Services, open_services

log = logging.getLogger(__name__)

# The lifecycle daemons, each the module of that name in ``daemons/``.
DAEMONS = ("notify", "archive", "restore", "thaw")
ROLES = ("annotator", *DAEMONS)


def _role(name: str) -> Callable[[Services], Coroutine[Any, Any, None]]:
    if name == "annotator":
        from annotator.worker import run

        return run
    if name in DAEMONS:
        from importlib import import_module

        daemon: Callable[[Services], Coroutine[Any, Any, None]] = import_module(f"daemons.{name}").run
        return daemon
    raise ValueError(f"unknown role {name!r}")


async def run_roles(
    settings: Settings, stop: asyncio.Event, roles: list[str], *, web: bool = False
) -> None:
    services = await open_services(settings)
    tasks = [asyncio.create_task(_role(name)(services), name=name) for name in roles]
    try:
        if web:
            from app.web import create_app

            config = Config()
            config.bind = [f"{settings.host}:{settings.port}"]
            config.graceful_timeout = 3
            config.accesslog = None
            # Through our own handler (text or JSON), not a second one of hypercorn's.
            config.errorlog = logging.getLogger("hypercorn.error")
            log.info("GAS listening on %s", settings.public_url)
            await hypercorn_serve(create_app(settings, services), config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
        else:
            await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await services.close()
        log.info("stopped")

