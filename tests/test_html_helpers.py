"""tests/html.py finds what a person sees on a small page, and says so loudly when it is not
there."""

from __future__ import annotations

import pytest

from tests.html import MissingElement, parse

PAGE = """<!doctype html>
<html lang="ar" dir="rtl">
<head><title>الإحالات</title><script>var shown = "not text";</script>
<script type="application/json" id="plan">{"a": "<b> &amp;"}</script></head>
<body>
<nav><a href="/">Home</a>
  <a href="/chat" class="current here">Chat <span class="nav-badge">2</span></a></nav>
<main>
  <h1>Referrals</h1>
  <p id="intro">Ring <b>first</b>, then<br>text.</p>
  <ul><li data-task="7">Ring back</li><li data-task="9" hidden>Done <em>already</em></li></ul>
  <table id="numbers"><caption>By agency</caption>
    <tr><th scope="col">Agency</th><th scope="col">People</th></tr>
    <tr><th scope="row">Northside <abbr>Trust</abbr></th><td class="num">3</td></tr>
  </table>
  <form id="f" method="post" action="/pcw/tasks">
    <input type="hidden" name="csrf" value="tok">
    <input name="title" value="Typed &lt;Name&gt;" aria-invalid="true">
    <input name="note">
    <input type="checkbox" name="kind" value="call" checked>
    <input type="checkbox" name="kind" value="visit">
    <input type="radio" name="urgent" value="yes">
    <input type="radio" name="urgent" value="no" checked>
    <select name="language">
      <option value="">Any</option><option value="sm" selected>Samoan</option>
    </select>
    <select name="agency">
      <option value="">All agencies</option><option value="3">North</option>
    </select>
    <textarea name="body">
Line one &amp; two</textarea>
    <input name="off" value="x" disabled>
    <fieldset disabled><input name="also_off" value="y"></fieldset>
    <template><input name="row.__i__" value="template rows are not on the page"></template>
    <button type="submit" name="action" value="save">Save</button>
  </form>
</main>
</body>
</html>"""


def test_elements_by_css_selector_with_their_text_and_attributes() -> None:
    page = parse(PAGE)
    assert (page.lang, page.dir, page.title) == ("ar", "rtl", "الإحالات")
    assert page.find("h1").text() == "Referrals"
    # inline elements run on, blocks and line breaks separate words, spaces are collapsed
    assert page.find("#intro").text() == "Ring first, then text."
    assert page.find("nav a.current").attr("href") == "/chat"
    assert page.find("nav a.here").classes == ["current", "here"]
    assert page.find("nav a.here .nav-badge").text() == "2"
    assert page.links() == ["/", "/chat"]
    assert page.attribute_values("data-task") == ["7", "9"]
    assert page.texts("li") == ["Ring back", "Done already"]
    assert page.find("li[data-task='9']").hidden and not page.find("li[data-task='7']").hidden
    assert "not text" not in page.text()  # script source is not something a person reads
    assert page.find("script#plan").source() == '{"a": "<b> &amp;"}'  # a script is not HTML
    assert page.find("[name=title]").get("aria-invalid") == "true"
    assert page.find("[name=title]").get("placeholder") is None


def test_tables_read_as_rows_of_cell_texts() -> None:
    table = parse(PAGE).find("table#numbers")
    assert table.find("caption").text() == "By agency"
    assert table.rows() == [["Agency", "People"], ["Northside Trust", "3"]]


def test_form_fields_and_what_the_form_sends() -> None:
    page = parse(PAGE)
    assert page.field("title").value() == "Typed <Name>"
    assert page.field("body").value() == "Line one & two"
    assert page.field("language").value() == "sm"
    assert page.field("agency").value() == ""  # nothing marked: the first option shows
    assert page.ticked("kind") == ["call"] and page.ticked("urgent") == ["no"]
    assert page.selected("language") == ["sm"] and page.selected("agency") == []
    assert page.options("agency") == [("", "All agencies"), ("3", "North")]
    assert page.find("form#f").form_data() == [
        ("csrf", "tok"),
        ("title", "Typed <Name>"),
        ("note", ""),
        ("kind", "call"),
        ("urgent", "no"),
        ("language", "sm"),
        ("agency", ""),
        ("body", "Line one & two"),
    ]


def test_a_fragment_is_read_like_a_page() -> None:
    fragment = parse('<div id="board"><p>Hi</p></div>\n<span id="badge" hx-swap-oob="true"></span>')
    assert [(e.tag, e.id) for e in fragment.top()] == [("div", "board"), ("span", "badge")]
    assert fragment.find("#badge").attr("hx-swap-oob") == "true"
    assert fragment.find("#badge").text() == ""


def test_what_is_not_there_fails_loudly() -> None:
    page = parse(PAGE)
    with pytest.raises(MissingElement, match=r"nothing matches 'form#missing'"):
        page.find("form#missing")
    with pytest.raises(MissingElement, match=r"2 elements match 'li'"):
        page.one("li")
    with pytest.raises(MissingElement, match=r"no 'href' attribute"):
        page.find("h1").attr("href")
    with pytest.raises(MissingElement):
        page.field("nobody")
    with pytest.raises(MissingElement):
        page.find("h1").rows()
    assert not page.has("form#missing") and page.find_all("form#missing") == []
    assert page.find("#intro").find_all("p") == []  # an element is not inside itself
    assert isinstance(MissingElement("x"), AssertionError)  # pytest reports it as a failure
