"""Enrolment requests: from a person who wants a GP to a practice that takes them on.

A request is made with the person's consent (by SMS, or by a community worker on their behalf),
answered by the practice in its "New patients" queue (booked, more information needed, cannot
take them on, enrolled), told to the person by SMS through the outbox, and handed to the
community worker team when the practice leaves it unanswered for two business days. The funnel
(texted, eligible, practice chosen, request sent, accepted, enrolled) counts each person once per
stage.
"""
