"""Passwords beyond signing in: reset links by email and resets an admin asks for."""
