"""Insights: live counters, statistics pages, who is at a block, the home overview."""
