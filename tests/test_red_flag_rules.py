"""Red flags as concepts that combine, with guards for history, guidance and negation."""

from __future__ import annotations

import pytest

from assistant.matcher import match


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        # someone x what happened x how bad
        ("my nephew came off the scaffolding at work", "emergency"),
        ("a truck ran over my neighbour", "emergency"),
        ("patient at the desk clutching her chest and sweating", "emergency"),
        ("my daughter necked a whole packet of pamol", "emergency"),
        ("عمي سقط من السلم", "emergency"),
        ("mera beta seedhi se gir gaya", "emergency"),
        # an intent and a method, a harm and a reflexive, in every script
        ("he keeps saying he will hang himself", "crisis-support"),
        ("ابنتي تؤذي نفسها", "crisis-support"),
        ("वह खुद को नुकसान पहुँचा रहा है", "crisis-support"),
        ("他又在割自己的手腕", "crisis-support"),
        ("she posted a farewell letter on insta", "crisis-support"),
        ("i wish it would all end", "crisis-support"),
        # an intent to take pills is a crisis, not (yet) an overdose; a store of them too
        ("tonight i am gonna swallow every tablet i have", "crisis-support"),
        ("he has been stockpiling his sleeping pills", "crisis-support"),
        ("i dont want to wake up in the morning", "crisis-support"),
        # a burden: others better off without the person
        ("my kids would be happier if i was gone", "crisis-support"),
        ("मेरे बिना मेरा परिवार ज़्यादा खुश रहेगा", "crisis-support"),
        ("没有我，家人会过得更好", "crisis-support"),
        # ... while a taking that happened is an overdose
        ("she swallowed all of her tablets an hour ago", "emergency"),
    ],
)
def test_concepts_combine_into_a_red_flag(query: str, kind: str) -> None:
    result = match(query, audience="patient")
    assert (result.status, result.safety) == ("safety", kind)


@pytest.mark.parametrize(
    "query",
    [
        "she had a heart attack three years ago and needs a new doctor",
        "my brother self harmed as a teenager, he is doing well now",
        "I'm not thinking of hurting myself, I just feel flat",
        "what is the local pathway for suspected stroke in general practice",
        "我不想死，只是想找人聊聊",
        "help",
        "we just moved here and have no doctor",
        # words of other languages near a red-flag word are their own words
        "kataki 'o tokoni mai kiate au",  # Tongan: please help me
        "e le iloa e loʻu tama le gagana peretania",  # Samoan: my son does not know English
        "kāore au e mōhio ki te rēhita",  # Māori: I do not know how to enrol
        "e leai sana taavale",  # Samoan: she has no car
        "i want to take my pills with food, is that ok",
        "we saved up for the doctors fees",
    ],
)
def test_history_guidance_negation_and_help_are_not_red_flags(query: str) -> None:
    assert match(query, audience="practice").status != "safety"
    assert match(query, audience="patient").status != "safety"
