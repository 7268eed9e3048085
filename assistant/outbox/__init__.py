"""The outbox: SMS we start (PCW replies, follow-ups, reminders), sent by a worker."""
