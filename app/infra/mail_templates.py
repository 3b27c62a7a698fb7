"""The bodies of every mail GAS sends, in plain text and HTML, from app/templates/mail/."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

# A block tag on a line of its own leaves no blank line behind (trim and lstrip), and a
# template's last newline is kept: the plain text is laid out as written in the template.
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates" / "mail"),
    autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
    keep_trailing_newline=True, undefined=StrictUndefined,
)


def bodies(name: str, **context: object) -> tuple[str, str]:
    """(plain text, HTML) of the mail ``name`` (``name.txt`` and ``name.html``)."""
    text, html = (_TEMPLATES.get_template(f"{name}.{kind}").render(**context) for kind in ("txt", "html"))
    return text, html
