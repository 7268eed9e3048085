"""The matcher: normalisation, synonyms, scoring, abstention, audience and the red flags."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from assistant.knowledge import load_knowledge_base
from assistant.matcher import match
from assistant.matcher._engine import Matcher, default_matcher
from assistant.matcher.lexicon import get_lexicon
from assistant.matcher.normalise import fold, stem

# -- normalisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Tākuta", "takuta"),
        ("RĒHITA", "rehita"),
        ("ʻOku ou fiemaʻu", "oku ou fiemau"),
        ("I can't log-in!!", "i cant login"),
        ("please sign me up", "please signup"),
        ("it’s the GP’s fee", "its the gps fee"),
        ("E-Referral not sending?", "ereferral not sending"),
        ("Café  naïve\tcoöperate", "cafe naive cooperate"),
        ("كيف أسجل لدى طبيب؟", "كيف اسجل لدي طبيب"),
        ("مُسْتَشْفَى", "مستشفي"),
        ("मुझे दुभाषिया चाहिए।", "मुझे दुभाषिया चाहिए"),
        ("我怎么在诊所注册？", "我怎么在诊所注册"),
        ("看医生ok吗", "看医生 ok 吗"),
        ("ＦＵＬＬ-width ＧＰ", "full width gp"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("word", "root"),
    [
        ("claims", "claim"),
        ("babies", "baby"),
        ("clinics", "clinic"),
        ("vaccinations", "vaccination"),
        ("transferred", "transfer"),
        ("enrolled", "enrol"),
        ("enrolling", "enrol"),
        ("booking", "book"),
        ("rejected", "reject"),
        ("process", "process"),
        ("status", "status"),
        ("gps", "gp"),
        ("bus", "bus"),
        ("طبيب", "طبيب"),
        ("الطبيب", "طبيب"),
    ],
)
def test_stem(word: str, root: str) -> None:
    assert stem(word) == root


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("GP", "doctor"),
        ("family doctor", "medical centre"),
        ("tākuta", "doctor"),
        ("fomai", "toketā"),
        ("医生", "طبيب"),
        ("enrolment", "sign up"),
        ("register", "rēhita"),
        ("capitaton", "capitation"),  # listed misspelling
        ("diabtes", "diabetes"),  # typo tolerance
        ("smokng", "smoking"),
        ("interpretor", "translator"),
        ("immunization", "vaccine"),
        ("after-hours", "weekend"),
    ],
)
def test_synonyms_and_misspellings_become_the_same_tokens(one: str, other: str) -> None:
    matcher = default_matcher()
    assert matcher.tokens(one) == matcher.tokens(other)


def test_stopwords_and_chinese_segmentation() -> None:
    matcher = default_matcher()
    assert matcher.tokens("how do I get the wifi password") == ["wifi", "password"]
    tokens = matcher.tokens("我怎么在诊所注册")
    assert "我" not in tokens and "怎么" not in tokens
    assert matcher.tokens("诊所") == matcher.tokens("doctor")[:1]
    assert matcher.tokens("注册")[0] == matcher.tokens("enrol")[0]


# -- scoring ------------------------------------------------------------------------------

SCORING = [
    # practice staff, phrasings unlike the entries' own words
    ("which codes do we use to claim a diabetes annual check", "practice", "diabetes-programme"),
    ("remittance advice for october", "practice", "payment-schedule"),
    ("cold chain breach what do we do", "practice", "immunisation-programme"),
    ("locked out of medtech", "practice", "systems-support"),
    ("orthopaedic referral criteria", "practice", "clinical-pathways"),
    ("ED asked us to remove sutures for their patient, unfunded", "practice", "workload-transfer"),
    ("funded LARC insertion", "practice", "sexual-health"),
    ("heart check for pacific men from what age", "practice", "cardiovascular-risk"),
    ("who is my PHO liaison", "practice", "liaison-contact"),
    ("NZSL interpreter for a consult", "practice", "interpreter-booking"),
    # patients, several languages and scripts
    ("how do i sign up with a GP", "patient", "enrol-how"),
    ("im on a work visa am i eligible", "patient", "enrol-eligibility"),
    ("what papers do i bring to enrol", "patient", "enrol-documents"),
    ("clinic near me taking new patients", "patient", "find-practice"),
    ("is the doctor free for children", "patient", "visit-costs"),
    ("how to get a community services card", "patient", "community-services-card"),
    ("i want to switch to another doctor", "patient", "change-practice"),
    ("need a doctor on saturday night", "patient", "after-hours"),
    ("free flu jab", "patient", "immunisation-patient"),
    ("I feel anxious and low", "patient", "mental-health-support"),
    ("Me pēhea au e rēhita ai?", "patient", "enrol-how"),
    ("Kei te hiahia au i te kaiwhakamāori", "patient", "interpreter-patient"),
    ("E fia le totogi o le fomai?", "patient", "visit-costs"),
    ("ʻOku fiemaʻu ha meʻalele ke ʻalu ki he toketā", "patient", "transport-help"),
    ("我要换医生", "patient", "change-practice"),
    ("宝宝打疫苗免费吗", "patient", "immunisation-patient"),
    ("डॉक्टर बदलना है", "patient", "change-practice"),
    ("मुझे दुभाषिया चाहिए", "patient", "interpreter-patient"),
    ("هل أحتاج جواز السفر للتسجيل", "patient", "enrol-documents"),
    ("أريد تغيير الطبيب", "patient", "change-practice"),
]


@pytest.mark.parametrize(("query", "audience", "expected"), SCORING)
def test_best_answer(query: str, audience: str, expected: str) -> None:
    result = match(query, audience=audience, lang=None)  # type: ignore[arg-type]
    assert result.status == "answer", result
    assert result.entry_id == expected
    assert result.candidates[0].entry_id == expected
    assert all(0 <= c.score <= 100 for c in result.candidates)
    scores = [c.score for c in result.candidates]
    assert scores[0] >= max(scores)


def test_candidate_titles_follow_the_language() -> None:
    result = match("看医生要多少钱", audience="patient", lang="zh_Hans")
    assert result.entry_id == "visit-costs"
    assert result.candidates[0].title == "看医生要多少钱"
    english = match("how much is the doctor", audience="patient", lang="fr")
    assert english.candidates[0].title == "What a doctor's visit costs"


# -- abstention ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "audience"),
    [
        ("", "patient"),
        ("???", "patient"),
        ("hello there", "patient"),
        ("what's the weather like", "patient"),
        ("book me a flight to Sydney", "patient"),
        ("sell me a car", "patient"),
        ("who won the cricket", "practice"),
        ("how do I reset the office printer", "practice"),
        ("the dishwasher is leaking", "practice"),
        ("今天天气怎么样", "patient"),
        ("ما هو الطقس اليوم", "patient"),
        ("is the library open on sunday", "patient"),
        ("how do I enrol my son at school", "patient"),
        ("I need a lawyer", "patient"),
    ],
)
def test_out_of_scope_abstains(query: str, audience: str) -> None:
    result = match(query, audience=audience)  # type: ignore[arg-type]
    assert result.status == "abstain", result
    assert result.entry_id is None and result.safety is None
    assert len(result.candidates) <= 2
    assert result.suggestions == []  # nothing to offer beside the hand-off


def test_a_near_miss_offers_the_closest_entries_beside_the_hand_off() -> None:
    result = match("newborn form signing rules", audience="practice")
    assert result.status == "abstain" and result.entry_id is None
    assert "enrolment-register" in [c.entry_id for c in result.suggestions]
    assert 1 <= len(result.suggestions) <= 2


def test_a_word_of_another_service_suggests_nothing() -> None:
    result = match("how do i renew my car rego", audience="practice")
    assert (result.status, result.suggestions) == ("abstain", [])


TWIN = """\
---
id: {id}
audience: practice
owning_team: liaison
title: {title}
keywords: [rostering, {kw}]
reviewed: 2026-11-01
source: Test
---
Body.
"""


@pytest.fixture
def twin_matcher(tmp_path: Path) -> Matcher:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    for entry_id, title, keyword in (
        ("nurse-rosters", "Nurse rostering", "nurses"),
        ("doctor-rosters", "Doctor rostering", "locums"),
    ):
        text = TWIN.format(id=entry_id, title=title, kw=keyword)
        (folder / f"{entry_id}.md").write_text(textwrap.dedent(text), encoding="utf-8")
    kb = load_knowledge_base(folder)
    assert kb.problems == []
    return Matcher(kb, get_lexicon())


def test_a_close_call_offers_the_top_two(twin_matcher: Matcher) -> None:
    result = twin_matcher.match("rostering", audience="practice")
    assert result.status == "choose"
    assert result.entry_id is None
    assert {c.entry_id for c in result.candidates} == {"nurse-rosters", "doctor-rosters"}


def test_a_clear_winner_is_answered(twin_matcher: Matcher) -> None:
    result = twin_matcher.match("rostering for locums", audience="practice")
    assert (result.status, result.entry_id) == ("answer", "doctor-rosters")
    assert result.candidates[0].score - result.candidates[1].score >= 8


def test_weak_overlap_abstains(twin_matcher: Matcher) -> None:
    assert (
        twin_matcher.match("where are the locum car parks and cafes", audience="practice").status
        == "abstain"
    )


# -- audience -----------------------------------------------------------------------------


def test_audience_filter() -> None:
    patient = match("community services card", audience="patient")
    assert patient.entry_id == "community-services-card"
    practice = match("community services card", audience="practice")
    assert practice.entry_id != "community-services-card"
    claims = match("submit a programme claim", audience="patient")
    assert "claims-submission" not in [c.entry_id for c in claims.candidates]


@pytest.mark.parametrize("audience", ["practice", "patient"])
def test_entries_for_both_audiences_match_either(audience: str) -> None:
    result = match("crisis team 1737", audience=audience)  # type: ignore[arg-type]
    assert (result.status, result.entry_id) == ("safety", "crisis-support")


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("where can I go at 9pm", "where can i go at night"),
        ("open at 5.30 a.m.", "open at night"),
        ("call me at 10am", "call me at"),
        ("I am 5", "i am 5"),
    ],
)
def test_evening_and_night_clock_times_mean_night(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_after_hours_found_from_a_clock_time() -> None:
    assert match("where can I go at 9pm for a sick child", audience="patient").entry_id == (
        "after-hours"
    )


def test_a_number_nobody_uses_does_not_count_against_a_match() -> None:
    assert match("capitation for under 14s", audience="practice").entry_id == "capitation-funding"


def test_a_word_of_another_service_is_kept_when_the_entry_uses_it() -> None:
    # "job" is a word of other services, but the workload entry uses it ("not our job").
    query = "the hospital thinks chasing their results is our job"
    assert match(query, audience="practice").entry_id == "workload-transfer"


def test_body_words_alone_give_way_to_a_keyword_match() -> None:
    assert match("claim query", audience="practice").entry_id == "claims-submission"


def test_a_phrase_with_small_words_is_matched_whole() -> None:
    tokens = default_matcher().tokens("how do I get hold of the liaison team")
    assert "~contact" in tokens and "hold" not in tokens
    assert match("how do I get hold of our liaison", audience="practice").entry_id == (
        "liaison-contact"
    )
