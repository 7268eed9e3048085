"""Red flags come first, in every language, and nothing outranks them."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.matcher import match

EMERGENCY = [
    ("en", "my husband has crushing chest pain"),
    ("en", "baby is not breathing properly"),
    ("en", "she can't breathe"),
    ("en", "he collapsed and wont wake up"),
    ("en", "bleeding heavily from a cut"),
    ("en", "I think mum is having a stroke, her face is drooping"),
    ("en", "my friend took an overdose"),
    ("en", "Chest Pains!!!"),
    ("en", "chset pain"),
    ("en", "he is unconcious"),
    ("mi", "Kei te mamae te uma o taku pāpā"),
    ("mi", "Kua hemo taku whaea"),
    ("sm", "Ua matapogia loʻu tinā"),
    ("sm", "E tiga le fatafata o loʻu tamā"),
    ("to", "ʻOku mamahi ʻa e fatafata ʻo ʻeku tamai"),
    ("to", "ʻOku ʻikai ke mānava ʻa e pēpē"),
    ("zh_Hans", "我爸爸胸口疼得厉害"),
    ("zh_Hans", "孩子呼吸困难怎么办"),
    ("zh_Hans", "我妈妈晕倒了"),
    ("hi", "मेरे पिता के सीने में दर्द हो रहा है"),
    ("hi", "वह बेहोश हो गई है"),
    ("ar", "والدي يشعر بألم في الصدر"),
    ("ar", "ابني لا يتنفس"),
    ("ar", "أمي فقدت الوعي"),
    # words that are a red flag together, wherever they are in the message
    ("en", "my chest is really sore"),
    ("en", "bleeding wont stop"),
    ("sm", "Tiga tele loʻu fatafata"),
    ("zh_Hans", "流了很多血"),
    ("zh_Hans", "我胸口很痛"),
    ("hi", "मेरी छाती में बहुत दर्द है"),
    ("ar", "ألم شديد في صدري"),
    ("en", "my friend has taken too many pills"),
    ("en", "he swallowed the whole bottle of tablets"),
]

CRISIS = [
    ("en", "I want to kill myself"),
    ("en", "my daughter is suicidal"),
    ("en", "I don't want to live anymore"),
    ("en", "patient disclosed self-harm"),
    ("en", "i keep cutting myself"),
    ("en", "thinking of ending my life"),
    ("en", "thinking about sucide"),
    ("mi", "Kei te whakaaro au ki te whakamomori"),
    ("sm", "Ou te manaʻo e pule i loʻu ola"),
    ("sm", "Ua ou fia oti"),
    ("to", "ʻOku ou loto ke mate"),
    ("zh_Hans", "我不想活了"),
    ("zh_Hans", "他说想自杀"),
    ("hi", "मैं आत्महत्या करना चाहता हूँ"),
    ("hi", "मैं जीना नहीं चाहती"),
    ("ar", "أفكر في الانتحار"),
    ("ar", "أريد أن أموت"),
    ("en", "i wish i was dead"),
    ("en", "life is not worth living"),
    ("to", "ʻOku ou fie mate"),
    ("zh_Hans", "我想结束自己的生命"),
    ("ar", "أريد أن أنهي حياتي"),
]


@pytest.mark.parametrize(("lang", "query"), EMERGENCY)
@pytest.mark.parametrize("audience", ["patient", "practice"])
def test_emergency_red_flags(lang: str, query: str, audience: str) -> None:
    result = match(query, audience=audience, lang=lang)  # type: ignore[arg-type]
    assert (result.status, result.entry_id, result.safety) == ("safety", "emergency", "emergency")
    assert result.candidates[0].entry_id == "emergency"


@pytest.mark.parametrize(("lang", "query"), CRISIS)
@pytest.mark.parametrize("audience", ["patient", "practice"])
def test_crisis_red_flags(lang: str, query: str, audience: str) -> None:
    result = match(query, audience=audience, lang=lang)  # type: ignore[arg-type]
    assert (result.status, result.entry_id, result.safety) == (
        "safety",
        "crisis-support",
        "crisis-support",
    )


@pytest.mark.parametrize(
    ("query", "audience"),
    [
        ("how much does it cost to see a doctor about chest pain", "patient"),
        ("can I enrol, I have been suicidal", "patient"),
        ("diabetes review funding, patient collapsed in the waiting room", "practice"),
        ("free flu shot 我想自杀", "patient"),
    ],
)
def test_nothing_outranks_a_red_flag(query: str, audience: str) -> None:
    result = match(query, audience=audience)  # type: ignore[arg-type]
    assert result.status == "safety"


def test_emergency_wins_when_both_are_present() -> None:
    result = match("took an overdose, wants to die", audience="patient")
    assert result.entry_id == "emergency"


@pytest.mark.parametrize(
    ("query", "audience", "expected"),
    [
        ("heart risk assessment programme", "practice", "cardiovascular-risk"),
        ("funded emergency contraception", "practice", "sexual-health"),
        ("fitting an IUD is it funded", "practice", "sexual-health"),
        ("asthma action plan", "practice", "respiratory-programme"),
        ("palliative care for a dying patient", "practice", "end-of-life-care"),
        ("free counselling for stress", "patient", "mental-health-support"),
    ],
)
def test_no_false_alarm_on_ordinary_questions(query: str, audience: str, expected: str) -> None:
    result = match(query, audience=audience)  # type: ignore[arg-type]
    assert result.status == "answer" and result.entry_id == expected, result


@pytest.mark.parametrize(
    "query",
    [
        "nurses strike, who covers immunisation clinics",
        "cooking classes for diabetics",
        "emergency department sent us their follow-ups",
        "chest x-ray referral pathway",
        "blood test results not arriving",
        "end of life care funding for home visits",
        "the pills are too expensive",
        "medication review for a patient on many medicines",
        "my son has an odd rash",
        "odd question about the claims portal",
        "my blood test results were bad",
        "I live far from the clinic and have no car",
        "dropped my face mask at reception",
        "my chest x-ray was paid for",
        "can someone cover my shift",
    ],
)
def test_near_misses_of_short_red_flags_are_not_alarms(query: str) -> None:
    assert match(query, audience="practice").status != "safety"


@pytest.mark.parametrize(
    "query",
    [
        "can you fit me in this week",
        "my son hurt his knee playing rugby, can he see a doctor",
        "she hurt her ankle, which clinic is open",
        "I hit the wrong number sorry. what does a visit cost",
        "my husband wants to enrol with me",
        "he never hit me, we just need a doctor",
        "my back is killing me, how much is a visit",
        "孩子发烧了，周末哪里能看医生",
        "可以打我电话吗",
        "he kicked me out of the flat, where can I enrol now",
        "do I need to bring the kids' passports",
    ],
)
def test_ordinary_patient_texts_are_not_alarms(query: str) -> None:
    assert match(query, audience="patient").status != "safety"


def _red_flags() -> list[tuple[str, str]]:
    path = Path(__file__).parent / "data" / "red-flags.tsv"
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    return [(kind, query) for kind, query in (row.split("\t") for row in rows if row)]


@pytest.mark.parametrize(("expected", "query"), _red_flags())
def test_red_flag_table(expected: str, query: str) -> None:
    result = match(query, audience="patient")
    assert (result.status, result.entry_id) == ("safety", expected)
