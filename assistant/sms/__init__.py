"""Patients by SMS: the Twilio webhook, the conversation and the enrolment guide."""
