"""Markdown to sanitised HTML and to plain text (for SMS)."""

from __future__ import annotations

import html
import re

import markdown
import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "blockquote",
    "code",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"https", "http", "tel", "mailto", "sms"}

_UNSAFE = (
    (re.compile(r"<\s*script", re.I), "raw <script> is not allowed"),
    (re.compile(r"<[^>]*\son[a-z]+\s*=", re.I), "on* event attributes are not allowed"),
    (re.compile(r"javascript\s*:", re.I), "javascript: URLs are not allowed"),
    (re.compile(r"<\s*(iframe|object|embed|style|form)", re.I), "embedded HTML is not allowed"),
)


def unsafe_reasons(source: str) -> list[str]:
    """Why ``source`` is unsafe to publish (empty when it is fine)."""
    return [reason for pattern, reason in _UNSAFE if pattern.search(source)]


def to_html(source: str) -> str:
    raw = markdown.markdown(source, extensions=["sane_lists"])
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r'<a [^>]*href="([^"]+)"[^>]*>(.*?)</a>')


def to_text(source: str) -> str:
    """Plain text: one line per paragraph or list item, links as "text (url)"."""
    rendered = to_html(source)
    rendered = _LINK.sub(
        lambda m: m.group(2) if m.group(1).endswith(m.group(2)) else f"{m.group(2)} ({m.group(1)})",
        rendered,
    )
    rendered = re.sub(r"<li>", "- ", rendered)
    rendered = re.sub(r"</(p|li|h3|h4|blockquote)>|<br ?/?>", "\n", rendered)
    text = html.unescape(_TAG.sub("", rendered))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)
