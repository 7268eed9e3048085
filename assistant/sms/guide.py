"""The enrolment guide: one step of one contact's conversation, as a state machine.

``Turn.run()`` reads the contact's state (language, step, answers, last activity), decides the
reply to one message and updates the state; it never commits (the caller writes the new state
back and stores the message and the reply, in one transaction). Order of precedence for every
message: STOP, then an opted-out contact (silence, but for 111 / 1737 and an urgent referral),
the language question, safety (111 / 1737 and an urgent referral), HELP, LANG, a reply to a
community worker's text (it goes to them, whatever it says, until MENU), a language's name,
MENU, a fresh start after 24 hours idle, what the message carries (a practice named, a place, a
request for a call, barriers), the current step's expected answer, and last a free-text question
for the knowledge base.

Asking a practice to enrol the person: they pick one from the list by its number (or name one
at any step), text their name, and agree to share their details with that practice and a
community worker; only then is an enrolment request made. Their name is kept only until then.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from rapidfuzz import fuzz
from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.clock import as_utc
from assistant.contacts.awaiting import (
    WORKER_AT,
    WORKER_ID,
    WORKER_KEYS,
    WORKER_REFERRAL,
    WORKER_STEP,
    WORKER_TOLD,
)
from assistant.contacts.segments import MAX_SEGMENTS, fits
from assistant.contacts.text import fold
from assistant.enrolment import notices
from assistant.enrolment.funnel import mark, person_of
from assistant.enrolment.models import EnrolmentRequest, RequestSource, Stage
from assistant.enrolment.requests import create_request
from assistant.errors import Invalid
from assistant.i18n import use_locale
from assistant.knowledge import get_knowledge_base
from assistant.knowledge.usage import record_usage
from assistant.matcher import MatchResult, match
from assistant.pcw.referrals import create_referral, reply_received
from assistant.people.listing import fresh_since, is_current
from assistant.people.models import Practice
from assistant.people.places import NearbyPractice, Place, find_place, nearby_practices
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
    name_given,
    number,
    wants_callback,
)
from assistant.sms.language import detect, is_greeting
from assistant.sms.models import SmsInbound

log = logging.getLogger(__name__)

IDLE_RESET = timedelta(hours=24)
# How long after a community worker's text the person's texts still answer it, though a day
# passed without any (within a day of their last text, they always do).
WORKER_WAIT = timedelta(days=7)
# Referral reasons that are themselves a barrier the PCW team tracks.
_REASON_BARRIERS = {
    "not-eligible": ("enrolment",),
    "eligibility-unsure": ("enrolment",),
    "no-practice": ("enrolment",),
    "practice-declined": ("enrolment",),
}
# How close a run of words in a message must be to a practice's whole name to name it.
PRACTICE_NAME_SCORE = 90
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
    ask_name = "ask_name"
    ask_consent = "ask_consent"
    offer_callback = "offer_callback"
    worker = WORKER_STEP  # a community worker texted the person: their texts go to the worker


# Steps where the person is asking a practice to enrol them (answers["asking"] holds the
# practice, then their name).
_ASKING = (Step.ask_name, Step.ask_consent)


@dataclass(frozen=True)
class PracticeName:
    """A practice as the guide names it in a reply (its whole row only when a request is
    sent)."""

    id: int
    name: str
    phone: str = ""


# What the guide reads of practices on most messages, built once (only the columns it uses;
# each message binds its values).
_PRACTICES = sa.inspect(Practice).local_table
assert isinstance(_PRACTICES, sa.Table)
_LISTED_NAMES = (
    sa.select(_PRACTICES.c.id, _PRACTICES.c.name)
    .where(
        _PRACTICES.c.active == True,  # noqa: E712
        _PRACTICES.c.accepting_new_patients == True,  # noqa: E712
        _PRACTICES.c.accepting_confirmed_at >= sa.bindparam("since"),
    )
    .order_by(_PRACTICES.c.id)
)
_PRACTICE_NAME = sa.select(_PRACTICES.c.id, _PRACTICES.c.name, _PRACTICES.c.phone).where(
    _PRACTICES.c.id == sa.bindparam("id")
)


@dataclass
class Contact:
    """Where one contact's conversation stands (a row of ``sms_contact``): the turn reads and
    changes it, the conversation writes it back with the message."""

    id: int
    phone: str
    language: str
    step: str
    answers: str
    opted_out: bool
    opted_out_at: datetime | None
    last_activity: datetime | None


class Reading:
    """One message as the guide reads it from its words alone (no contact, no database).

    ``read`` works out before the contact's lock what every message of its kind needs; the
    rest is read when the turn first asks for it. The match is made without the person's
    language: the guide uses its decision (status, entry, safety), the same in every language
    (only the titles, which no reply uses, are in one).
    """

    def __init__(self, body: str) -> None:
        self.body = body

    @cached_property
    def keyword(self) -> Keyword | None:
        return keyword(self.body)

    @cached_property
    def number(self) -> int | None:
        return number(self.body)

    @cached_property
    def answer(self) -> Answer | None:
        return answer(self.body)

    @cached_property
    def is_reply_to_a_menu(self) -> bool:
        """A menu number or a yes/no answer: left to the step that asked for it."""
        return self.number is not None or self.answer is not None

    @cached_property
    def place(self) -> Place | None:
        return None if self.is_reply_to_a_menu else find_place(self.body)

    @cached_property
    def wants_callback(self) -> bool:
        return not self.is_reply_to_a_menu and wants_callback(self.body)

    @cached_property
    def barriers(self) -> list[str]:
        return barriers(self.body)

    @cached_property
    def match(self) -> MatchResult:
        try:
            return match(self.body, audience="patient")
        except Exception:
            # The guide and the keywords keep working; the question goes to a person.
            log.exception("sms: the matcher failed; treating the question as unanswered")
            return MatchResult(status="abstain")


def read(body: str) -> Reading:
    """``body`` read as far as the guide reads every message like it, whatever the contact's
    state: the keyword, a menu number or an answer; for anything else the safety match; then,
    unless that is a safety message, a keyword or a language's name, the barriers, a request
    for a call and a place it names (the rest waits for the turn)."""
    reading = Reading(body)
    if reading.keyword is Keyword.stop or not body.strip() or reading.is_reply_to_a_menu:
        return reading
    if reading.keyword is Keyword.start:
        return reading  # matched only when the contact has not opted out
    if reading.match.status == "safety" or reading.keyword is not None or language_named(body):
        return reading
    _kept = (reading.barriers, reading.wants_callback, reading.place)  # each kept for the turn
    return reading


@dataclass
class Turn:
    """One step of one contact's conversation."""

    session: Session
    contact: Contact
    message: Reading
    now: datetime
    pho_phone: str
    answers: dict[str, Any] = field(default_factory=dict)
    _asked: dict[int, PracticeName | None] = field(default_factory=dict)

    @property
    def body(self) -> str:
        return self.message.body

    def run(self) -> str:
        contact = self.contact
        try:
            self.answers = json.loads(contact.answers or "{}")
        except ValueError:
            self.answers = {}
        idle = self._idle()
        first_text = contact.last_activity is None
        contact.last_activity = self.now
        reply = self._reply(idle=idle)
        if contact.step not in _ASKING:
            self.answers.pop("asking", None)  # the name goes with the step that needed it
        contact.answers = json.dumps(self.answers, ensure_ascii=False, sort_keys=True)
        if first_text:
            self._mark(Stage.texted)  # a person is counted as texting once, at their first text
        return reply

    def _idle(self) -> bool:
        """24 hours since the person's last text, and since a practice last texted them about
        their request (its "cannot take you on" asks "call back? 1 Yes 2 No")."""
        last = self.contact.last_activity
        if last is None or self.now - as_utc(last) < IDLE_RESET:
            return False
        answered = self.session.exec(
            select(func.max(EnrolmentRequest.updated_at)).where(
                EnrolmentRequest.phone == self.contact.phone
            )
        ).one()
        return answered is None or self.now - as_utc(answered) >= IDLE_RESET

    # -- helpers -------------------------------------------------------------------------

    def say(self, build: Any, *args: Any) -> str:
        with use_locale(self.contact.language):
            return str(build(*args))

    def goto(self, step: str) -> None:
        self.contact.step = step

    def _mark(self, stage: Stage, practice_id: int | None = None) -> None:
        """The funnel: this person reached ``stage`` (counted the first time only)."""
        mark(
            self.session,
            person=person_of(phone=self.contact.phone),
            stage=stage,
            at=self.now,
            language=self.contact.language,
            practice_id=practice_id,
        )

    def match(self) -> MatchResult:
        return self.message.match

    def transcript(self, reply: str) -> str:
        rows = list(
            self.session.exec(
                select(SmsInbound.body, SmsInbound.reply)
                .where(SmsInbound.contact_id == self.contact.id)
                .order_by(col(SmsInbound.received_at).desc(), col(SmsInbound.id).desc())
                .limit(TRANSCRIPT_MESSAGES)
            )
        )
        lines = []
        for body, earlier_reply in reversed(rows):
            lines.append(f"> {body}")
            if earlier_reply:
                lines.append(f"< {earlier_reply}")
        lines.append(f"> {self.body}")
        if reply:
            lines.append(f"< {reply}")
        return "\n".join(lines)

    def refer(
        self, *, reason: str, reply: str, urgent: bool = False, found: list[str] | None = None
    ) -> None:
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
        )
        self.answers.setdefault("referrals", []).append(reason)

    # -- the conversation ----------------------------------------------------------------

    def _reply(self, *, idle: bool) -> str:
        contact = self.contact
        kw = self.message.keyword
        if kw is Keyword.stop:
            contact.opted_out = True
            contact.opted_out_at = self.now
            self.answers.pop("asking", None)
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
            # Nothing else is texted to an opted-out number. An emergency or a crisis they text
            # us still gets 111 / 1737 in reply to that message (it stays opted out), and a
            # community worker hears of it: silence there could cost a life.
            return self._safety() or ""
        if not self.body.strip():  # a picture without words, say
            to_worker = self._to_worker(idle=idle) if contact.step == Step.worker else None
            if to_worker is not None:
                return to_worker
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
            return self.say(msg.help_text, self.pho_phone)  # with 111 and 1737
        if kw is Keyword.lang:
            self.goto(Step.lang)
            return self.say(msg.language_menu)
        if contact.step == Step.worker:
            if kw is not Keyword.menu and kw is not Keyword.start:
                to_worker = self._to_worker(idle=idle)
                if to_worker is not None:
                    return to_worker
            for key in WORKER_KEYS:
                self.answers.pop(key, None)
            self.goto(Step.menu)
        # At the name step a language's name is a person's ("Tonga" is a surname too).
        named = language_named(self.body) if contact.step != Step.ask_name else None
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

        # While asking a practice, a name or an answer is not a place ("Hornby" is a surname).
        carried = self._carried() if contact.step not in _ASKING else None
        if carried is not None:
            return carried
        handler = _STEP_HANDLERS.get(contact.step)
        reply = handler(self) if handler else None
        if reply is not None:
            return reply
        return self._free_text()

    def _to_worker(self, *, idle: bool) -> str | None:
        """A text after a community worker's text answers them, whatever it says (a time, a
        place, "yes"): the worker gets a task to read it, and the person hears once that it
        reached them (again after a day without texts). None once the worker's text is a week
        old and the person was quiet for a day: the guide takes over again."""
        referral_id = self.answers.get(WORKER_REFERRAL)
        try:
            texted = as_utc(datetime.fromisoformat(str(self.answers.get(WORKER_AT))))
        except ValueError:
            return None
        if not isinstance(referral_id, int) or (idle and self.now - texted > WORKER_WAIT):
            return None
        worker_id = self.answers.get(WORKER_ID)
        reply_received(
            self.session,
            referral_id=referral_id,
            worker_id=worker_id if isinstance(worker_id, int) else None,
            now=self.now,
        )
        if self.answers.get(WORKER_TOLD) and not idle:
            return ""  # they know already: the worker answers
        self.answers[WORKER_TOLD] = True
        return self.say(msg.passed_to_worker)

    def _safety(self) -> str | None:
        if self.message.is_reply_to_a_menu:
            return None
        result = self.match()
        if result.status != "safety":
            return None
        build = msg.crisis_support if result.safety == "crisis-support" else msg.emergency
        reply = self.say(build)
        self.refer(reason="safety", reply=reply, urgent=True)
        return reply

    # -- what the message carries, read once per message ---------------------------------

    def _new_barriers(self) -> list[str]:
        return [b for b in self.message.barriers if b not in self.answers.get("barriers", [])]

    @cached_property
    def _practice_named(self) -> PracticeName | None:
        """The one listed practice the message names ("I want to join Riccarton Family
        Health", misspelt or not), or None."""
        if self.message.is_reply_to_a_menu:
            return None
        rows = self.session.connection().execute(_LISTED_NAMES, {"since": fresh_since(self.now)})
        return named_practice(self.body, [PracticeName(pid, name) for pid, name in rows])

    def _carries_something(self) -> bool:
        """A practice, a place, a request for a call or a barrier, anywhere in the message."""
        if self.message.is_reply_to_a_menu:
            return False
        message = self.message
        return bool(
            self._practice_named or message.place or message.wants_callback or message.barriers
        )

    def _carried(self) -> str | None:
        """What the message carries, at any step: a practice it names is offered (to ask it to
        enrol them); a place gives the practices near it; a request for a call makes a
        call-back referral; barriers go onto a referral."""
        if self.message.is_reply_to_a_menu:
            return None
        found = self._new_barriers()
        practice = self._practice_named
        if practice is not None:
            self._remember_barriers(found)  # they go to the practice, with consent
            return self._choose(practice)
        callback = self.message.wants_callback
        place = self.message.place
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
        pending = self._pending()
        if pending is None:
            return self.say(msg.knowledge_answer, body, net)
        full, short = pending
        whole = " ".join(filter(None, (body, net, full)))
        if fits(whole, MAX_SEGMENTS):
            return whole
        return self.say(msg.knowledge_answer, body, " ".join(filter(None, (net, short))))

    def _pending(self) -> tuple[str, str] | None:
        """The question the current step waits on, in full and in short."""
        step = self.contact.step
        if step in _ASKING:
            practice = self._asked_practice()
            name = practice.name if practice else ""
            if step == Step.ask_name:
                return self.say(msg.ask_name, name), self.say(msg.resume_name)
            return self.say(msg.ask_consent, name), self.say(msg.resume_consent)
        found = _PENDING.get(step)
        return (self.say(found[0]), self.say(found[1])) if found else None

    def _knowledge_text(self, result: MatchResult) -> str:
        if result.status not in ("answer", "choose"):
            return ""
        entry_id = result.entry_id or (result.candidates[0].entry_id if result.candidates else None)
        if not entry_id:
            return ""
        entry = get_knowledge_base().get(entry_id)
        lang = self.contact.language
        if entry is None or not entry.for_audience("patient") or lang not in entry.variants:
            return ""
        record_usage(self.session, entry_id=entry_id, kind="answered", at=self.now)
        return entry.variant(lang).body_text

    # -- step handlers: a reply, or None to treat the message as a question ----------------

    def on_menu(self) -> str | None:
        choice = self.message.number
        if choice is None:
            if is_greeting(self.body):
                return self.say(msg.welcome)
            if self.message.answer is not None:  # "ok", "thanks"-like answers: not a question
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
        said = self.message.answer
        if said is Answer.yes:
            self._mark(Stage.eligible)
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
        if self.match().status in ("answer", "safety") or self.message.barriers:
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
            text, shown = msg.practices(found, first_number=first + 1, now=self.now)
        self.answers["shown"] = first + shown
        return text

    def on_practices(self) -> str | None:
        """A practice's number asks it to enrol the person; 8 shows more practices, 9 what to
        bring; the main menu's other numbers work here too (4 costs, 5 call me back)."""
        ids = [int(i) for i in self.answers.get("practices", [])]
        shown = min(int(self.answers.get("shown", len(ids))), len(ids))
        choice = self.message.number
        if choice is not None:
            if 1 <= choice <= shown:
                practice = self._listed(ids[choice - 1])
                return self._choose(practice) if practice else self.say(msg.practice_unavailable)
            if choice == msg.MORE_PRACTICES or shown < choice <= len(ids):
                rest = [self.session.get(Practice, i) for i in ids[shown:]]
                more = [NearbyPractice(p, 0.0) for p in rest if p is not None]
                if more:
                    return self._show_practices(more, first=shown)
                return self.say(msg.practices_all_shown)
            if choice == msg.WHAT_TO_BRING:
                self.goto(Step.bring)
                return self.say(msg.what_to_bring)
            return self.on_menu()
        said = self.message.answer
        if said is Answer.yes:  # "ok", "yes please": which practice?
            return self.say(msg.practices_footer)
        return self._declined(said)

    def on_bring(self) -> str | None:
        said = self.message.answer
        if said is Answer.yes:
            self.answers["callback_reason"] = "callback"
            self.goto(Step.offer_callback)
            return self.say(msg.costs)
        choice = self.message.number
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
        said = self.message.answer
        if said is Answer.yes:
            return self._book_callback(str(self.answers.get("callback_reason", "callback")))
        if said is Answer.no:
            self.goto(Step.menu)
            return self.say(msg.callback_declined)
        if said is Answer.unsure:
            return self.say(msg.yes_or_no)
        return None

    # -- asking a practice to enrol the person -------------------------------------------

    def _listed(self, practice_id: int) -> Practice | None:
        """The practice, while it is listed (active, taking new patients, confirmed lately)."""
        practice = self.session.get(Practice, practice_id)
        if practice is None or not practice.active or not practice.accepting_new_patients:
            return None
        return practice if is_current(practice, self.now) else None

    def _asked_practice(self) -> PracticeName | None:
        """The practice the person is asking (read once a turn)."""
        asking = self.answers.get("asking") or {}
        practice_id = asking.get("practice")
        if not practice_id:
            return None
        key = int(practice_id)
        if key not in self._asked:
            row = self.session.connection().execute(_PRACTICE_NAME, {"id": key}).first()
            self._asked[key] = PracticeName(*row) if row is not None else None
        return self._asked[key]

    def _choose(self, practice: PracticeName | Practice) -> str:
        assert practice.id is not None
        self._mark(Stage.practice_chosen, practice_id=practice.id)
        self.answers["asking"] = {"practice": practice.id}
        self.goto(Step.ask_name)
        return self.say(msg.ask_name, practice.name)

    def _side_question_or(self, again: str) -> str:
        """A question at a step that waits for a name or an answer: answered, then the step's
        question again; anything else gets ``again``. Barriers said are kept for the
        request (shared only with consent)."""
        self._remember_barriers(self._new_barriers())
        result = self.match()
        body = self._knowledge_text(result)
        if not body:
            return again
        net = self.say(msg.safety_net) if result.status != "answer" else ""
        return self._answer_then_resume(body, net)

    def on_ask_name(self) -> str:
        practice = self._asked_practice()
        if practice is None:
            self.goto(Step.menu)
            return self.say(msg.practice_unavailable)
        name = name_given(self.body)
        if name is not None and len(name.split()) > 2 and self.match().status == "answer":
            name = None  # "Getting an interpreter": a question the knowledge base answers
        if name is not None:
            self.answers["asking"]["name"] = name
            self.goto(Step.ask_consent)
            return self.say(msg.ask_consent, practice.name)
        if self.message.wants_callback:
            return self._book_callback("callback", found=self._new_barriers())
        return self._side_question_or(self.say(msg.ask_name_again))

    def on_ask_consent(self) -> str:
        practice = self._asked_practice()
        if practice is None:
            self.goto(Step.menu)
            return self.say(msg.practice_unavailable)
        said = self.message.answer
        if said is Answer.yes:
            return self._send_request(practice)
        if said is Answer.no:
            self.goto(Step.menu)
            return self.say(msg.consent_declined, practice.name, practice.phone)
        explain = self.say(msg.consent_explain, practice.name)
        if said is Answer.unsure or self.message.number is not None:
            return explain
        if self.message.wants_callback:
            return self._book_callback("callback", found=self._new_barriers())
        return self._side_question_or(explain)

    def _send_request(self, practice: PracticeName) -> str:
        """Consent given: the request goes to the practice (and the community workers see it),
        in this transaction."""
        self.goto(Step.menu)
        listed = self._listed(practice.id)
        if listed is None:
            return self.say(msg.practice_unavailable)
        found = sorted(set(self.answers.get("barriers", [])))
        language = self.contact.language
        try:
            create_request(
                self.session,
                practice_id=practice.id,
                name=str(self.answers["asking"].get("name", "")),
                phone=self.contact.phone,
                language=language,
                consent=True,
                now=self.now,
                barriers=found,
                interpreter=language != "en" or "language" in found,
                source=RequestSource.sms,
                contact_id=self.contact.id,
            )
        except Invalid:
            return self.say(msg.practice_unavailable)
        return notices.request_sent(language, listed)

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
    Step.ask_name: Turn.on_ask_name,
    Step.ask_consent: Turn.on_ask_consent,
    Step.offer_callback: Turn.on_offer_callback,
}


def named_practice(text: str, practices: Sequence[PracticeName]) -> PracticeName | None:
    """The one practice whose whole name a message has, as a run of its words (a letter or
    two misspelt): "I want to join Riccarton Family Health", "riccarton famly health". A
    suburb alone names none ("Riccarton"), nor a message that names two practices (unless one
    name holds the other: "Riccarton Family Health Annex")."""
    tokens = fold(text).split()
    scored: list[tuple[float, str, PracticeName]] = []
    for practice in practices:
        name = fold(practice.name)
        size = len(name.split())
        widths = [w for w in (size - 1, size) if 1 <= w <= len(tokens)]
        if not name or not widths:
            continue
        if size == 1:  # one word: exactly, and not a place's name ("Hornby")
            exact = name in tokens and len(name) >= 5 and find_place(name) is None
            score = 100.0 if exact else 0.0
        else:
            score = max(
                fuzz.ratio(" ".join(tokens[i : i + width]), name)
                for width in widths
                for i in range(len(tokens) - width + 1)
            )
        if score >= PRACTICE_NAME_SCORE:
            scored.append((score, name, practice))
    scored.sort(key=lambda found: (found[0], len(found[1])), reverse=True)
    if not scored or any(other not in scored[0][1] for _s, other, _p in scored[1:]):
        return None
    return scored[0][2]
