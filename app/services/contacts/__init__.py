"""Contacts: people, their fields and consent, lists, segments, events, imports and GDPR."""
