"""The README's links into the docs site lead to pages that exist.

The site's own links are checked by ``mkdocs build --strict``; the README is not part of
the site, so its relative links are checked here.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_LINK = re.compile(r"\]\((?!https?://|#)(?P<target>[^)#\s]+)(?:#[^)]*)?\)")


def test_every_relative_link_of_the_readme_exists() -> None:
    targets = _LINK.findall((REPO / "README.md").read_text(encoding="utf-8"))
    assert targets, "the README links into the docs"
    missing = [t for t in targets if not (REPO / t).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"
