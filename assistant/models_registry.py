"""Every table model, imported by name, so SQLModel.metadata is complete (Alembic, tests).

A new table module goes in this list; the migration test fails (the database has a table the
metadata lacks, or the other way round) until it does.
"""

from __future__ import annotations

from types import ModuleType

from assistant import audit
from assistant.contacts import models as contacts_models
from assistant.credentials import models as credentials_models
from assistant.enrolment import models as enrolment_models
from assistant.forms import models as forms_models
from assistant.knowledge import models as knowledge_models
from assistant.notify import models as notify_models
from assistant.outbox import models as outbox_models
from assistant.pcw import models as pcw_models
from assistant.people import models as people_models
from assistant.security import sessions, throttle
from assistant.sms import models as sms_models
from assistant.support import models as support_models

MODEL_MODULES: tuple[ModuleType, ...] = (
    audit,
    sessions,
    throttle,
    people_models,
    knowledge_models,
    support_models,
    contacts_models,
    sms_models,
    outbox_models,
    pcw_models,
    forms_models,
    notify_models,
    credentials_models,
    enrolment_models,
)


def import_all() -> tuple[ModuleType, ...]:
    """The modules holding table models (imported above: this only names them)."""
    return MODEL_MODULES
