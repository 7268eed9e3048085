"""Practices, teams, agencies, users and liaison portfolios."""
