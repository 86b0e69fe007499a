"""``python -m asyncflow.cli``: the same as the ``asyncflow`` console script."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
