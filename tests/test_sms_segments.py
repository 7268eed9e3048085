"""SMS segments: counting, and every reply in every language within two segments."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from assistant.contacts.segments import count, fits, is_gsm7, shorten
from assistant.i18n import LANGUAGES, use_locale
from assistant.i18n_tools import KEYWORDS, po_path
from assistant.knowledge import get_knowledge_base
from assistant.people.models import Practice
from assistant.people.places import NearbyPractice
from assistant.sms import messages as msg
from tests.clock import FIXED_NOW

# -- counting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets
        ("€" * 81, "GSM-7", 2),
        ("Kia ora " + "a" * 62, "GSM-7", 1),
        ("Māori", "UCS-2", 1),  # one macron makes the whole message UCS-2
        ("ā" * 70, "UCS-2", 1),
        ("ā" * 71, "UCS-2", 2),
        ("ā" * 134, "UCS-2", 2),
        ("ā" * 135, "UCS-2", 3),
        ("你" * 70, "UCS-2", 1),
        ("😀" * 35, "UCS-2", 1),  # an emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 2),
    ],
)
def test_count(text: str, encoding: str, segments: int) -> None:
    result = count(text)
    assert (result.encoding, result.segments) == (encoding, segments)


def test_shorten_cuts_at_a_sentence_and_keeps_the_suffix() -> None:
    text = "First sentence here. " * 30
    cut = shorten(text, suffix="Text 0 for the menu.")
    assert fits(cut)
    assert cut.endswith("sentence here. Text 0 for the menu.")


def test_shorten_cuts_unspaced_chinese_by_characters() -> None:
    cut = shorten("很长" * 200)
    assert fits(cut) and cut.endswith("…")


def test_shorten_keeps_gsm7_text_in_gsm7() -> None:
    cut = shorten("word " * 200)
    assert is_gsm7(cut) and cut.endswith("...") and fits(cut)


def test_shorten_leaves_short_text_alone() -> None:
    assert shorten("Kia ora", suffix="0") == "Kia ora 0"


# -- every message, every language ---------------------------------------------------------

LONG_NAMES = [
    "Aranui Whānau Community Health Clinic",
    "Linwood Avenue Family Medical Centre",
    "Christchurch Central Doctors and Nurses",
]


# A name as long as most practices' (and in plain letters), for texts that name one.
NAME = "Riccarton Family Health"
# The demo's practices: every language lists each of them whole, with the list's header.
DEMO_NAMES = [
    "Riccarton Family Health",
    "Linwood Community Practice",
    "Papanui Medical Centre",
    "Hornby Health Hub",
    "Sydenham Doctors",
    "Aranui Whānau Clinic",
]


def _practices(
    names: list[str] = LONG_NAMES, *, days_ago: tuple[int, ...] = (0, 1, 3)
) -> list[NearbyPractice]:
    notes = [
        "Very Low Cost Access: adults $19.50; under 14s free",
        "Adults $45.00; CSC holders $19.50",
        "Low cost practice",
    ]
    return [
        NearbyPractice(
            Practice(
                name=name,
                phone="03 388 6000",
                fee_notes=notes[i % 3],
                accepting_confirmed_at=FIXED_NOW - timedelta(days=days_ago[i % len(days_ago)]),
            ),
            km=float(i),
        )
        for i, name in enumerate(names)
    ]


def _sms_builders() -> dict[str, Callable[[], str]]:
    """Every function in messages.py that makes a reply, with sample arguments."""
    special: dict[str, Callable[[], str]] = {
        "help_text": lambda: msg.help_text("0800 000 746"),
        "practices": lambda: msg.practices(_practices(), now=FIXED_NOW)[0],
        "practices_one": lambda: msg.practices(_practices()[:1], now=FIXED_NOW)[0],
        "practices_more": lambda: msg.practices(_practices(), first_number=2, now=FIXED_NOW)[0],
        "practice_line": lambda: msg.practice_line(1, _practices()[0], now=FIXED_NOW),
        "fee_note": lambda: msg.fee_note("Very Low Cost Access: adults $19.50"),
        "knowledge_answer": lambda: msg.knowledge_answer("x " * 400, msg.barrier_noted()),
        "checked_note": lambda: msg.checked_note(3),
        "checked_note_one": lambda: msg.checked_note(1),
        "checked_note_today": lambda: msg.checked_note(0),
        "ask_name": lambda: msg.ask_name(NAME),
        "ask_consent": lambda: msg.ask_consent(NAME),
        "consent_explain": lambda: msg.consent_explain(NAME),
        "consent_declined": lambda: msg.consent_declined(NAME, "03 348 1000"),
    }
    for name in NAMING:
        special[f"{name}_long"] = _with_long_name(name)
    builders: dict[str, Callable[[], str]] = {}
    for name, func in inspect.getmembers(msg, inspect.isfunction):
        if func.__module__ != msg.__name__ or name.startswith("_"):
            continue
        if name in special:
            continue
        assert not inspect.signature(func).parameters, f"add {name} to the special cases"
        builders[name] = func
    builders.update(special)
    return builders


# Texts that name a practice: also built with a long name in other letters (cut to fit).
NAMING = ("ask_name", "ask_consent", "consent_explain", "consent_declined")


def _with_long_name(name: str) -> Callable[[], str]:
    build = getattr(msg, name)
    args = (LONG_NAMES[0], "03 388 6000")[: len(inspect.signature(build).parameters)]
    return lambda: build(*args)


BUILDERS = _sms_builders()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_every_reply_fits_in_two_segments(lang: str, name: str) -> None:
    with use_locale(lang):
        text = BUILDERS[name]()
    assert text.strip()
    result = count(text)
    assert result.segments <= 2, f"{lang} {name}: {result} for {text!r}"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
@pytest.mark.parametrize("name", sorted(set(BUILDERS) - {"practice_line", "knowledge_answer"}))
def test_no_english_in_other_languages(lang: str, name: str) -> None:
    with use_locale("en"):
        english = BUILDERS[name]()
    with use_locale(lang):
        text = BUILDERS[name]()
    assert text != english
    lines = list(zip(english.splitlines(), text.splitlines(), strict=False))
    if name == "language_menu":
        lines = lines[:1]  # then each language's name in itself
    for line_en, line in lines:
        if any(practice in line_en for practice in LONG_NAMES):
            continue  # practice names and phones are data
        assert line != line_en, f"{lang} {name}: untranslated line {line!r}"


def _sms_msgids() -> list[str]:
    found = extract_from_file("python", str(Path(msg.__file__)), keywords=KEYWORDS)
    return sorted({m[1] for m in found if isinstance(m[1], str)})


def test_the_messages_module_has_its_msgids() -> None:
    assert len(_sms_msgids()) >= 30


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_sms_msgid_is_translated(lang: str) -> None:
    with po_path(lang).open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    missing = [
        msgid
        for msgid in _sms_msgids()
        if catalog.get(msgid) is None or not catalog.get(msgid).string
    ]
    assert not missing, f"{lang}: untranslated SMS texts: {missing}"


@pytest.mark.parametrize("lang", ["sm", "to"])
def test_samoan_and_tongan_replies_stay_in_gsm7(lang: str) -> None:
    """Written as people text them (' for the glottal stop, no macrons): 160 characters a
    segment instead of 70."""
    for name, build in BUILDERS.items():
        if name.startswith("practice") or name.endswith("_long") or name == "language_menu":
            continue  # language names and practice names carry their own letters
        with use_locale(lang):
            text = build()
        assert is_gsm7(text), f"{lang} {name}: {text!r}"


def test_every_patient_knowledge_answer_fits() -> None:
    kb = get_knowledge_base()
    checked = 0
    for entry in kb.entries:
        if not entry.for_audience("patient"):
            continue
        for lang, variant in entry.variants.items():
            with use_locale(lang):
                for suffix in ("", msg.barrier_noted()):
                    text = msg.knowledge_answer(variant.body_text, suffix)
                    assert fits(text), f"{entry.id} {lang}: {text!r}"
                    assert text.strip()
                    checked += 1
    assert checked > 0


# -- the list of practices and asking one of them ----------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", DEMO_NAMES)
def test_a_practice_is_listed_whole_with_the_header_in_every_language(lang: str, name: str) -> None:
    found = _practices([name, *DEMO_NAMES[:2]])
    with use_locale(lang):
        text, shown = msg.practices(found, now=FIXED_NOW)
        header = msg._("Taking new patients near you:")
    assert shown >= 1 and fits(text)
    lines = text.splitlines()
    assert lines[0] == header
    assert lines[1].startswith(f"1. {name}, 03 388 6000") or lines[1].startswith(
        f"1. {name.replace('ā', 'a')}, 03 388 6000"
    )


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("names", [LONG_NAMES, DEMO_NAMES[:3]])
def test_the_checked_note_goes_before_a_practice_does(lang: str, names: list[str]) -> None:
    with use_locale(lang):
        _text, with_notes = msg.practices(_practices(names), now=FIXED_NOW)
        _text, without = msg.practices(_practices(names))
    assert with_notes == without


def test_the_list_says_how_recently_each_practice_confirmed() -> None:
    with use_locale("en"):
        text, shown = msg.practices(_practices(DEMO_NAMES[:2], days_ago=(0, 3)), now=FIXED_NOW)
        assert msg.checked_note(1) == "checked 1 day ago"
    assert shown == 2
    lines = text.splitlines()
    assert lines[1].endswith(", checked today")
    assert lines[2].endswith(", checked 3 days ago")


def test_when_space_is_short_the_checked_notes_go_from_the_last_practice_up() -> None:
    with use_locale("en"):
        text, shown = msg.practices(_practices(DEMO_NAMES[:3]), now=FIXED_NOW)
    assert shown == 3
    noted = ["checked" in line for line in text.splitlines()[1:4]]
    assert noted[0] and noted == sorted(noted, reverse=True)


def test_the_checked_note_counts_in_the_language() -> None:
    with use_locale("ar"):
        notes = {days: msg.checked_note(days) for days in (0, 1, 2, 3, 11)}
    assert len(set(notes.values())) == 5  # today, yesterday, two days, 3-10, 11-99
    assert "3" in notes[3] and "11" in notes[11]
    with use_locale("zh_Hans"):
        assert "3" in msg.checked_note(3)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_footers_keep_their_numbers(lang: str) -> None:
    with use_locale(lang):
        more, last = msg.practices_footer_more(), msg.practices_footer()
    assert str(msg.MORE_PRACTICES) in more and str(msg.WHAT_TO_BRING) in more
    assert str(msg.WHAT_TO_BRING) in last and str(msg.MORE_PRACTICES) not in last


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("build", [msg.ask_consent, msg.consent_explain])
def test_the_consent_question_names_the_practice_and_offers_1_and_2(
    lang: str, build: Callable[[str], str]
) -> None:
    for name in DEMO_NAMES:
        with use_locale(lang):
            text = build(name)
        assert fits(text)
        assert name in text or name.replace("ā", "a") in text, f"{lang}: {text!r}"
        assert "1" in text and "2" in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_no_gives_the_practices_phone(lang: str) -> None:
    for name in DEMO_NAMES:
        with use_locale(lang):
            text = msg.consent_declined(name, "03 348 1000")
        assert fits(text) and "03 348 1000" in text
