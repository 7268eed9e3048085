"""Email notifications: preferences, the email outbox, and the worker step that sends it."""
