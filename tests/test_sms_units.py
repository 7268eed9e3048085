"""SMS building blocks: phone numbers, signatures, keywords, languages, places, contacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select
from twilio.request_validator import RequestValidator

from assistant.contacts.models import SmsContact
from assistant.contacts.optout import is_opted_out, mark_opted_in, mark_opted_out
from assistant.contacts.phone import InvalidPhone, mask_phone, to_e164
from assistant.i18n import LANGUAGES
from assistant.matcher import MatchResult, match
from assistant.matcher.evaluate import read_queries
from assistant.people.places import adult_fee, check_gazetteer, distance_km, find_place, is_low_cost
from assistant.settings import Settings
from assistant.sms import guide
from assistant.sms.keywords import (
    Answer,
    Keyword,
    answer,
    barriers,
    check_words,
    keyword,
    language_choice,
)
from assistant.sms.language import detect
from assistant.sms.scenarios import read_scenarios
from assistant.sms.signature import public_url, sign, validate_twilio_request

# -- phone numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("021 123 4567", "+64211234567"),
        ("+64 21 123 4567", "+64211234567"),
        ("0064211234567", "+64211234567"),
        ("(03) 348 1000", "+6433481000"),
        ("+61 412 345 678", "+61412345678"),
    ],
)
def test_to_e164_reads_national_numbers_as_new_zealand(raw: str, e164: str) -> None:
    assert to_e164(raw) == e164


@pytest.mark.parametrize("raw", ["", "abc", "12", "+64 1"])
def test_to_e164_refuses_what_is_not_a_phone_number(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        to_e164(raw)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("+64211234567", "+64******567"), ("0211234567", "*******567"), ("123", "***"), ("", "")],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


# -- signatures ----------------------------------------------------------------------------


def test_public_url_uses_the_public_base_not_the_host_we_were_reached_on() -> None:
    settings = Settings(public_base_url="https://sms.pho.example.nz/", database_url="sqlite://")
    assert public_url(settings, "/sms/twilio") == "https://sms.pho.example.nz/sms/twilio"
    assert (
        public_url(settings, "/sms/twilio", "a=1&b=2")
        == "https://sms.pho.example.nz/sms/twilio?a=1&b=2"
    )


def test_validate_twilio_request_matches_twilios_own_signatures() -> None:
    url = "https://sms.pho.example.nz/sms/twilio"
    params = {"Body": "Kia ora", "From": "+64211234567", "MessageSid": "SM1"}
    twilios = RequestValidator("secret").compute_signature(url, params)
    assert sign(auth_token="secret", url=url, params=params) == twilios
    assert validate_twilio_request(auth_token="secret", url=url, params=params, signature=twilios)
    assert not validate_twilio_request(
        auth_token="secret", url=url, params=params | {"Body": "x"}, signature=twilios
    )
    assert not validate_twilio_request(
        auth_token="secret", url=url + "?x=1", params=params, signature=twilios
    )
    assert not validate_twilio_request(auth_token="secret", url=url, params=params, signature=None)
    assert not validate_twilio_request(auth_token="", url=url, params=params, signature=twilios)


# -- keywords and answers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("STOP", Keyword.stop),
        (" stop ", Keyword.stop),
        ("Stop.", Keyword.stop),
        ("OPTOUT", Keyword.stop),
        ("revoke", Keyword.stop),
        ("停止", Keyword.stop),
        ("UNSTOP", Keyword.start),
        ("Start", Keyword.start),
        ("HELP", Keyword.help),
        ("Āwhina", Keyword.help),
        ("MENU", Keyword.menu),
        ("0", Keyword.menu),
        ("LANG", Keyword.lang),
        ("भाषा", Keyword.lang),
        ("please stop texting me about the doctor", None),  # only a whole-message keyword
        ("help me find a doctor", None),
        ("1", None),
    ],
)
def test_keyword(text: str, expected: Keyword | None) -> None:
    assert keyword(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("y", Answer.yes),
        ("YES!", Answer.yes),
        ("āe", Answer.yes),
        ("ioe", Answer.yes),
        ("ʻio", Answer.yes),
        ("是的", Answer.yes),
        ("हाँ", Answer.yes),
        ("نعم", Answer.yes),
        ("١", Answer.yes),  # an Arabic-Indic digit one
        ("no", Answer.no),
        ("Kāo", Answer.no),
        ("ʻikai", Answer.no),
        ("不", Answer.no),
        ("3", Answer.unsure),
        ("don't know", Answer.unsure),
        ("不知道", Answer.unsure),
        ("Riccarton", None),
    ],
)
def test_tolerant_answers(text: str, expected: Answer | None) -> None:
    assert answer(text) == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [("1", "en"), ("2", "mi"), ("٧", "ar"), ("५", "zh_Hans"), ("Hindi", "hi"), ("8", None)],
)
def test_language_choice(text: str, lang: str | None) -> None:
    assert language_choice(text) == lang


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("I can't afford the fees", ["cost"]),
        ("no car and no money", ["cost", "transport"]),
        ("I need an interpreter", ["language"]),
        ("没钱也没有车", ["cost", "transport"]),
        ("how much does it cost to enrol?", []),  # a question, not a barrier
        # Arabic joins "and" to the next word: "and I have no car".
        ("أسكن بمفردي وليس لدي سيارة", ["transport", "isolation"]),
        ("she only speaks farsi and lives by herself", ["language", "isolation"]),
        ("ʻoku ʻikai lelei ʻeku lea fakapilitania", ["language"]),
        ("we are on the benefit", ["cost"]),
    ],
)
def test_barriers(text: str, found: list[str]) -> None:
    assert barriers(text) == found


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Kia ora, I need a doctor", "mi"),
        ("Mālō e lelei", "to"),
        ("Malo e lelei", "to"),
        ("talofa lava", "sm"),
        ("我想看医生", "zh_Hans"),
        ("मुझे डॉक्टर चाहिए", "hi"),
        ("أحتاج طبيب", "ar"),
        ("namaste", "hi"),
        ("Arabic", "ar"),
        ("I need a doctor", None),
        ("123", None),
    ],
)
def test_detect_language(text: str, lang: str | None) -> None:
    assert detect(text) == lang


# -- places ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Riccarton", "Riccarton"),
        ("riccarten", "Riccarton"),
        ("I live in Linwood", "Linwood"),
        ("new brighton", "New Brighton"),
        ("Ōtautahi", "Christchurch Central"),
        ("8042", "8042"),
        ("my postcode is 8061", "8061"),
        ("Atlantis", None),
        ("9999", None),
        ("hi", None),
        # Other alphabets are spelt many ways too.
        ("मैं बर्नसाईड में रहती हूँ", "Burnside"),
        ("أسكن في ريكارتن", "Riccarton"),
        ("मुझे डॉक्टर चाहिए", None),
    ],
)
def test_find_place(text: str, name: str | None) -> None:
    place = find_place(text)
    assert (place.name if place else None) == name


def test_distance_km() -> None:
    # Riccarton to Hornby: about 5.8 km.
    assert 5.0 < distance_km(-43.5300, 172.5960, -43.5440, 172.5260) < 6.5


@pytest.mark.parametrize(
    ("notes", "fee", "low"),
    [
        ("Very Low Cost Access: adults $19.50; under 14s free", "$19.50", True),
        ("Adults $45; CSC holders $19.50", "$19.50", False),
        ("Adults $52", "$52", False),
        ("", None, False),
    ],
)
def test_fee_notes(notes: str, fee: str | None, low: bool) -> None:
    assert adult_fee(notes) == fee
    assert is_low_cost(notes) == low


def test_the_gazetteer_is_clean() -> None:
    assert check_gazetteer() == []


def test_the_gazetteer_check_reports_problems_with_lines(tmp_path: Path) -> None:
    bad = tmp_path / "a" / "b" / "suburbs.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "# places\n"
        '- {name: Riccarton, postcode: "8041", lat: -43.53, lon: 172.59}\n'
        '- {name: Nowhere, postcode: "80", lat: 51.5, lon: -0.1}\n'
        '- {name: Riccarton, postcode: "8041", lat: -43.53, lon: 172.59}\n',
        encoding="utf-8",
    )
    problems = check_gazetteer(bad)
    assert any(p.endswith(":3: postcode '80' is not four digits") for p in problems)
    assert any(":3: Nowhere is not in Canterbury" in p for p in problems)
    assert any("'Riccarton' is listed twice" in p for p in problems)
    bad.write_text("- [unclosed", encoding="utf-8")
    assert "cannot read" in check_gazetteer(bad)[0]


# -- contacts ------------------------------------------------------------------------------


def test_mark_opted_out_creates_or_updates_the_contact(session: Session) -> None:
    assert not is_opted_out(session, phone="+64211234567")
    mark_opted_out(session, phone="021 123 4567")
    session.commit()
    contact = session.exec(select(SmsContact)).one()
    assert contact.phone == "+64211234567" and contact.opted_out and contact.opted_out_at
    assert is_opted_out(session, phone="+64 21 123 4567")
    mark_opted_out(session, phone="+64211234567")  # again: still one contact
    session.commit()
    assert len(session.exec(select(SmsContact)).all()) == 1
    mark_opted_in(session, phone="0211234567")
    session.commit()
    assert not is_opted_out(session, phone="+64211234567")


def test_mark_opted_out_can_join_the_callers_transaction(session: Session) -> None:
    mark_opted_out(session, phone="+64211234567")
    session.rollback()
    assert not is_opted_out(session, phone="+64211234567")


# -- the word lists ----------------------------------------------------------------------------


def test_the_word_lists_are_clean() -> None:
    assert check_words() == []


def test_the_word_list_check_catches_unquoted_and_clashing_words(tmp_path: Path) -> None:
    bad = tmp_path / "a" / "b" / "words.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "keywords: {stop: [stop], start: [start], help: [help], menu: ['0'], lang: [lang]}\n"
        "answers: {'yes': [yes, 'ok'], 'no': ['stop'], 'unsure': ['3']}\n"
        "language_names: {en: [english]}\n"
        "barriers: {cost: [afford], transport: [bus], language: [interpreter]}\n",
        encoding="utf-8",
    )
    problems = check_words(bad)
    assert any("answers.yes: quote every word" in p for p in problems)
    assert any("'stop' is both stop and no" in p for p in problems)
    assert any("language_names.mi has no words" in p for p in problems)


# -- reading a message before the contact's lock ----------------------------------------------


def _sms_texts() -> list[str]:
    """The patient questions and SMS conversations of the test data, one text each."""
    data = Path(__file__).parent / "data"
    texts = [q.query for q in read_queries(data / "dev-queries.tsv") if q.audience == "patient"]
    for path in sorted(data.glob("*sms-scenarios.tsv")):
        for scenario in read_scenarios(path):
            texts += scenario.messages
    return texts


def test_a_match_decides_the_same_in_every_language() -> None:
    """The guide matches a message before it knows the person's language, and uses only the
    match's decision (status, entry, safety): the language may change titles, nothing else."""

    def decision(result: MatchResult) -> tuple[object, ...]:
        entries = [c.entry_id for c in result.candidates]
        return result.status, result.entry_id, result.safety, entries

    for text in _sms_texts():
        expected = decision(match(text, audience="patient"))
        for lang in LANGUAGES:
            assert decision(match(text, audience="patient", lang=lang)) == expected, (text, lang)


@pytest.mark.parametrize(
    ("body", "matched", "carried"),
    [
        ("STOP", False, False),
        ("", False, False),
        ("2", False, False),  # a menu number or an answer waits for its step
        ("kāo", False, False),
        ("START", False, False),  # matched only when the number has not opted out
        ("HELP", True, False),  # safety comes first
        ("Samoan", True, False),
        ("I want to kill myself", True, False),
        ("no car, can someone ring me? I live in Hornby", True, True),
        ("What do I need to bring to enrol?", True, True),
    ],
)
def test_read_reads_what_every_message_like_it_needs(
    body: str, matched: bool, carried: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = guide.match

    def counted(text: str, **options: Any) -> MatchResult:
        calls.append(text)
        return real(text, **options)

    monkeypatch.setattr(guide, "match", counted)
    reading = guide.read(body)
    assert bool(calls) is matched
    kept = {"barriers", "wants_callback", "place"} & set(vars(reading))
    assert kept == ({"barriers", "wants_callback", "place"} if carried else set())
    reading.match  # noqa: B018 (read once only)
    assert len(calls) == 1
