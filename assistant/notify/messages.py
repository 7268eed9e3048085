"""What each email says, written when it is sent, in the recipient's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.i18n import _, use_locale
from assistant.notify.models import OPTIONAL_KINDS, EmailKind

SETTINGS_PATH = "/account/notifications"


@dataclass(frozen=True)
class Composed:
    subject: str
    body: str


def _url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _lines(kind: EmailKind, params: dict[str, Any], base_url: str) -> tuple[str, list[str]]:
    practice = str(params.get("practice", ""))
    url = _url(base_url, str(params.get("path", "/")))
    if kind == EmailKind.ticket_new:
        return _("New question from %(practice)s", practice=practice), [
            _("A new question from %(practice)s is waiting in your queue.", practice=practice),
            _("Open it in the inbox: %(url)s", url=url),
        ]
    if kind == EmailKind.ticket_overdue:
        return _("Overdue question from %(practice)s", practice=practice), [
            _(
                "A question from %(practice)s was not answered in time and is now in your "
                "team's queue.",
                practice=practice,
            ),
            _("Open it in the inbox: %(url)s", url=url),
        ]
    if kind == EmailKind.ticket_reply:
        return _("The PHO has replied to your question"), [
            _("The PHO has replied to your question. Sign in to read the reply: %(url)s", url=url),
        ]
    if kind == EmailKind.enrolment_new:
        return _("New patient request for %(practice)s", practice=practice), [
            _(
                "Someone has asked %(practice)s to take them on as a new patient. Please answer "
                "within 2 working days, or the request goes to the community workers.",
                practice=practice,
            ),
            _("Open your practice's new patients: %(url)s", url=url),
        ]
    minutes = int(params.get("minutes", 30))
    return _("Choose a new password"), [
        _(
            "We were asked to reset the password of your PHO assistant account. To choose a new "
            "password, open this link within %(minutes)d minutes. The link works once.",
            minutes=minutes,
        ),
        url,
        _("If you did not ask for this, ignore this email: your password stays as it is."),
    ]


def compose(
    kind: EmailKind, params: dict[str, Any], *, name: str, base_url: str, lang: str
) -> Composed:
    with use_locale(lang):
        subject, lines = _lines(kind, params, base_url)
        paragraphs = [_("Kia ora, %(name)s", name=name), *lines]
        if kind in OPTIONAL_KINDS:
            paragraphs.append(
                _(
                    "You can choose which emails you get: %(url)s",
                    url=_url(base_url, SETTINGS_PATH),
                )
            )
        paragraphs.append(_("PHO assistant"))
    return Composed(subject=subject, body="\n\n".join(paragraphs) + "\n")
