"""Checklists and incident reports as HTML: CommonMark plus tables, raw HTML escaped, unsafe links refused.

The reports hold operator text and journal data (answers, notes, error messages): HTML in them is shown
as text, never interpreted, and markdown-it's link check drops ``javascript:`` and ``data:`` URLs.
"""

from __future__ import annotations

from typing import Any

_MD: Any = None


def render(text: str) -> str:
    global _MD
    if _MD is None:
        from markdown_it import MarkdownIt

        _MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    return _MD.render(text)
