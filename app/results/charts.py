"""Bar charts as server-rendered SVG: no chart library, no script, no CDN."""

from __future__ import annotations

from html import escape


def horizontal_bars(
    title: str, items: list[tuple[str, int]], *, width: int = 340, row: int = 20, label_width: int = 110,
    links: list[tuple[str, str]] | None = None,
) -> str:
    """An accessible SVG bar chart: a <title>, and one labelled bar per item. With
    ``links`` (an address and an accessible name per item) each bar, its label and
    value are one link, reached by Tab like any other."""
    if not items:
        return ""
    # Long labels (SO terms such as non_coding_transcript_exon_variant) widen the
    # chart rather than run off its left edge; about 7 px a character at 12 px.
    wide = max(label_width, 7 * max(len(label) for label, _ in items) + 10)
    width, label_width = width + wide - label_width, wide
    top = max(value for _, value in items) or 1
    plot = width - label_width - 60
    height = row * len(items) + 10
    parts = [
        # role=img would hide the links inside from assistive technology.
        f'<svg class="chart" role="{"group" if links else "img"}" aria-labelledby="{_id(title)}" '
        f'viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_id(title)}">{escape(title)}</title>',
    ]
    for index, (label, value) in enumerate(items):
        y = 5 + index * row
        bar = max(1.0, plot * value / top)
        if links:
            href, name = links[index]
            parts.append(f'<a href="{escape(href)}" aria-label="{escape(name)}" class="chart-link">')
        parts.append(
            f'<g><text x="{label_width - 6}" y="{y + row * 0.65:.1f}" text-anchor="end" '
            f'class="chart-label">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{bar:.1f}" height="{row - 7}" class="chart-bar">'
            f"<title>{escape(label)}: {value:,}</title></rect>"
            f'<text x="{label_width + bar + 5:.1f}" y="{y + row * 0.65:.1f}" class="chart-value">'
            f"{value:,}</text></g>"
        )
        if links:
            parts.append("</a>")
    parts.append("</svg>")
    return "".join(parts)


def _id(title: str) -> str:
    return "chart-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())
