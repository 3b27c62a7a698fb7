"""Where a request finds the process's services."""

from __future__ import annotations

from quart import current_app

from app.services import Services


def services() -> Services:
    found: Services = current_app.config["GAS"]
    return found
