"""Every SMS text we send, built from the catalogs in the current locale.

Each function returns one whole reply. Replies must fit in two SMS segments in every language
(tests/test_sms_segments.py renders all of them), so the texts are short on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.i18n import LANGUAGE_NAMES, _
from assistant.sms.keywords import MENU_ORDER
from assistant.sms.places import NearbyPractice, adult_fee, is_low_cost
from assistant.sms.segments import fits, shorten


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
    # Translators: SMS; keep 0, LANG and STOP in English letters.
    return _(
        "We help people enrol with a GP. Call us on %(phone)s. Text 0 for the menu, "
        "LANG for language, STOP to stop texts.",
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
    # Translators: SMS, after a list of practices.
    return _("Reply 1 for what to bring.")


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


def practice_line(number: int, nearby: NearbyPractice, *, with_fee: bool = True) -> str:
    practice = nearby.practice
    parts = [practice.name, practice.phone]
    note = fee_note(practice.fee_notes) if with_fee else ""
    if note:
        parts.append(note)
    return f"{number}. " + ", ".join(p for p in parts if p)


def practices_footer_more() -> str:
    # Translators: SMS, after a list of practices when there are more to show.
    return _("Reply 1 for what to bring, 2 for more practices.")


def practices(found: Sequence[NearbyPractice], *, first_number: int = 1) -> tuple[str, int]:
    """The nearest practices that fit in one reply, and how many that is (at least one).

    Up to three practices, each with its phone and fee note; in UCS-2 languages (70 characters
    a segment) fewer fit, and the footer offers the rest ("2 for more"). Fee notes go only
    when even one practice with its fee note does not fit.
    """
    header = _("Taking new patients near you:")
    for with_fee in (True, False):
        for count in range(len(found), 0, -1):
            footer = practices_footer() if count == len(found) else practices_footer_more()
            lines = [
                practice_line(first_number + i, n, with_fee=with_fee)
                for i, n in enumerate(found[:count])
            ]
            text = "\n".join([header, *lines, footer])
            if fits(text):
                return text, count
    footer = practices_footer() if len(found) == 1 else practices_footer_more()
    return shorten(practice_line(first_number, found[0], with_fee=False), suffix=footer), 1


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
