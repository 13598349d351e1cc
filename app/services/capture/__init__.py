"""Capture: contacts and events that websites send (the public site key)."""
