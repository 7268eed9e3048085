"""The SMS conversation as a plain function: keywords, languages, the enrolment guide, safety."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from assistant.contacts.optout import is_opted_out, mark_opted_out
from assistant.contacts.segments import fits
from assistant.i18n import use_locale
from assistant.knowledge import get_knowledge_base
from assistant.people.models import Practice
from assistant.sms import messages as msg
from assistant.sms.models import SmsInbound
from tests import factories
from tests.sms_texting import PHO_PHONE, Texter, said

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def text(session: Session) -> Texter:
    return Texter(session, "+64211234567", T0)


def nearby_practices(session: Session) -> dict[str, Practice]:
    """Practices around Riccarton: three taking patients, one full, one far away."""
    rows = {
        "Riccarton Clinic": (-43.5305, 172.5970, True, "Adults $45; under 14s free"),
        "Addington Health": (-43.5420, 172.6200, True, "Very Low Cost Access: adults $19.50"),
        "Hornby Doctors": (-43.5440, 172.5260, True, ""),
        "Full Up Surgery": (-43.5300, 172.5960, False, "Adults $30"),
        "Rangiora Medical": (-43.3050, 172.5950, True, "Adults $40"),
    }
    made = {}
    for name, (lat, lon, accepting, fees) in rows.items():
        made[name] = factories.practice(
            session,
            name=name,
            latitude=lat,
            longitude=lon,
            accepting_new_patients=accepting,
            fee_notes=fees,
            phone="03 555 0000",
        )
    return made


# -- first message and languages -----------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "lang"),
    [
        ("Hello", "en"),
        ("Kia ora", "mi"),
        ("Talofa lava", "sm"),
        ("Mālō e lelei", "to"),
        ("你好", "zh_Hans"),
        ("नमस्ते", "hi"),
        ("مرحبا", "ar"),
        ("Namaste", "hi"),
    ],
)
def test_first_message_in_a_known_language_gets_the_welcome_in_it(
    text: Texter, first: str, lang: str
) -> None:
    assert text(first) == said(lang, msg.welcome)
    assert text.contact.language == lang
    assert text.contact.step == "menu"


def test_english_words_are_english_without_a_language_menu(text: Texter) -> None:
    reply = text("I need a doctor for me and my kids")
    assert reply != said("en", msg.language_menu)
    assert text.contact.language == "en"
    assert text.contact.step != "lang"


def test_unknown_language_gets_the_numbered_language_menu(text: Texter) -> None:
    reply = text("Siosaia")
    assert reply == said("en", msg.language_menu)
    for n, name in enumerate(
        ["English", "Māori", "Sāmoa", "Tonga", "简体中文", "हिन्दी", "العربية"], start=1
    ):
        assert f"{n} " in reply and name in reply
    assert text("6") == said("hi", msg.welcome)
    assert text.contact.language == "hi"


def test_language_menu_takes_a_name_too(text: Texter) -> None:
    text("I need a doctor")
    assert text("Samoan") == said("sm", msg.welcome)


@pytest.mark.parametrize(
    ("word", "lang"), [("LANG", "en"), ("reo", "mi"), ("语言", "zh_Hans"), ("لغة", "ar")]
)
def test_lang_keyword_shows_the_menu_at_any_step(text: Texter, word: str, lang: str) -> None:
    text("hello")
    text("1")  # into the eligibility questions
    assert text(word) == said("en", msg.language_menu)
    assert text("7") == said("ar", msg.welcome)
    assert text.contact.step == "menu"


def test_a_language_name_switches_straight_away(text: Texter) -> None:
    text("hello")
    assert text("Tongan") == said("to", msg.welcome)
    assert text("中文") == said("zh_Hans", msg.welcome)
    assert text.contact.language == "zh_Hans"


# -- keywords ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("greeting", "stop", "lang"),
    [
        ("hello", "STOP", "en"),
        ("hello", "stop", "en"),
        ("hello", "Unsubscribe", "en"),
        ("Kia ora", "QUIT", "mi"),
        ("Talofa", "taofi", "sm"),
        ("你好", "停止", "zh_Hans"),
        ("नमस्ते", "बंद", "hi"),
        ("مرحبا", "توقف", "ar"),
    ],
)
def test_stop_opts_out_and_nothing_more_is_sent_until_start(
    text: Texter, session: Session, greeting: str, stop: str, lang: str
) -> None:
    text(greeting)
    assert text(stop) == said(lang, msg.opted_out)
    assert is_opted_out(session, phone=text.phone)
    assert text("1") == ""
    assert text("HELP") == ""
    # An emergency still gets 111 in reply to that text, and a community worker hears of it;
    # the number stays opted out.
    assert text("my chest pain is bad") == said(lang, msg.emergency)
    [urgent] = text.referrals()
    assert urgent.urgent and urgent.reason == "safety"
    assert text("i want to die") == said(lang, msg.crisis_support)
    assert is_opted_out(session, phone=text.phone)
    assert text("hello") == ""
    assert text("START") == said(lang, msg.opted_in)
    assert not is_opted_out(session, phone=text.phone)
    assert text("1") == said(lang, msg.eligibility_citizen)


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_start_words_opt_back_in(text: Texter, word: str) -> None:
    text("hello")
    text("STOPALL")
    assert text(word) == said("en", msg.opted_in)


def test_opt_out_from_the_outbox_side_silences_the_conversation(
    text: Texter, session: Session
) -> None:
    text("hello")
    mark_opted_out(session, phone="021 123 4567")  # a national number: same contact
    session.commit()
    assert is_opted_out(session, phone=text.phone)
    assert text("hello") == ""


@pytest.mark.parametrize(
    ("greeting", "word", "lang"),
    [
        ("hello", "HELP", "en"),
        ("hello", "help", "en"),
        ("Kia ora", "āwhina", "mi"),
        ("Talofa", "fesoasoani", "sm"),
        ("Malo e lelei", "tokoni", "to"),
        ("你好", "帮助", "zh_Hans"),
        ("नमस्ते", "मदद", "hi"),
        ("مرحبا", "مساعدة", "ar"),
    ],
)
def test_help_explains_the_service_with_the_pho_phone(
    text: Texter, greeting: str, word: str, lang: str
) -> None:
    text(greeting)
    reply = text(word)
    assert reply == said(lang, msg.help_text, PHO_PHONE)
    assert PHO_PHONE in reply
    assert "111" in reply and "1737" in reply  # "help!" may be a cry for help


@pytest.mark.parametrize("word", ["MENU", "menu", "0", "菜单"])
def test_menu_or_zero_returns_to_the_main_menu(text: Texter, word: str) -> None:
    text("hello")
    text("1")
    text("2")
    assert text.contact.step == "elig_visa"
    assert text(word) == said("en", msg.menu_again)
    assert text.contact.step == "menu"


def test_a_menu_number_out_of_range_repeats_the_menu(text: Texter) -> None:
    text("hello")
    assert text("9") == said("en", msg.menu_number_unknown)


def test_a_message_without_words_gets_a_menu(text: Texter) -> None:
    assert text("") == said("en", msg.language_menu)
    text("2")
    assert text("  ") == said("mi", msg.menu_again)


# -- idle ----------------------------------------------------------------------------------


def test_after_24_hours_the_conversation_starts_fresh_and_says_so(text: Texter) -> None:
    text("Kia ora")
    text("1")
    text("2")
    assert text.contact.step == "elig_visa"
    text.now += timedelta(hours=24)
    assert text("1") == said("mi", msg.fresh_start)
    contact = text.contact
    assert contact.step == "menu"
    assert contact.language == "mi"  # the language is kept
    assert contact.answers == "{}"


def test_within_24_hours_the_conversation_goes_on(text: Texter) -> None:
    text("hello")
    text("1")
    text.now += timedelta(hours=23)
    assert text("1") == said("en", msg.eligible)


# -- the enrolment guide, in every language -----------------------------------------------

PATHS = {
    # greeting, a "no", a "yes", a "not sure"
    "en": ("Hello", "no", "y", "not sure"),
    "mi": ("Kia ora", "kāo", "ae", "aua"),
    "sm": ("Talofa", "leai", "ioe", "ou te le iloa"),
    "to": ("Malo e lelei", "ʻikai", "io", "ʻikai ke u ʻilo"),
    "zh_Hans": ("你好", "不是", "是", "不知道"),
    "hi": ("नमस्ते", "नहीं", "haan", "पता नहीं"),
    "ar": ("مرحبا", "لا", "نعم", "لست متأكد"),
}


@pytest.mark.parametrize("lang", list(PATHS))
def test_the_whole_enrolment_path(text: Texter, session: Session, lang: str) -> None:
    greeting, no, yes, _unsure = PATHS[lang]
    practices = nearby_practices(session)
    assert text(greeting) == said(lang, msg.welcome)
    assert text("1") == said(lang, msg.eligibility_citizen)
    assert text(no) == said(lang, msg.eligibility_visa)
    assert text(no) == said(lang, msg.eligibility_child)
    assert text(yes) == said(lang, msg.eligible)

    listing = text("Riccarton")
    shown = _practice_lines(lang, listing)
    while len(shown) < 3:  # fewer fit in one reply in UCS-2 languages: "8 for more"
        assert listing.splitlines()[-1] == said(lang, msg.practices_footer_more)
        listing = text(str(msg.MORE_PRACTICES))
        shown += _practice_lines(lang, listing)
    assert listing.splitlines()[-1] == said(lang, msg.practices_footer)
    order = ["Riccarton Clinic", "Addington Health", "Hornby Doctors"]
    for n, line in enumerate(shown):
        assert line.startswith(f"{n + 1}. {order[n]}, 03 555 0000")
    assert practices["Riccarton Clinic"].id == _answers(text)["practices"][0]
    assert "Full Up Surgery" not in referral_free(text)

    assert text(str(msg.WHAT_TO_BRING)) == said(lang, msg.what_to_bring)
    assert text(yes) == said(lang, msg.costs)
    assert text(yes) == said(lang, msg.callback_booked)

    [referral] = text.referrals()
    assert referral.source == "sms"
    assert referral.language == lang
    assert not referral.urgent
    assert referral.reason == "callback"
    assert "> Riccarton" in referral.transcript
    assert said(lang, msg.eligible) in referral.transcript
    assert text.contact.step == "menu"


@pytest.mark.parametrize("lang", list(PATHS))
def test_not_eligible_explains_casual_patients_and_offers_a_call(text: Texter, lang: str) -> None:
    greeting, no, yes, _unsure = PATHS[lang]
    text(greeting)
    text("1")
    text(no)
    text(no)
    assert text(no) == said(lang, msg.not_eligible)
    assert text(yes) == said(lang, msg.callback_booked)
    [referral] = text.referrals()
    assert referral.reason == "not-eligible"
    assert referral.barriers == ["enrolment"]


@pytest.mark.parametrize("lang", ["en", "sm", "zh_Hans", "ar"])
def test_not_sure_hands_over_to_a_community_worker(text: Texter, lang: str) -> None:
    greeting, no, _yes, unsure = PATHS[lang]
    text(greeting)
    text("1")
    assert text(unsure) == said(lang, msg.unsure)
    assert text(no) == said(lang, msg.callback_declined)
    assert text.referrals() == []
    assert text.contact.step == "menu"


@pytest.mark.parametrize("answer", ["1", "y", "Yes", "ae", "āe", "ioe", "io", "是", "haan", "نعم"])
def test_tolerant_yes(text: Texter, answer: str) -> None:
    text("hello")
    text("1")
    assert text(answer) == said("en", msg.eligible)


def test_postcode_works_like_a_suburb(text: Texter, session: Session) -> None:
    nearby_practices(session)
    text("hello")
    text("2")
    listing = text("8041")
    assert listing.splitlines()[1].startswith("1. Riccarton Clinic")


def test_a_misspelt_suburb_is_found(text: Texter, session: Session) -> None:
    nearby_practices(session)
    text("hello")
    text("2")
    assert "1. Riccarton Clinic" in text("I live in Riccarten")


def test_an_unknown_place_asks_again(text: Texter) -> None:
    text("hello")
    text("2")
    assert text("Atlantis") == said("en", msg.place_unknown)
    assert text.contact.step == "where"


def test_no_practice_taking_patients_offers_a_call(text: Texter, session: Session) -> None:
    factories.practice(session, name="Full", latitude=-43.53, longitude=172.59)
    text("hello")
    text("2")
    assert text("Riccarton") == said("en", msg.no_practices)
    text("yes")
    [referral] = text.referrals()
    assert referral.reason == "no-practice"


def test_fee_notes_are_shown_in_the_persons_language(text: Texter, session: Session) -> None:
    nearby_practices(session)
    text("你好")
    text("2")
    listing = text("Riccarton")
    assert "$45起" in listing
    assert "Adults" not in listing and "free" not in listing


def test_costs_from_the_menu_then_a_call_back(text: Texter) -> None:
    text("hello")
    assert text("4") == said("en", msg.costs)
    assert text("yes") == said("en", msg.callback_booked)
    assert [r.reason for r in text.referrals()] == ["callback"]


def test_call_me_back_from_the_menu(text: Texter) -> None:
    text("Kia ora")
    assert text("5") == said("mi", msg.callback_booked)
    [referral] = text.referrals()
    assert referral.language == "mi"
    assert referral.phone == "+64211234567"


# -- safety --------------------------------------------------------------------------------

EMERGENCIES = {
    "en": "my dad has chest pain and cant breathe",
    "mi": "Kia ora, he mamae te uma o taku pāpā",
    "sm": "Talofa, o loʻo tiga le fatafata o loʻu tama",
    "to": "Malo e lelei, ʻoku mamahi fatafata ʻeku tamai",
    "zh_Hans": "我爸爸胸痛，喘不过气",
    "hi": "मेरे पिता को सीने में दर्द है",
    "ar": "والدي لديه ألم في الصدر",
}


@pytest.mark.parametrize("lang", list(EMERGENCIES))
def test_an_emergency_as_the_first_message(text: Texter, lang: str) -> None:
    reply = text(EMERGENCIES[lang])
    assert reply == said(lang, msg.emergency)
    assert "111" in reply
    [referral] = text.referrals()
    assert referral.urgent
    assert referral.reason == "safety"
    assert referral.language == lang
    assert EMERGENCIES[lang] in referral.transcript


def test_after_an_emergency_as_the_first_message_the_menu_follows(text: Texter) -> None:
    text(EMERGENCIES["ar"])
    assert text("1") == said("ar", msg.eligibility_citizen)


def test_no_thanks_after_the_practices_goes_back_to_the_menu(
    text: Texter, session: Session
) -> None:
    nearby_practices(session)
    text("Talofa")
    text("2")
    text("Riccarton")
    assert text("leai") == said("sm", msg.callback_declined)
    assert text.contact.step == "menu"
    assert text("3") == said("sm", msg.what_to_bring)
    assert text("no") == said("sm", msg.callback_declined)


@pytest.mark.parametrize("lang", list(EMERGENCIES))
def test_an_emergency_in_the_middle_of_the_guide(text: Texter, lang: str) -> None:
    text(PATHS[lang][0])
    text("1")
    reply = text(EMERGENCIES[lang])
    assert reply == said(lang, msg.emergency)
    assert [r.urgent for r in text.referrals()] == [True]


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", "I want to kill myself"),
        ("zh_Hans", "我不想活了"),
        ("ar", "أريد أن أموت"),
        ("hi", "मैं आत्महत्या के बारे में सोच रहा हूँ"),
    ],
)
def test_crisis_messages_get_1737(text: Texter, lang: str, message: str) -> None:
    text(PATHS[lang][0])
    reply = text(message)
    assert reply == said(lang, msg.crisis_support)
    assert "1737" in reply
    assert [r.urgent for r in text.referrals()] == [True]


# -- free text ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "mi", "zh_Hans", "ar"])
def test_a_question_is_answered_from_the_knowledge_base(text: Texter, lang: str) -> None:
    entry = get_knowledge_base().get("enrol-documents")
    assert entry is not None
    variant = entry.variant(lang)
    text(PATHS[lang][0])
    reply = text(variant.title)  # asked the way the entry puts it
    body = " ".join(variant.body_text.split())
    assert reply[:20] == body[:20]
    assert text.contact.step == "menu"


def test_a_question_we_cannot_answer_offers_a_community_worker(text: Texter) -> None:
    text("hello")
    assert text("what is the capital of Peru") == said("en", msg.abstain_with_safety_net)
    assert text("yes") == said("en", msg.callback_booked)
    [referral] = text.referrals()
    assert referral.reason == "question"
    assert "capital of Peru" in referral.transcript


@pytest.mark.parametrize(
    ("lang", "message", "barrier"),
    [
        ("en", "I can't afford to see a doctor", "cost"),
        ("en", "I have no car to get there", "transport"),
        ("zh_Hans", "我需要翻译", "language"),
    ],
)
def test_a_barrier_raises_a_referral_with_the_language(
    text: Texter, lang: str, message: str, barrier: str
) -> None:
    text(PATHS[lang][0])
    reply = text(message)
    assert reply.endswith(said(lang, msg.barrier_noted))
    [referral] = text.referrals()
    assert referral.reason == "barrier"
    assert barrier in referral.barriers
    assert referral.language == lang
    # Saying it again does not make a second referral.
    text(message)
    assert len(text.referrals()) == 1


def test_every_message_is_stored_once_with_its_reply(text: Texter, session: Session) -> None:
    text("hello")
    text("1")
    rows = list(session.exec(select(SmsInbound).order_by(col(SmsInbound.id))))
    assert [r.body for r in rows] == ["hello", "1"]
    assert rows[1].reply == said("en", msg.eligibility_citizen)
    assert rows[1].step == "elig_citizen"


def _practice_lines(lang: str, listing: str) -> list[str]:
    lines = listing.splitlines()
    with use_locale(lang):
        assert lines[0] == msg._("Taking new patients near you:")
    assert "Full Up Surgery" not in listing and "Rangiora" not in listing
    return lines[1:-1]


def referral_free(text: Texter) -> str:
    """Everything we replied so far."""
    rows = text.session.exec(select(SmsInbound.reply)).all()
    return "\n".join(rows)


def _answers(text: Texter) -> dict[str, Any]:
    import json

    value: dict[str, Any] = json.loads(text.contact.answers)
    return value


def test_when_the_matcher_fails_the_guide_still_works(
    text: Texter, monkeypatch: pytest.MonkeyPatch
) -> None:
    import assistant.sms.guide

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("index not loaded")

    monkeypatch.setattr(assistant.sms.guide, "match", broken)
    assert text("hello") == said("en", msg.welcome)
    assert text("1") == said("en", msg.eligibility_citizen)
    assert text("what about my cat?") == said("en", msg.abstain_with_safety_net)
    assert text("yes") == said("en", msg.callback_booked)


@pytest.mark.parametrize(("greeting", "lang"), [("Kia ora", "mi"), ("你好", "zh_Hans")])
def test_a_greeting_at_the_menu_gets_the_welcome_again(
    text: Texter, greeting: str, lang: str
) -> None:
    text(greeting)
    assert text(greeting) == said(lang, msg.welcome)
    assert text("ok") == said(lang, msg.menu_again)
    assert text.referrals() == []


# -- free text at every step: safety first, then what the message carries --------------------


@pytest.mark.parametrize(
    ("first", "build"),
    [
        ("أخي يريد أن ينهي حياته", msg.crisis_support),
        ("my sister says she wants to kill herself tonight", msg.crisis_support),
        ("kua tapahia anō e taku tama tōna ringa", msg.crisis_support),
        ("我爸爸从屋顶上摔下来了，流了很多血", msg.emergency),
        ("bhai ko car ne takkar maar di, khoon beh raha hai", msg.emergency),
    ],
)
def test_a_first_message_in_danger_gets_111_or_1737_before_any_menu(
    text: Texter, first: str, build: Callable[..., str]
) -> None:
    reply = text(first)
    assert reply in {said(lang, build) for lang in ("en", "mi", "sm", "to", "zh_Hans", "hi", "ar")}
    assert [r.urgent for r in text.referrals()] == [True]


@pytest.mark.parametrize(
    "first",
    [
        "Dad had a stroke a couple of years back and now needs a new GP",
        "I'm not suicidal, just stressed, can I talk to someone about it",
        "help",
    ],
)
def test_history_negation_and_a_bare_help_are_not_alarms(text: Texter, first: str) -> None:
    reply = text(first)
    assert "111 now" not in reply and not reply.startswith("Call or text 1737")
    assert all(not r.urgent for r in text.referrals())


def test_a_suburb_inside_a_first_sentence_lists_practices_in_english(
    session: Session, text: Texter
) -> None:
    nearby_practices(session)
    reply = text("Im in Riccarton, any doctors taking new people?")
    assert text.contact.language == "en"
    assert text.contact.step == "practices"
    assert "Riccarton Clinic" in reply and "Full Up Surgery" not in reply


@pytest.mark.parametrize(
    "first", ["我在里卡顿，想找个家庭医生", "ابحث عن طبيب في ريكارتون", "near 8041 pls"]
)
def test_a_place_in_another_script_or_a_postcode_lists_practices(
    session: Session, text: Texter, first: str
) -> None:
    nearby_practices(session)
    reply = text(first)
    assert text.contact.step == "practices"
    assert "03 555 0000" in reply


def test_a_misspelt_suburb_at_any_step_lists_practices(session: Session, text: Texter) -> None:
    nearby_practices(session)
    text("hello")
    text("1")  # can I enrol? (a yes/no question follows)
    reply = text("we live in Ricarton now")
    assert text.contact.step == "practices" and "Riccarton Clinic" in reply


def test_a_call_back_request_in_words_makes_a_referral(text: Texter) -> None:
    reply = text("could a community worker ring me")
    assert reply == said("en", msg.callback_booked)
    assert [(r.reason, r.urgent) for r in text.referrals()] == [("callback", False)]


def test_barriers_named_anywhere_go_onto_the_referral(text: Texter) -> None:
    text("too expensive for me and I dont drive")
    assert [sorted(r.barriers) for r in text.referrals()] == [["cost", "transport"]]


@pytest.mark.parametrize(
    ("message", "barrier"),
    [
        ("paise nahi hai doctor ke liye", "cost"),
        ("leai se taavale e alu ai i le fomai", "transport"),
        ("我英语不好，需要医生", "language"),
        ("i live on my own and have no one to help", "isolation"),
        ("ما عندي سيارة", "transport"),
    ],
)
def test_a_barrier_in_any_language_is_recorded(text: Texter, message: str, barrier: str) -> None:
    text(message)
    assert any(barrier in r.barriers for r in text.referrals())


def test_main_menu_numbers_work_after_the_list_of_practices(session: Session, text: Texter) -> None:
    nearby_practices(session)
    text("hello")
    text("2")
    text("Riccarton")
    assert text.contact.step == "practices"
    assert text("4") == said("en", msg.costs)


@pytest.mark.parametrize("lang", ["en", "mi", "sm", "to", "zh_Hans", "hi", "ar"])
def test_an_unsure_reply_carries_111_and_1737_within_two_segments(lang: str) -> None:
    for build in (msg.abstain_with_safety_net, msg.safety_net):
        reply = said(lang, build)
        assert "111" in reply and "1737" in reply
        assert fits(reply)


def test_an_unanswerable_question_gets_the_hand_off_and_the_safety_line(text: Texter) -> None:
    text("hello")
    reply = text("what colour should we paint the fence")
    assert reply == said("en", msg.abstain_with_safety_net)
    assert "111" in reply and "1737" in reply


@pytest.mark.parametrize("lang", ["en", "sm", "ar"])
def test_a_side_question_is_answered_then_the_guide_asks_again(text: Texter, lang: str) -> None:
    entry = get_knowledge_base().get("visit-costs")
    assert entry is not None
    text(PATHS[lang][0])
    assert text("1") == said(lang, msg.eligibility_citizen)
    reply = text(entry.variant(lang).title)  # a question instead of an answer
    body = " ".join(entry.variant(lang).body_text.split())
    assert reply.startswith(body[:15])
    # ... and the person's place in the guide: the question again, in full or in short.
    assert reply.endswith((said(lang, msg.eligibility_citizen), said(lang, msg.resume_eligibility)))
    assert fits(reply)
    assert text.contact.step == "elig_citizen"
    assert text("1") == said(lang, msg.eligible)
