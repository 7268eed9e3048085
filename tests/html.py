"""Reading pages in tests the way a browser reads them.

One small layer over a real HTML5 parser (selectolax's Lexbor engine, the parsing algorithm
browsers use), so a test asks for what a person sees instead of matching markup text:

    page = parse(client.get("/chat").text)
    card = page.find("article.answer")          # the first match, or a loud failure
    assert "claim" in card.find("h3").text().lower()
    assert [li.attr("data-status") for li in page.find_all("li.msg")] == ["answer"]
    assert page.lang == "en" and page.dir == "ltr"
    form = page.find("form#fill-form")
    data = form.form_data()                     # what submitting it sends, as (name, value)s

Elements are found with CSS selectors (``find``, ``find_all``, ``one``, ``has``). A selector
that matches nothing in ``find``/``one``, or an attribute that is not there in ``attr``, raises
``MissingElement`` (an ``AssertionError``) that names what was looked for and where.

Text is what a person reads: the text of the element and everything in it, with the spaces a
browser collapses collapsed, a space where a block (paragraph, list item, table cell...) or a
line break ends, and no script or style source.
"""

from __future__ import annotations

from collections.abc import Iterator

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["Element", "MissingElement", "Page", "parse"]

# Elements whose edges separate words on screen (the rest run on into their neighbours' text).
_BLOCK_TAGS = """address article aside blockquote br caption dd details dialog div dl dt fieldset
figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr legend li main nav ol option p pre
section summary table tbody td tfoot th thead tr ul"""
_BLOCKS = frozenset(_BLOCK_TAGS.split())
_UNREAD = frozenset({"script", "style", "template"})
_CONTROLS = ("input", "select", "textarea")
# Inputs a form never sends by themselves (buttons send only when they are the one pressed).
_NOT_SENT = frozenset({"submit", "button", "reset", "image", "file"})


class MissingElement(AssertionError):
    """What a test looked for is not on the page."""


def _excerpt(markup: str, limit: int = 300) -> str:
    flat = " ".join(markup.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def _quote(value: str) -> str:
    """A CSS string for an attribute value, whatever it holds."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Element:
    """One element of a parsed page: its tag, attributes, text, and the elements inside it."""

    def __init__(self, node: LexborNode) -> None:
        self._node = node

    def __repr__(self) -> str:
        return f"<Element {_excerpt(self.html, 80)}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Element) and self._node == other._node

    def __hash__(self) -> int:
        return hash(self._node)

    # -- what it is ----------------------------------------------------------------------------

    @property
    def tag(self) -> str:
        return self._node.tag or ""

    @property
    def attrs(self) -> dict[str, str]:
        """Every attribute; one written without a value (``hidden``, ``checked``) is ``""``."""
        return {name: value or "" for name, value in self._node.attributes.items()}

    def attr(self, name: str) -> str:
        """The attribute's value; fails loudly when the element does not have it."""
        attrs = self.attrs
        if name not in attrs:
            raise MissingElement(f"no {name!r} attribute on {_excerpt(self.html, 200)}")
        return attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The attribute's value, or ``default`` when the element does not have it."""
        return self.attrs.get(name, default)

    def has_attr(self, name: str) -> bool:
        return name in self._node.attributes

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    @property
    def id(self) -> str | None:
        return self.get("id")

    @property
    def parent(self) -> Element | None:
        parent = self._node.parent
        return Element(parent) if parent is not None and parent.tag != "-document" else None

    @property
    def hidden(self) -> bool:
        """Whether the ``hidden`` attribute keeps it off screen (on it or on an element around
        it)."""
        node: Element | None = self
        while node is not None:
            if node.has_attr("hidden"):
                return True
            node = node.parent
        return False

    @property
    def html(self) -> str:
        """The element's own markup, as the parser understood it."""
        return self._node.html or ""

    # -- what is inside it ---------------------------------------------------------------------

    def find_all(self, css: str) -> list[Element]:
        """Every element inside this one that matches the CSS selector, in page order."""
        return [Element(n) for n in self._node.css(css) if n != self._node]

    def find(self, css: str) -> Element:
        """The first element inside this one that matches; fails loudly when there is none."""
        found = self.find_all(css)
        if not found:
            raise MissingElement(f"nothing matches {css!r} in {_excerpt(self.html)}")
        return found[0]

    def one(self, css: str) -> Element:
        """The only element inside this one that matches; fails loudly on none or several."""
        found = self.find_all(css)
        if len(found) != 1:
            raise MissingElement(
                f"{len(found)} elements match {css!r} (one expected) in {_excerpt(self.html)}"
            )
        return found[0]

    def has(self, css: str) -> bool:
        """Whether anything inside this element matches the CSS selector."""
        return bool(self.find_all(css))

    def text(self) -> str:
        """The text a person reads in it, spaces collapsed (see the module's notes)."""
        return " ".join("".join(self._texts(self._node)).split())

    def _texts(self, node: LexborNode) -> Iterator[str]:
        child = node.child
        while child is not None:
            if child.is_text_node:
                yield child.text_content or ""
            elif child.is_element_node and (child.tag or "") not in _UNREAD:
                block = child.tag in _BLOCKS
                if block:
                    yield " "
                yield from self._texts(child)
                if block:
                    yield " "
            child = child.next

    def source(self) -> str:
        """The text inside it as the parser holds it, nothing collapsed and script included
        (character references are decoded, except in script and style): a script's JSON, a
        ``<pre>``'s lines."""
        return self._node.text(deep=True)

    def texts(self, css: str) -> list[str]:
        """The text of every element inside this one that matches the CSS selector."""
        return [e.text() for e in self.find_all(css)]

    def attribute_values(self, name: str) -> list[str]:
        """The values of attribute ``name`` on every element inside this one, in page order."""
        return [e.attr(name) for e in self.find_all(f"[{name}]")]

    def links(self) -> list[str]:
        """Where every link inside this element goes (its ``href``), in page order."""
        return [a.attr("href") for a in self.find_all("a[href]")]

    def by_id(self, element_id: str) -> Element:
        """The element with this id; fails loudly when there is none."""
        return self.find(f"[id={_quote(element_id)}]")

    def children(self) -> list[Element]:
        """The elements directly inside this one."""
        found, child = [], self._node.child
        while child is not None:
            if child.is_element_node:
                found.append(Element(child))
            child = child.next
        return found

    def rows(self) -> list[list[str]]:
        """A table's rows as the texts of their cells (header cells included), top to bottom;
        the rows of tables inside its cells are not its own."""
        if self.tag != "table":
            raise MissingElement(f"rows() reads a table, not {_excerpt(self.html, 200)}")
        own = [r for r in self.find_all("tr") if r._table() == self]
        return [[c.text() for c in r.find_all("td, th") if c._row() == r] for r in own]

    def _table(self) -> Element | None:
        node = self.parent
        while node is not None and node.tag != "table":
            node = node.parent
        return node

    def _row(self) -> Element | None:
        node = self.parent
        while node is not None and node.tag != "tr":
            node = node.parent
        return node

    # -- forms ---------------------------------------------------------------------------------

    def field(self, name: str) -> Element:
        """The first form control (input, select or textarea) called ``name``."""
        n = _quote(name)
        return self.find(", ".join(f"{tag}[name={n}]" for tag in _CONTROLS))

    def fields(self, name: str) -> list[Element]:
        """Every form control called ``name`` (radio buttons and checkboxes share one)."""
        n = _quote(name)
        return self.find_all(", ".join(f"{tag}[name={n}]" for tag in _CONTROLS))

    @property
    def checked(self) -> bool:
        """A checkbox or radio button that is ticked, or an option that is selected."""
        return self.has_attr("checked") if self.tag == "input" else self.has_attr("selected")

    def value(self) -> str:
        """A control's value as the page shows it: an input's ``value``, a textarea's text,
        a select's chosen option (its first one when none is marked)."""
        if self.tag == "textarea":
            return self._node.text(deep=True)
        if self.tag == "select":
            chosen = [o for o in self.find_all("option") if o.has_attr("selected")]
            options = chosen or self.find_all("option")
            return options[0].option_value() if options else ""
        if self.tag == "option":
            return self.option_value()
        return self.get("value") or ("on" if self.get("type") in ("checkbox", "radio") else "")

    def option_value(self) -> str:
        """An option's value: its ``value`` attribute, or its text when it has none."""
        return self.get("value", self.text()) or ""

    def ticked(self, name: str) -> list[str]:
        """The values of the ticked checkboxes or radio buttons called ``name``."""
        return [e.value() for e in self.fields(name) if e.tag == "input" and e.checked]

    def selected(self, name: str) -> list[str]:
        """The values of the options marked ``selected`` in the select called ``name``."""
        select = self.find(f"select[name={_quote(name)}]")
        return [o.option_value() for o in select.find_all("option") if o.has_attr("selected")]

    def options(self, name: str) -> list[tuple[str, str]]:
        """Every option of the select called ``name``, as (value, text)."""
        select = self.find(f"select[name={_quote(name)}]")
        return [(o.option_value(), o.text()) for o in select.find_all("option")]

    def form_data(self) -> list[tuple[str, str]]:
        """What submitting this form sends without JavaScript (before the pressed button's own
        name and value): every enabled, named control in it, as the page shows it."""
        if self.tag != "form":
            raise MissingElement(f"form_data() reads a form, not {_excerpt(self.html, 200)}")
        sent: list[tuple[str, str]] = []
        for control in self.find_all(", ".join(_CONTROLS)):
            name = control.get("name")
            if not name or control.has_attr("disabled") or control._in_disabled_fieldset():
                continue
            if control.tag == "select":
                chosen = [o for o in control.find_all("option") if o.has_attr("selected")]
                if not chosen and not control.has_attr("multiple"):
                    chosen = control.find_all("option")[:1]
                sent += [(name, o.option_value()) for o in chosen if not o.has_attr("disabled")]
            elif control.tag == "textarea":
                sent.append((name, control.value()))
            elif (kind := control.get("type", "text")) in _NOT_SENT:
                continue
            elif kind in ("checkbox", "radio"):
                if control.checked:
                    sent.append((name, control.value()))
            else:
                sent.append((name, control.value()))
        return sent

    def _in_disabled_fieldset(self) -> bool:
        node = self.parent
        while node is not None:
            if node.tag == "fieldset" and node.has_attr("disabled"):
                return True
            node = node.parent
        return False


class Page(Element):
    """A whole parsed page (or an htmx fragment, which the parser puts in a page's body)."""

    def __init__(self, markup: str) -> None:
        self._tree = LexborHTMLParser(markup)
        root = self._tree.root
        assert root is not None, "the parser made no page"
        super().__init__(root)

    def find_all(self, css: str) -> list[Element]:
        return [Element(n) for n in self._tree.css(css)]

    @property
    def lang(self) -> str | None:
        """The page's language, from ``<html lang>``."""
        return self.get("lang")

    @property
    def dir(self) -> str | None:
        """The page's direction, from ``<html dir>``: ``ltr`` or ``rtl``."""
        return self.get("dir")

    @property
    def title(self) -> str:
        titles = self.find_all("head > title")
        return titles[0].text() if titles else ""

    def top(self) -> list[Element]:
        """The elements at the top of the body: for an htmx fragment, what it is made of."""
        body = self._tree.body
        return [] if body is None else Element(body).children()


def parse(markup: str) -> Page:
    """The page (or fragment) ``markup``, parsed as a browser parses it."""
    return Page(markup)
