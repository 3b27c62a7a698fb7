"""``hypercorn app.asgi:app``: the web role alone, settings from the environment."""

from app.web import create_app

app = create_app()
