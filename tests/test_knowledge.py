"""The knowledge base: loading, checking, export, usage counts and the coordinators' pages."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from assistant.cli import app as cli_app
from assistant.knowledge import LANGUAGES, get_knowledge_base, load_knowledge_base
from assistant.knowledge.check import check_knowledge
from assistant.knowledge.export import export_records
from assistant.knowledge.overview import knowledge_overview
from assistant.knowledge.usage import UnknownUsageKind, record_usage, usage_counts
from assistant.matcher.check import check_lexicon
from assistant.people.models import Role
from tests import factories
from tests.conftest import Client

TOPICS = Path(__file__).parent / "data" / "topics.tsv"

GOOD = """\
---
id: sample-entry
audience: practice
owning_team: mso
title: A sample entry
keywords: [sample, example]
synonyms: [specimen]
reviewed: 2026-10-01
source: A public source
---
Some **bold** advice. See [the guide](https://example.org/guide).
"""


def write_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    real = Path(__file__).resolve().parent.parent / "knowledge"
    for name in ("_synonyms.yaml", "_safety.yaml", "emergency.md", "crisis-support.md"):
        (folder / name).write_text((real / name).read_text(encoding="utf-8"), encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


# -- the real knowledge base ------------------------------------------------------------


def test_real_knowledge_base_has_no_problems() -> None:
    assert check_knowledge() == []
    assert check_lexicon() == []


def test_every_topic_has_an_entry_with_its_audience_and_team() -> None:
    kb = get_knowledge_base()
    rows = [line.split("\t") for line in TOPICS.read_text(encoding="utf-8").splitlines()[1:]]
    assert rows, "topics table is empty"
    for topic_id, audience, team, *_rest in rows:
        entry = kb.get(topic_id)
        assert entry is not None, topic_id
        assert (entry.audience, entry.owning_team) == (audience, team), topic_id
        assert entry.source and entry.reviewed <= date(2026, 12, 31)


def test_patient_and_safety_entries_speak_every_language_briefly() -> None:
    for entry in get_knowledge_base().entries:
        if entry.audience == "practice":
            assert "en" in entry.variants
            continue
        assert set(entry.variants) == set(LANGUAGES), entry.id
        for variant in entry.variants.values():
            limit = 300 if variant.body_text.isascii() else 130  # GSM-7 or UCS-2 SMS
            assert len(variant.body_text) <= limit, (entry.id, variant.lang)


def test_variant_falls_back_to_english() -> None:
    entry = get_knowledge_base().get("claims-submission")
    assert entry is not None
    assert entry.variant("mi").lang == "en"
    assert entry.variant("ar").lang == "en"
    visit = get_knowledge_base().get("visit-costs")
    assert visit is not None and visit.variant("ar").lang == "ar"


# -- loading and checking ---------------------------------------------------------------


def test_a_good_entry_renders_safe_html_and_plain_text(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_folder(tmp_path, {"sample-entry.md": GOOD}))
    assert kb.problems == []
    entry = kb.get("sample-entry")
    assert entry is not None
    variant = entry.variant("en")
    assert "<strong>bold</strong>" in variant.body_html
    assert 'href="https://example.org/guide"' in variant.body_html
    assert 'rel="noopener noreferrer"' in variant.body_html
    assert variant.body_text == "Some bold advice. See the guide (https://example.org/guide)."


def _broken(field: str, value: str) -> str:
    lines = [
        f"{field}: {value}" if line.startswith(f"{field}:") else line for line in GOOD.splitlines()
    ]
    return "\n".join(lines) + "\n"


def _without(field: str) -> str:
    return "\n".join(line for line in GOOD.splitlines() if not line.startswith(f"{field}:")) + "\n"


BAD_ENTRIES = [
    (_broken("owning_team", "finance"), 4, "unknown team 'finance'"),
    (_broken("audience", "doctors"), 3, "unknown audience 'doctors'"),
    (_without("source"), 1, "missing required field 'source'"),
    (_without("reviewed"), 1, "missing required field 'reviewed'"),
    (_without("title"), 1, "missing required field 'title'"),
    (_broken("reviewed", "next week"), 8, "reviewed must be a date"),
    (_broken("id", "Bad Id"), 2, "must be lower-case words joined by hyphens"),
    (
        GOOD.replace(
            "source: A public source\n",
            "source: A public source\nvariants:\n  fr:\n    title: Bonjour\n    body: Salut\n",
        ),
        11,
        "unknown language 'fr'",
    ),
    (
        GOOD.replace(
            "source: A public source\n",
            "source: A public source\nvariants:\n  mi:\n    title: Kia ora\n",
        ),
        11,
        "variant 'mi': missing required field 'body'",
    ),
    (GOOD + "<script>alert(1)</script>\n", 11, "raw <script> is not allowed"),
    (GOOD + '<img src="x.png" onerror="alert(1)">\n', 11, "on* event attributes are not allowed"),
    (GOOD + "[click](javascript:alert(1))\n", 11, "javascript: URLs are not allowed"),
    ("id: no-header\n\nText\n", 1, "missing YAML header"),
    (
        GOOD.replace("---\nSome", "---\n", 1).replace(
            " **bold** advice. See [the guide](https://example.org/guide).\n", ""
        ),
        11,
        "missing required field 'body'",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_ENTRIES)
def test_check_rejects_a_bad_entry_with_file_line_and_reason(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    problems = check_knowledge(write_folder(tmp_path, {"sample-entry.md": text}))
    assert any(
        p.startswith(f"knowledge/sample-entry.md:{line}: ") and message in p for p in problems
    ), problems


def test_check_rejects_a_duplicate_id(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, {"a-first.md": GOOD, "b-second.md": GOOD})
    problems = check_knowledge(folder)
    assert problems == [
        "knowledge/b-second.md:2: duplicate id 'sample-entry' (also in knowledge/a-first.md)"
    ]


def test_check_wants_every_language_for_patient_entries(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, {"sample-entry.md": _broken("audience", "patient")})
    problems = check_knowledge(folder)
    assert problems == [
        "knowledge/sample-entry.md:1: patient entry needs every language; "
        "missing: mi, sm, to, zh_Hans, hi, ar"
    ]


def test_check_wants_red_flags_in_every_language(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, {"sample-entry.md": GOOD})
    (folder / "_safety.yaml").write_text("emergency:\n  en: [chest pain]\n", encoding="utf-8")
    problems = check_lexicon(folder)
    assert "knowledge/_safety.yaml:1: 'emergency' has no red-flag words for 'mi'" in problems
    assert "knowledge/_safety.yaml:1: 'crisis-support' has no red-flag words for 'en'" in problems


def test_check_rejects_a_red_flag_rule_naming_an_unknown_concept(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, {"sample-entry.md": GOOD})
    safety = folder / "_safety.yaml"
    safety.write_text(
        safety.read_text(encoding="utf-8") + '    - ["@want", "@no_such_concept"]\n',
        encoding="utf-8",
    )
    assert check_lexicon(folder) == [
        "knowledge/_safety.yaml:1: a 'crisis-support' rule names an unknown concept "
        "'@no_such_concept'"
    ]


def test_check_rejects_a_red_flag_rule_with_an_empty_group(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, {"sample-entry.md": GOOD})
    safety = folder / "_safety.yaml"
    safety.write_text(
        safety.read_text(encoding="utf-8") + "    - [[only, one, group], []]\n", encoding="utf-8"
    )
    assert check_lexicon(folder) == [
        "knowledge/_safety.yaml:1: 'together' rule for 'crisis-support' needs one or more "
        "lists of words"
    ]


def test_check_rejects_a_synonym_that_never_matches(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, {"sample-entry.md": GOOD})
    synonyms = folder / "_synonyms.yaml"
    text = synonyms.read_text(encoding="utf-8").replace(
        "concepts:\n", "concepts:\n  work-words: [their work, unfunded work, the]\n", 1
    )
    synonyms.write_text(text, encoding="utf-8")
    # "their work" is matched whole, as written; "the" alone is ignored in every question.
    assert check_lexicon(folder) == [
        "knowledge/_synonyms.yaml:1: concept 'work-words': phrase 'the' is a small word that "
        "questions ignore; it never matches"
    ]


def test_check_command_reports_knowledge_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_folder(tmp_path, {"sample-entry.md": _broken("owning_team", "finance")})
    monkeypatch.setattr("assistant.knowledge._loader.KNOWLEDGE_DIR", folder)
    monkeypatch.setattr("assistant.knowledge.check.KNOWLEDGE_DIR", folder)
    monkeypatch.setattr("assistant.content_check.CHECKERS", {"knowledge": check_knowledge})
    result = CliRunner().invoke(cli_app, ["check"])
    assert result.exit_code == 1
    assert "knowledge/sample-entry.md:4: unknown team 'finance'" in result.output


# -- export -------------------------------------------------------------------------------


def test_export_json_has_one_record_per_language_variant() -> None:
    result = CliRunner().invoke(cli_app, ["kb", "export", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    kb = get_knowledge_base()
    assert len(records) == sum(len(entry.variants) for entry in kb.entries)
    assert all(
        set(r) == {"id", "audience", "owning_team", "lang", "title", "text"} for r in records
    )
    zh = next(r for r in records if r["id"] == "visit-costs" and r["lang"] == "zh_Hans")
    assert zh["audience"] == "patient" and zh["owning_team"] == "pcw"
    assert "13" in zh["text"] and "<" not in zh["text"]


def test_export_records_of_a_small_folder(tmp_path: Path) -> None:
    kb = load_knowledge_base(write_folder(tmp_path, {"sample-entry.md": GOOD}))
    assert [r for r in export_records(kb) if r["id"] == "sample-entry"] == [
        {
            "id": "sample-entry",
            "audience": "practice",
            "owning_team": "mso",
            "lang": "en",
            "title": "A sample entry",
            "text": "Some bold advice. See the guide (https://example.org/guide).",
        }
    ]


# -- usage and the overview ---------------------------------------------------------------


def test_usage_is_counted_per_entry_and_kind(session: Session) -> None:
    for kind in ("answered", "answered", "unhelpful", "handoff", "helpful"):
        record_usage(session, entry_id="visit-costs", kind=kind)
        session.commit()
    record_usage(session, entry_id="after-hours", kind="answered")
    session.commit()
    counts = usage_counts(session)
    assert counts["visit-costs"] == {"answered": 2, "helpful": 1, "unhelpful": 1, "handoff": 1}
    assert counts["after-hours"]["answered"] == 1
    with pytest.raises(UnknownUsageKind):
        record_usage(session, entry_id="visit-costs", kind="liked")
        session.commit()


def test_overview_filters_and_flags_entries_due_for_review(session: Session) -> None:
    record_usage(session, entry_id="claims-submission", kind="answered")
    session.commit()
    kb = get_knowledge_base()
    rows = knowledge_overview(session, kb=kb, today=date(2028, 1, 1), audience="practice")
    assert rows and all(r.entry.audience == "practice" for r in rows)
    assert all(r.review_due for r in rows)
    claims = next(r for r in rows if r.entry.id == "claims-submission")
    assert claims.answered == 1
    found = knowledge_overview(session, kb=kb, today=date(2026, 11, 2), search="remittance")
    assert [r.entry.id for r in found] == ["payment-schedule"]
    assert not found[0].review_due


# -- pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.coordinator, Role.admin])
def test_coordinators_and_admins_see_every_entry_with_counts(
    session: Session, client: Client, login: object, role: Role
) -> None:
    record_usage(session, entry_id="visit-costs", kind="answered")
    session.commit()
    record_usage(session, entry_id="visit-costs", kind="unhelpful")
    session.commit()
    record_usage(session, entry_id="visit-costs", kind="handoff")
    session.commit()
    record_usage(session, entry_id="visit-costs", kind="handoff")
    session.commit()
    login(factories.user(session, role))  # type: ignore[operator]
    page = client.get("/knowledge")
    assert page.status_code == 200
    html = page.text
    for entry in get_knowledge_base().entries:
        assert f'data-entry="{entry.id}"' in html
    row = html.split('data-entry="visit-costs"', 1)[1].split("</tr>", 1)[0]
    assert 'data-count="answered">1<' in row
    assert 'data-count="unhelpful">1<' in row
    assert 'data-count="handoff">2<' in row
    assert 'data-reviewed="2026-11-01"' in row


def test_filter_works_as_a_plain_form_and_as_an_htmx_fragment(
    session: Session, client: Client, login: object
) -> None:
    login(factories.user(session, Role.coordinator))  # type: ignore[operator]
    plain = client.get("/knowledge", params={"audience": "patient"})
    assert "<html" in plain.text and 'data-entry="visit-costs"' in plain.text
    assert 'data-entry="claims-submission"' not in plain.text
    fragment = client.get("/knowledge", params={"q": "capitation"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert 'data-entry="capitation-funding"' in fragment.text
    assert 'data-entry="visit-costs"' not in fragment.text


def test_page_speaks_the_users_language(session: Session, client: Client, login: object) -> None:
    login(factories.user(session, Role.coordinator, locale="mi"))  # type: ignore[operator]
    html = client.get("/knowledge").text
    assert "Pātaka mōhiotanga" in html
    assert "I arotakea whakamutunga" in html
    assert "Me pēhea te rēhita ki tētahi tākuta" in html  # entry titles in Māori too


def test_entry_page_shows_a_language_variant_right_to_left(
    session: Session, client: Client, login: object
) -> None:
    login(factories.user(session, Role.admin))  # type: ignore[operator]
    page = client.get("/knowledge/visit-costs", params={"lang": "ar"})
    assert page.status_code == 200
    assert 'lang="ar" dir="rtl"' in page.text
    assert "كم تكلف زيارة الطبيب" in page.text
    assert client.get("/knowledge/no-such-entry").status_code == 404


@pytest.mark.parametrize("role", [Role.practice_staff, Role.pcw])
def test_other_roles_cannot_see_the_knowledge_pages(
    session: Session, client: Client, login: object, role: Role
) -> None:
    login(factories.user(session, role))  # type: ignore[operator]
    assert client.get("/knowledge").status_code == 403


def test_coordinators_can_try_a_question_without_recording_usage(
    session: Session, client: Client, login: object
) -> None:
    login(factories.user(session, Role.coordinator))  # type: ignore[operator]
    page = client.get("/knowledge/try", params={"q": "claim was rejected", "audience": "practice"})
    assert page.status_code == 200 and "<html" in page.text
    assert 'data-status="answer"' in page.text
    assert 'data-candidate="claims-submission"' in page.text
    fragment = client.get(
        "/knowledge/try",
        params={"q": "what is the weather", "audience": "patient"},
        headers={"HX-Request": "true"},
    )
    assert "<html" not in fragment.text and 'data-status="abstain"' in fragment.text
    safety = client.get("/knowledge/try", params={"q": "chest pain", "audience": "patient"})
    assert 'data-status="safety"' in safety.text
    assert usage_counts(session) == {}


def test_check_rejects_a_bare_no_in_the_red_flag_words(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, {"sample-entry.md": GOOD})
    safety = folder / "_safety.yaml"
    safety.write_text(
        safety.read_text(encoding="utf-8") + "    - [[no], [chest]]\n", encoding="utf-8"
    )
    problems = check_lexicon(folder)
    assert len(problems) == 1
    assert "together/crisis-support: a bare yes/no/on/off reads as true or false" in problems[0]
