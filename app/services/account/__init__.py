"""Accounts: users, their sessions and login throttling, API and site keys, demo data."""
