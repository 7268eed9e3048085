"""The enrolment guide: one step of one contact's conversation, as a state machine.

``Turn.run()`` reads the contact's state (language, step, answers, last activity), decides the
reply to one message and updates the state; it never commits (the caller stores the message,
the reply and the new state in one transaction). Order of precedence for every message:
STOP, then an opted-out contact (silence), the language question, safety (111 / 1737 and an
urgent referral), HELP, LANG, a language's name, MENU, a fresh start after 24 hours idle, the
current step's expected answer, and last a free-text question for the knowledge base.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlmodel import Session, col, select

from assistant.i18n import use_locale
from assistant.matcher import MatchResult
from assistant.people.models import Practice
from assistant.sms import messages as msg
from assistant.sms.keywords import (
    OPT_IN_EXTRA,
    Answer,
    Keyword,
    answer,
    barriers,
    keyword,
    language_choice,
    language_named,
    language_of_words,
    number,
    wants_callback,
)
from assistant.sms.language import detect, is_greeting
from assistant.sms.models import SmsContact, SmsInbound
from assistant.sms.places import NearbyPractice, Place, find_place, nearby_practices
from assistant.sms.segments import MAX_SEGMENTS, fits
from assistant.sms.text import fold

log = logging.getLogger(__name__)

IDLE_RESET = timedelta(hours=24)
# Referral reasons that are themselves a barrier the PCW team tracks.
_REASON_BARRIERS = {
    "not-eligible": ("enrolment",),
    "eligibility-unsure": ("enrolment",),
    "no-practice": ("enrolment",),
}
TRANSCRIPT_MESSAGES = 20


class Step:
    new = "new"
    lang = "lang"
    menu = "menu"
    elig_citizen = "elig_citizen"
    elig_visa = "elig_visa"
    elig_child = "elig_child"
    where = "where"
    practices = "practices"
    bring = "bring"
    offer_callback = "offer_callback"


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


@dataclass
class Turn:
    """One step of one contact's conversation."""

    session: Session
    contact: SmsContact
    body: str
    now: datetime
    pho_phone: str
    answers: dict[str, Any] = field(default_factory=dict)
    _match: MatchResult | None = None

    def run(self) -> str:
        contact = self.contact
        try:
            self.answers = json.loads(contact.answers or "{}")
        except ValueError:
            self.answers = {}
        idle = (
            contact.last_activity is not None
            and self.now - _aware(contact.last_activity) >= IDLE_RESET
        )
        contact.last_activity = self.now
        reply = self._reply(idle=idle)
        contact.answers = json.dumps(self.answers, ensure_ascii=False, sort_keys=True)
        self.session.add(contact)
        return reply

    # -- helpers -------------------------------------------------------------------------

    def say(self, build: Any, *args: Any) -> str:
        with use_locale(self.contact.language):
            return str(build(*args))

    def goto(self, step: str) -> None:
        self.contact.step = step

    def match(self) -> MatchResult:
        if self._match is None:
            from assistant.matcher import match

            # Before a language is settled, the safety rules look at every language.
            settled = self.contact.step not in (Step.new, Step.lang)
            lang = self.contact.language if settled else None
            try:
                self._match = match(self.body, audience="patient", lang=lang)
            except Exception:
                # The guide and the keywords keep working; the question goes to a person.
                log.exception("sms: the matcher failed; treating the question as unanswered")
                self._match = MatchResult(status="abstain")
        return self._match

    def transcript(self, reply: str) -> str:
        assert self.contact.id is not None
        rows = list(
            self.session.exec(
                select(SmsInbound)
                .where(SmsInbound.contact_id == self.contact.id)
                .order_by(col(SmsInbound.received_at).desc(), col(SmsInbound.id).desc())
                .limit(TRANSCRIPT_MESSAGES)
            )
        )
        lines = []
        for row in reversed(rows):
            lines.append(f"> {row.body}")
            if row.reply:
                lines.append(f"< {row.reply}")
        lines.append(f"> {self.body}")
        if reply:
            lines.append(f"< {reply}")
        return "\n".join(lines)

    def refer(
        self, *, reason: str, reply: str, urgent: bool = False, found: list[str] | None = None
    ) -> None:
        from assistant.pcw.referrals import create_referral

        barrier_list = sorted(
            set(found or [])
            | set(self.answers.get("barriers", []))
            | set(_REASON_BARRIERS.get(reason, ()))
        )
        create_referral(
            self.session,
            source="sms",
            phone=self.contact.phone,
            language=self.contact.language,
            transcript=self.transcript(reply),
            barriers=barrier_list,
            reason=reason,
            urgent=urgent,
            commit=False,
        )
        self.answers.setdefault("referrals", []).append(reason)

    # -- the conversation ----------------------------------------------------------------

    def _reply(self, *, idle: bool) -> str:
        contact = self.contact
        kw = keyword(self.body)
        if kw is Keyword.stop:
            contact.opted_out = True
            contact.opted_out_at = self.now
            return self.say(msg.opted_out)
        if contact.opted_out:
            if kw is Keyword.start or fold(self.body) in OPT_IN_EXTRA:
                contact.opted_out = False
                contact.opted_out_at = None
                self.answers = {}
                if contact.step == Step.new:
                    self.goto(Step.lang)
                    return self.say(msg.language_menu)
                self.goto(Step.menu)
                return self.say(msg.opted_in)
            # Nothing is ever texted to an opted-out number, but a PCW still hears of an
            # emergency or a crisis (a phone call is not a text).
            self._safety(silent=True)
            return ""
        if not self.body.strip():  # a picture without words, say
            if contact.step in (Step.new, Step.lang):
                self.goto(Step.lang)
                return self.say(msg.language_menu)
            return self.say(msg.menu_again)

        detected: str | None = None
        if contact.step in (Step.new, Step.lang):
            chosen = language_choice(self.body) if contact.step == Step.lang else None
            detected = chosen or detect(self.body) or language_of_words(self.body)
            if not detected and self._carries_something():
                detected = "en"  # a place or a request in Latin letters: carry on in English
            if detected:
                contact.language = detected

        safety = self._safety()
        if safety is not None:
            if detected and contact.step == Step.new:
                self.goto(Step.menu)  # the language is known: carry on in it afterwards
            return safety

        if kw is Keyword.help:
            return self.say(msg.help_text, self.pho_phone)
        if kw is Keyword.lang:
            self.goto(Step.lang)
            return self.say(msg.language_menu)
        named = language_named(self.body)
        if named and contact.step not in (Step.new, Step.lang):
            contact.language = named
            self.goto(Step.menu)
            return self.say(msg.welcome)
        choosing = contact.step in (Step.new, Step.lang)
        if (kw is Keyword.menu or kw is Keyword.start) and not (choosing and not detected):
            self.goto(Step.menu)
            return self.say(msg.menu_again)
        if idle and contact.step not in (Step.new, Step.lang):
            self.answers = {}
            self.goto(Step.menu)
            return self.say(msg.fresh_start)

        if contact.step in (Step.new, Step.lang):
            if not detected:
                self.goto(Step.lang)
                return self.say(msg.language_menu)
            self.goto(Step.menu)
            if language_choice(self.body):
                return self.say(msg.welcome)
            carried = self._carried()
            if carried is not None:
                return carried
            if is_greeting(self.body):
                return self.say(msg.welcome)
            if self.match().status in ("answer", "choose"):
                return self._free_text()
            return self.say(msg.welcome)

        carried = self._carried()
        if carried is not None:
            return carried
        handler = _STEP_HANDLERS.get(contact.step)
        reply = handler(self) if handler else None
        if reply is not None:
            return reply
        return self._free_text()

    def _safety(self, *, silent: bool = False) -> str | None:
        if number(self.body) is not None or answer(self.body) is not None:
            return None
        result = self.match()
        if result.status != "safety":
            return None
        build = msg.crisis_support if result.safety == "crisis-support" else msg.emergency
        reply = "" if silent else self.say(build)
        self.refer(reason="safety", reply=reply, urgent=True)
        return reply

    # -- what the message carries, read once per message ---------------------------------

    @cached_property
    def _is_reply_to_a_menu(self) -> bool:
        """A menu number or a yes/no answer: left to the step that asked for it."""
        return number(self.body) is not None or answer(self.body) is not None

    @cached_property
    def _place(self) -> Place | None:
        return None if self._is_reply_to_a_menu else find_place(self.body)

    @cached_property
    def _wants_callback(self) -> bool:
        return not self._is_reply_to_a_menu and wants_callback(self.body)

    @cached_property
    def _barriers(self) -> list[str]:
        return barriers(self.body)

    def _new_barriers(self) -> list[str]:
        return [b for b in self._barriers if b not in self.answers.get("barriers", [])]

    def _carries_something(self) -> bool:
        """A place, a request for a call or a barrier, anywhere in the message."""
        if self._is_reply_to_a_menu:
            return False
        return bool(self._place or self._wants_callback or self._barriers)

    def _carried(self) -> str | None:
        """What the message carries, at any step: a place gives the practices near it; a request
        for a call makes a call-back referral; barriers go onto a referral."""
        if self._is_reply_to_a_menu:
            return None
        found = self._new_barriers()
        callback = self._wants_callback
        place = self._place
        if place is not None:
            reply = self._practices_near(place)
            if callback or found:
                self.refer(reason="callback" if callback else "barrier", reply=reply, found=found)
                self._remember_barriers(found)
            return reply
        if callback:
            reply = self._book_callback("callback", found=found)
            self._remember_barriers(found)
            return reply
        if found:
            return self._free_text()
        return None

    def _remember_barriers(self, found: list[str]) -> None:
        if found:
            self.answers["barriers"] = sorted(set(self.answers.get("barriers", [])) | set(found))

    def _free_text(self) -> str:
        result = self.match()
        found = self._new_barriers()
        body = self._knowledge_text(result)
        unsure = result.status != "answer"
        net = self.say(msg.safety_net) if unsure else ""
        if found:
            suffix = self.say(msg.barrier_noted)
            reply_preview = self.say(msg.knowledge_answer, body, suffix) if body else suffix
            self.refer(reason="barrier", reply=reply_preview, found=found)
            self._remember_barriers(found)
            return reply_preview
        if body:
            return self._answer_then_resume(body, net)
        self.answers["question"] = self.body[:500]
        self.answers["callback_reason"] = "question"
        self.goto(Step.offer_callback)
        return self.say(msg.abstain_with_safety_net)

    def _answer_then_resume(self, body: str, net: str) -> str:
        """The answer, then the person's place in the guide: the question they were asked
        (in full when it fits the two segments, else in short)."""
        pending = _PENDING.get(self.contact.step)
        if pending is None:
            return self.say(msg.knowledge_answer, body, net)
        full, short = pending
        whole = " ".join(filter(None, (body, net, self.say(full))))
        if fits(whole, MAX_SEGMENTS):
            return whole
        return self.say(msg.knowledge_answer, body, " ".join(filter(None, (net, self.say(short)))))

    def _knowledge_text(self, result: MatchResult) -> str:
        if result.status not in ("answer", "choose"):
            return ""
        entry_id = result.entry_id or (result.candidates[0].entry_id if result.candidates else None)
        if not entry_id:
            return ""
        from assistant.knowledge import get_knowledge_base

        entry = get_knowledge_base().get(entry_id)
        lang = self.contact.language
        if entry is None or not entry.for_audience("patient") or lang not in entry.variants:
            return ""
        from assistant.knowledge.usage import record_usage

        record_usage(self.session, entry_id=entry_id, kind="answered", at=self.now, commit=False)
        return entry.variant(lang).body_text

    # -- step handlers: a reply, or None to treat the message as a question ----------------

    def on_menu(self) -> str | None:
        choice = number(self.body)
        if choice is None:
            if is_greeting(self.body):
                return self.say(msg.welcome)
            if answer(self.body) is not None:  # "ok", "thanks"-like answers: not a question
                return self.say(msg.menu_again)
            return None
        if choice == 1:
            self.goto(Step.elig_citizen)
            return self.say(msg.eligibility_citizen)
        if choice == 2:
            self.goto(Step.where)
            return self.say(msg.ask_where)
        if choice == 3:
            self.goto(Step.bring)
            return self.say(msg.what_to_bring)
        if choice == 4:
            self.answers["callback_reason"] = "callback"
            self.goto(Step.offer_callback)
            return self.say(msg.costs)
        if choice == 5:
            return self._book_callback("callback")
        return self.say(msg.menu_number_unknown)

    def _eligibility(self, *, on_no: str | None) -> str | None:
        said = answer(self.body)
        if said is Answer.yes:
            self.answers["eligibility"] = "eligible"
            self.goto(Step.where)
            return self.say(msg.eligible)
        if said is Answer.unsure:
            self.answers["eligibility"] = "unsure"
            self.answers["callback_reason"] = "eligibility-unsure"
            self.goto(Step.offer_callback)
            return self.say(msg.unsure)
        if said is Answer.no:
            if on_no == Step.elig_visa:
                self.goto(Step.elig_visa)
                return self.say(msg.eligibility_visa)
            if on_no == Step.elig_child:
                self.goto(Step.elig_child)
                return self.say(msg.eligibility_child)
            self.answers["eligibility"] = "not-eligible"
            self.answers["callback_reason"] = "not-eligible"
            self.goto(Step.offer_callback)
            return self.say(msg.not_eligible)
        return None

    def on_elig_citizen(self) -> str | None:
        return self._eligibility(on_no=Step.elig_visa)

    def on_elig_visa(self) -> str | None:
        return self._eligibility(on_no=Step.elig_child)

    def on_elig_child(self) -> str | None:
        return self._eligibility(on_no=None)

    def on_where(self) -> str | None:
        # A place was looked for already (``_carried``): this message names none.
        if self.match().status in ("answer", "safety") or self._barriers:
            return None
        return self.say(msg.place_unknown)

    def _practices_near(self, place: Place) -> str:
        self.answers["place"] = place.name
        found = nearby_practices(self.session, place=place, now=self.now)
        if not found:
            self.answers["callback_reason"] = "no-practice"
            self.goto(Step.offer_callback)
            return self.say(msg.no_practices)
        self.answers["practices"] = [n.practice.id for n in found]
        self.goto(Step.practices)
        return self._show_practices(found, first=0)

    def _show_practices(self, found: list[NearbyPractice], *, first: int) -> str:
        with use_locale(self.contact.language):
            text, shown = msg.practices(found, first_number=first + 1)
        self.answers["shown"] = first + shown
        return text

    def on_practices(self) -> str | None:
        ids = [int(i) for i in self.answers.get("practices", [])]
        shown = int(self.answers.get("shown", len(ids)))
        choice = number(self.body)
        if choice == 2 and shown < len(ids):
            rest = [self.session.get(Practice, i) for i in ids[shown:]]
            more = [NearbyPractice(p, 0.0) for p in rest if p is not None]
            if more:
                return self._show_practices(more, first=shown)
        said = answer(self.body)
        if said is Answer.yes:
            self.goto(Step.bring)
            return self.say(msg.what_to_bring)
        if choice is not None and choice > 2:
            return self.on_menu()  # the main menu's numbers work here too (4 costs, 5 call)
        return self._declined(said)

    def on_bring(self) -> str | None:
        said = answer(self.body)
        if said is Answer.yes:
            self.answers["callback_reason"] = "callback"
            self.goto(Step.offer_callback)
            return self.say(msg.costs)
        choice = number(self.body)
        if choice is not None and choice > 2:
            return self.on_menu()
        return self._declined(said)

    def _declined(self, said: Answer | None) -> str | None:
        """A "no" to "reply 1 for ...": back to the menu, without a fuss."""
        if said is Answer.no:
            self.goto(Step.menu)
            return self.say(msg.callback_declined)
        return None

    def on_offer_callback(self) -> str | None:
        said = answer(self.body)
        if said is Answer.yes:
            return self._book_callback(str(self.answers.get("callback_reason", "callback")))
        if said is Answer.no:
            self.goto(Step.menu)
            return self.say(msg.callback_declined)
        if said is Answer.unsure:
            return self.say(msg.yes_or_no)
        return None

    def _book_callback(self, reason: str, *, found: list[str] | None = None) -> str:
        reply = self.say(msg.callback_booked)
        self.refer(reason=reason, reply=reply, found=found)
        self.answers.pop("callback_reason", None)
        self.goto(Step.menu)
        return reply


# The question each step waits on: in full, and in short (after a side answer).
_PENDING: dict[str, tuple[Any, Any]] = {
    Step.elig_citizen: (msg.eligibility_citizen, msg.resume_eligibility),
    Step.elig_visa: (msg.eligibility_visa, msg.resume_eligibility),
    Step.elig_child: (msg.eligibility_child, msg.resume_eligibility),
    Step.where: (msg.ask_where, msg.ask_where),
    Step.offer_callback: (msg.resume_callback, msg.resume_callback),
}

_STEP_HANDLERS = {
    Step.menu: Turn.on_menu,
    Step.elig_citizen: Turn.on_elig_citizen,
    Step.elig_visa: Turn.on_elig_visa,
    Step.elig_child: Turn.on_elig_child,
    Step.where: Turn.on_where,
    Step.practices: Turn.on_practices,
    Step.bring: Turn.on_bring,
    Step.offer_callback: Turn.on_offer_callback,
}
