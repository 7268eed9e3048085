"""Capturing answers: filling pages, drafts, submissions, and the follow-up work a
submission creates."""
