"""The people we text: their numbers, whether they opted out, and what fits in a text.

Below the SMS conversation, the outbox, the PCW inbox and enrolment requests, which all need
to know whether a number may be texted.
"""
