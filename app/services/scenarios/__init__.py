"""Scenarios: drafts and versions, bundles, enrollments, statistics from the step log."""
