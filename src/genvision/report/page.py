"""The static HTML page: one section per model, figures as <img> of PNG files beside index.html, a metrics
table; no scripts, no network. Every text is escaped."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple


class Figure(NamedTuple):
    """A PNG in the report folder (path) and what it shows."""

    path: Path
    caption: str


class Note(NamedTuple):
    """A sentence in place of a figure (why a figure is missing, or where its numbers come from)."""

    text: str


Item = Figure | Note


@dataclass
class Section:
    """One model: title, description, provenance facts, figures and notes in order, stored metrics."""

    anchor: str
    title: str
    description: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    headline: str = ""


_CSS = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
section{border-top:2px solid #ccc;margin-top:2em}figure{display:inline-block;margin:.5em 1em .5em 0;
vertical-align:top}figcaption{font-size:.85em;color:#555;max-width:520px}img{image-rendering:pixelated;
max-width:100%}table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:2px 8px;
text-align:left}.note{color:#a50;font-size:.9em}code{font-size:.85em}"""


def format_value(value: Any, *, max_items: int = 12) -> str | None:
    """A metric as short text: numbers to 4 significant digits, short lists and {key: number} maps inline;
    None for what does not fit a table cell (long lists, nested data)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value if len(value) <= 60 else None
    if isinstance(value, list | tuple) and len(value) <= max_items and all(_is_number(v) for v in value):
        return "[" + ", ".join(f"{v:.3g}" for v in value) + "]"
    if isinstance(value, dict) and len(value) <= max_items and all(_is_number(v) for v in value.values()):
        return ", ".join(f"{k}: {v:.3g}" for k, v in value.items())
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _metrics_table(metrics: dict[str, Any]) -> str:
    rows = [(k, format_value(v)) for k, v in metrics.items()]
    rows = [(k, v) for k, v in rows if v is not None]
    if not rows:
        return "<p class=note>No stored metrics.</p>"
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _item(item: Item, out_dir: Path) -> str:
    if isinstance(item, Note):
        return f"<p class=note>{html.escape(item.text)}</p>"
    src = html.escape(os.path.relpath(item.path, out_dir).replace(os.sep, "/"), quote=True)
    alt = html.escape(item.caption, quote=True)
    return (f'<figure><img src="{src}" alt="{alt}"><figcaption>{html.escape(item.caption)}</figcaption>'
            "</figure>")


def _section(sec: Section, out_dir: Path) -> str:
    facts = "".join(f"<tr><th>{html.escape(k)}</th><td><code>{html.escape(v)}</code></td></tr>"
                    for k, v in sec.facts)
    parts = [f'<section id="{html.escape(sec.anchor, quote=True)}"><h2>{html.escape(sec.title)}</h2>',
             f"<p>{html.escape(sec.description)}</p>" if sec.description else "",
             f"<p><b>{html.escape(sec.headline)}</b></p>" if sec.headline else "",
             f"<table>{facts}</table>" if facts else "",
             "<div>", *(_item(i, out_dir) for i in sec.items), "</div>",
             "<h3>Stored metrics</h3>", _metrics_table(sec.metrics), "</section>"]
    return "\n".join(p for p in parts if p)


def render_page(sections: list[Section], out_dir: Path, *, title: str, intro: str = "") -> str:
    """The whole page as a string; image paths are written relative to out_dir."""
    toc = "".join(f'<li><a href="#{html.escape(s.anchor, quote=True)}">{html.escape(s.title)}</a></li>'
                  for s in sections)
    body = "\n".join(_section(s, out_dir) for s in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n<h1>{html.escape(title)}</h1>\n"
            f"<p>{html.escape(intro)}</p>\n<ul>{toc}</ul>\n{body}\n</body></html>\n")


def write_page(text: str, path: Path) -> Path:
    """Write index.html through a temporary file and a rename, so a reader never sees half a page."""
    from genvision.train.checkpoint import atomic_write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
