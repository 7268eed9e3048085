"""The audit trail: events in the caller's transaction, one at a time or several together."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from assistant import audit


def test_events_recorded_together_are_all_stored_in_order(session: Session) -> None:
    with audit.batched(session):
        audit.record(session, actor_id=1, action="created", entity="thing", entity_id=7, n=1)
        with audit.batched(session):  # work that batches its own events, inside
            audit.record(session, actor_id=1, action="changed", entity="thing", entity_id=7)
        assert audit.events_for(session, "thing", 7) == []  # not yet: written at the end
    session.commit()
    events = audit.events_for(session, "thing", 7)
    assert [(e.action, e.detail) for e in events] == [("created", '{"n": 1}'), ("changed", "")]


def test_events_recorded_together_are_not_stored_when_the_work_fails(session: Session) -> None:
    with pytest.raises(RuntimeError), audit.batched(session):
        audit.record(session, actor_id=1, action="created", entity="thing", entity_id=8)
        raise RuntimeError("the submission could not be stored")
    session.commit()
    assert audit.events_for(session, "thing", 8) == []
    audit.record(session, actor_id=1, action="created", entity="thing", entity_id=8)
    session.commit()  # outside a batch, written at once as before
    assert len(audit.events_for(session, "thing", 8)) == 1
