"""Rendering the recon and audit reports from the templates in distill/templates.

The templates hold the wording and layout; the Python that calls them hands over plain
data. Markdown cells are escaped here so that a key holding a `|` cannot break a table.
"""

from __future__ import annotations

import os
from pathlib import Path

import jinja2


def md_cell(value: object) -> str:
    """A value as one Markdown table cell: pipes escaped, line breaks flattened."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def number(value: object) -> str:
    """Counts with thousands separators; shares and ratios with four decimals."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def _environment(autoescape: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("distill", "templates"),
        autoescape=autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["md"] = md_cell
    environment.filters["n"] = number
    return environment


def render(template: str, **context: object) -> str:
    """Render a template; HTML templates (*.html.j2) are autoescaped."""
    return _environment(template.endswith(".html.j2")).get_template(template).render(**context)


def write_atomically(path: Path, text: str) -> Path:
    """Write beside the target and rename, so a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
