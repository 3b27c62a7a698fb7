"""Running roles in one event loop: ``gas serve`` runs them all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from importlib import import_module
from typing import Any

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from app.config import Settings
from app.services import Services, open_services

log = logging.getLogger(__name__)

Run = Callable[[Services], Coroutine[Any, Any, None]]

# Each role (a process on AWS, a task of `gas serve`) and the modules whose ``run`` it runs.
# The archiver's role, the one that already looks after stored objects over time, also sweeps
# the uploads that never became a job.
ROLES: dict[str, tuple[str, ...]] = {
    "annotator": ("annotator.worker",),
    "notify": ("daemons.notify",),
    "archive": ("daemons.archive", "daemons.unclaimed_uploads"),
    "restore": ("daemons.restore",),
    "thaw": ("daemons.thaw",),
}
# The lifecycle daemons' roles (one systemd unit each, deploy/).
DAEMONS = tuple(role for role in ROLES if role != "annotator")


def role_runs(role: str) -> list[tuple[str, Run]]:
    """The role's modules and their ``run``; imported only by a process that runs them (the
    annotator's engine is not loaded by a daemon)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return [(module, import_module(module).run) for module in ROLES[role]]


async def run_roles(
    settings: Settings, stop: asyncio.Event, roles: list[str], *, web: bool = False
) -> None:
    services = await open_services(settings)
    tasks = [asyncio.create_task(run(services), name=module)
             for role in roles for module, run in role_runs(role)]
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

