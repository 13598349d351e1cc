"""Vendored front-end files are exactly the pinned ones listed in VENDOR.md."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).parents[2] / "app" / "static" / "vendor"
ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|.*\| `(?P<sha>[0-9a-f]{64})` \|$", re.M)


def test_every_vendored_file_matches_its_pinned_sha256() -> None:
    rows = ROW.findall((VENDOR / "VENDOR.md").read_text())

    assert rows, "VENDOR.md lists the vendored files"
    for name, sha in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha, name


def test_every_script_and_stylesheet_in_the_vendor_folder_is_listed() -> None:
    listed = {name for name, _ in ROW.findall((VENDOR / "VENDOR.md").read_text())}

    assert {p.name for p in [*VENDOR.glob("*.js"), *VENDOR.glob("*.css")]} == listed
