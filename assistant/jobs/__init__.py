"""Durable queues' shared parts: back-off between attempts, and claiming due rows."""
