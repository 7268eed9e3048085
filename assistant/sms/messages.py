"""Every SMS text we send, built from the catalogs in the current locale.

Each function returns one whole reply. Replies must fit in two SMS segments in every language
(tests/test_sms_segments.py renders all of them), so the texts are short on purpose.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime

from assistant.contacts.segments import fits, is_gsm7, shorten
from assistant.i18n import LANGUAGE_NAMES, _, ngettext
from assistant.people.listing import days_since_confirmed
from assistant.people.places import NearbyPractice, adult_fee, is_low_cost
from assistant.sms.keywords import MENU_ORDER

# The numbers after a list of practices that are not a practice's own (those are 1, 2, 3...).
MORE_PRACTICES = 8
WHAT_TO_BRING = 9


def language_menu() -> str:
    lines = [f"{n} {LANGUAGE_NAMES[lang]}" for n, lang in enumerate(MENU_ORDER, start=1)]
    # Translators: SMS. The seven language names follow, one a line.
    return _("Reply with a number for your language:") + "\n" + "\n".join(lines)


def main_menu() -> str:
    # Translators: SMS menu; keep the numbers and the line breaks, keep it short.
    return _("Reply:\n1 Can I enrol?\n2 Find a GP\n3 What to bring\n4 Costs\n5 Call me back")


def welcome() -> str:
    # Translators: SMS, the first reply in a language.
    return _("Hi! We help you enrol with a doctor (GP).") + "\n" + main_menu()


def fresh_start() -> str:
    # Translators: SMS after 24 hours without messages.
    return _("Welcome back! It has been a while, so we are starting again.") + "\n" + main_menu()


def menu_again() -> str:
    return main_menu()


def menu_number_unknown() -> str:
    # Translators: SMS.
    return _("Please reply with 1 to 5.") + "\n" + main_menu()


def opted_in() -> str:
    # Translators: SMS after START.
    return _("You will get our texts again.") + "\n" + main_menu()


def opted_out() -> str:
    # Translators: SMS after STOP; START stays in English (it works in every language).
    return _("You will get no more messages from us. Text START to start again.")


def help_text(pho_phone: str) -> str:
    # Translators: SMS; keep 0, LANG and STOP in English letters, and 111 and 1737. "Help!"
    # may be a cry for help: the emergency and crisis numbers come with the service's help.
    return _(
        "We help people enrol with a GP. Call us on %(phone)s. Emergency: 111. Crisis: 1737. "
        "Text 0 for the menu, LANG for language, STOP to stop texts.",
        phone=pho_phone,
    )


def eligibility_citizen() -> str:
    # Translators: SMS question.
    return _(
        "Are you a NZ citizen or resident, or an Australian citizen? Reply 1 Yes, 2 No, 3 Not sure"
    )


def eligibility_visa() -> str:
    # Translators: SMS question.
    return _(
        "Do you have a visa to work here for 2 years or more, or refugee or asylum status? "
        "1 Yes, 2 No, 3 Not sure"
    )


def eligibility_child() -> str:
    # Translators: SMS question.
    return _("Are you under 18, with an eligible parent or guardian? 1 Yes, 2 No, 3 Not sure")


def eligible() -> str:
    # Translators: SMS; asks where they live next.
    return _(
        "Good news: you can likely enrol for funded care. What suburb or postcode do you live in?"
    )


def not_eligible() -> str:
    # Translators: SMS.
    return _(
        "You may not get funded care, but a GP can still see you as a casual patient "
        "(you pay the full fee). Call back? 1 Yes 2 No"
    )


def unsure() -> str:
    # Translators: SMS.
    return _("A community worker can help you check. Can they call you? 1 Yes 2 No")


def ask_where() -> str:
    # Translators: SMS question.
    return _("What suburb or postcode do you live in?")


def place_unknown() -> str:
    # Translators: SMS; Riccarton and 8041 are examples of a suburb and a postcode.
    return _(
        "Sorry, I could not find that place. Text your suburb or postcode, like Riccarton or 8041."
    )


def no_practices() -> str:
    # Translators: SMS.
    return _(
        "No practice near you is taking new patients now. A community worker can help. "
        "Want a call back? 1 Yes 2 No"
    )


def practices_footer() -> str:
    # Translators: SMS, after a numbered list of practices; keep %(bring)s (a number).
    return _(
        "Reply a practice's number to ask it to enrol you, or %(bring)s for what to bring.",
        bring=WHAT_TO_BRING,
    )


def fee_note(fee_notes: str) -> str:
    fee = adult_fee(fee_notes)
    low = is_low_cost(fee_notes)
    if fee and low:
        # Translators: SMS, about a practice: its lowest fee for an adult visit.
        return _("low cost, from %(fee)s", fee=fee)
    if fee:
        # Translators: SMS, about a practice: its lowest fee for an adult visit.
        return _("from %(fee)s", fee=fee)
    if low:
        # Translators: SMS, about a practice.
        return _("low cost")
    return ""


def practice_line(
    number: int,
    nearby: NearbyPractice,
    *,
    with_fee: bool = True,
    now: datetime | None = None,
    plain: bool = False,
) -> str:
    """One practice in a list: "1. Name, phone, fee note, checked 3 days ago" (the last only
    with ``now``)."""
    practice = nearby.practice
    parts = [_plain_letters(practice.name) if plain else practice.name, practice.phone]
    note = fee_note(practice.fee_notes) if with_fee else ""
    if note:
        parts.append(note)
    days = days_since_confirmed(practice, now) if now is not None else None
    if days is not None:
        parts.append(checked_note(days))
    return f"{number}. " + ", ".join(p for p in parts if p)


def practices_footer_more() -> str:
    # Translators: SMS, after a numbered list of practices when there are more to show; keep
    # %(more)s and %(bring)s (numbers).
    return _(
        "Reply a practice's number to ask it to enrol you, %(more)s for more practices, "
        "%(bring)s for what to bring.",
        more=MORE_PRACTICES,
        bring=WHAT_TO_BRING,
    )


def practices_all_shown() -> str:
    # Translators: SMS, when someone asks for more practices and all were shown already.
    return _("That is every practice near you taking new patients.") + "\n" + practices_footer()


def checked_note(days: int) -> str:
    """How recently a practice confirmed that it takes new patients."""
    if days <= 0:
        # Translators: SMS, about a practice: it confirmed today that it takes new patients.
        return _("checked today")
    # Translators: SMS, about a practice: it confirmed so many days ago that it takes new
    # patients.
    return ngettext("checked %(num)d day ago", "checked %(num)d days ago", days)


def practices(
    found: Sequence[NearbyPractice], *, first_number: int = 1, now: datetime | None = None
) -> tuple[str, int]:
    """The nearest practices that fit in one reply, and how many that is (at least one).

    Up to three practices, each with its phone, fee note and how recently it confirmed that it
    takes new patients (with ``now``); in UCS-2 languages (70 characters a segment) fewer fit,
    and the footer offers the rest. What goes first when space is short: the "checked" notes,
    then a practice (the rest are a reply away), then the fee notes.
    """
    header = _("Taking new patients near you:")
    # Each practice's line in each form, written once (the tries below reuse them).
    written: dict[tuple[int, bool, bool, bool], str] = {}

    def written_line(i: int, with_fee: bool, noted: bool, plain: bool) -> str:
        key = (i, with_fee, noted, plain)
        if key not in written:
            written[key] = practice_line(
                first_number + i,
                found[i],
                with_fee=with_fee,
                now=now if noted else None,
                plain=plain,
            )
        return written[key]

    # Best first; a name in plain letters (a macron makes the whole text UCS-2) before less;
    # the "checked" notes go from the last practice up.
    for with_fee, count in itertools.product((True, False), range(len(found), 0, -1)):
        footer = practices_footer() if count == len(found) else practices_footer_more()
        noted = range(count, -1, -1) if now is not None else (0,)
        for checked, plain in itertools.product(noted, (False, True)):
            lines = [written_line(i, with_fee, i < checked, plain) for i in range(count)]
            text = "\n".join([header, *lines, footer])
            if fits(text):
                return text, count
    # One practice, without the header; cut to fit only when even that is too long.
    footer = practices_footer() if len(found) == 1 else practices_footer_more()
    line = practice_line(first_number, found[0], with_fee=False, plain=True)
    text = f"{line}\n{footer}"
    return (text if fits(text) else shorten(line, suffix=footer)), 1


def _plain_letters(name: str) -> str:
    """A name without Latin accents and macrons ("Whānau" as "Whanau"), for an SMS that would
    otherwise take twice the segments."""
    decomposed = unicodedata.normalize("NFKD", name)
    kept = "".join(ch for ch in decomposed if not 0x0300 <= ord(ch) <= 0x036F)
    return unicodedata.normalize("NFC", kept)


def what_to_bring() -> str:
    # Translators: SMS.
    return _(
        "Bring photo ID (not needed under 16). Born overseas? Bring your passport and visa. "
        "Reply 1 for costs."
    )


def costs() -> str:
    # Translators: SMS.
    return _(
        "Visits are free for children 13 and under. A Community Services Card or a low cost "
        "practice cuts adult fees. Call back? 1 Yes 2 No"
    )


def callback_booked() -> str:
    # Translators: SMS.
    return _("Thanks. A community worker will call you soon. Text 0 for the menu.")


def passed_to_worker() -> str:
    # Translators: SMS, to a text that answers a community worker's text to the person.
    return _(
        "Thanks. Your text has gone to the community worker who texted you. Text 0 for the menu."
    )


def callback_declined() -> str:
    # Translators: SMS.
    return _("OK. Text 0 for the menu, or ask a question any time.")


def yes_or_no() -> str:
    # Translators: SMS, when an answer was not understood.
    return _("Please reply 1 for Yes or 2 for No.")


def resume_eligibility() -> str:
    # Translators: SMS, after answering a side question, back to the eligibility question.
    return _("To go on: reply 1 Yes, 2 No, 3 Not sure")


def resume_callback() -> str:
    # Translators: SMS, after answering a side question, back to the call-back offer.
    return _("Still want a call back? 1 Yes 2 No")


# -- asking a practice to enrol the person ----------------------------------------------------


def _naming(render: Callable[[str], str], practice_name: str) -> str:
    """``render(practice_name)``, the practice's name cut at a word (with an ellipsis) when
    the whole does not fit two segments: the question around it stays whole."""
    text = render(practice_name)
    if fits(text):
        return text
    plain = _plain_letters(practice_name)
    if plain != practice_name and fits(render(plain)):
        return render(plain)
    tokens = plain.split()
    while len(tokens) > 1:
        tokens.pop()
        cut = " ".join(tokens)
        text = render(cut + ("..." if is_gsm7(cut) else "…"))
        if fits(text):
            return text
    return shorten(text)


def ask_name(practice_name: str) -> str:
    return _naming(
        # Translators: SMS after someone chose a practice; %(practice)s is its name.
        lambda name: _(
            "To ask %(practice)s to enrol you, please text your full name. Text 0 for the menu.",
            practice=name,
        ),
        practice_name,
    )


def ask_name_again() -> str:
    # Translators: SMS, when the reply to "text your full name" was not a name; Mere Smith is
    # an example of a name (use a name common among speakers of the language).
    return _(
        "Please text just your full name, like Mere Smith, so the practice knows who you are. "
        "Text 0 for the menu."
    )


def resume_name() -> str:
    # Translators: SMS, after answering a side question, back to asking for their name.
    return _("To go on, please text your full name.")


def ask_consent(practice_name: str) -> str:
    return _naming(
        # Translators: SMS, asking for consent to share; %(practice)s is a practice's name.
        lambda name: _(
            "Can we send your name, phone number, language and what you told us (like cost or "
            "transport) to %(practice)s and a community worker, so they can help you enrol? "
            "1 Yes 2 No",
            practice=name,
        ),
        practice_name,
    )


def consent_explain(practice_name: str) -> str:
    return _naming(
        # Translators: SMS, when the answer to the consent question was unclear.
        lambda name: _(
            "We share nothing unless you say yes. With a yes, %(practice)s and a community "
            "worker get your details to help you enrol. Send them? 1 Yes 2 No",
            practice=name,
        ),
        practice_name,
    )


def resume_consent() -> str:
    # Translators: SMS, after answering a side question, back to the consent question.
    return _("Send your details to the practice? 1 Yes 2 No")


def consent_declined(practice_name: str, practice_phone: str) -> str:
    return _naming(
        # Translators: SMS after someone said no to sharing their details.
        lambda name: _(
            "OK, we have not shared anything. You can call %(practice)s yourself on "
            "%(phone)s. Text 0 for the menu.",
            practice=name,
            phone=practice_phone,
        ),
        practice_name,
    )


def practice_unavailable() -> str:
    # Translators: SMS, when the chosen practice stopped taking new patients meanwhile.
    return _("Sorry, that practice is not taking new patients now. Text 0 for the menu.")


def safety_net() -> str:
    # Translators: SMS, a short line added to an unsure answer; keep 111 and 1737.
    return _("Emergency: 111. Crisis: call or text 1737.")


def abstain_with_safety_net() -> str:
    # Translators: SMS, when we cannot answer a question; keep 111 and 1737.
    return _(
        "Sorry, I do not have an answer to that. Want a community worker to call you? "
        "1 Yes 2 No. Emergency: 111. Crisis: 1737."
    )


def barrier_noted() -> str:
    # Translators: SMS, after someone mentions cost, transport or language as a problem.
    return _("Thanks for telling us. A community worker will call you to help.")


def emergency() -> str:
    # Translators: SMS; keep 111 and 1737.
    return _(
        "Emergency? Call 111 now. Mental health support: call or text 1737. "
        "A community worker will contact you."
    )


def crisis_support() -> str:
    # Translators: SMS; keep 1737 and 111.
    return _(
        "Call or text 1737 any time to talk to a counsellor, free. In danger? Call 111. "
        "A community worker will contact you."
    )


def knowledge_answer(body_text: str, suffix: str = "") -> str:
    return shorten(body_text, suffix=suffix)
