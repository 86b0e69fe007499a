"""JSONResult: the JSON text of the value is its location (placeholder until results land)."""

from __future__ import annotations

import json
from typing import Any

from ._base import Result


class JSONResult(Result):
    persists = True

    async def write(self, value: Any, **kwargs: Any) -> Result:
        new = self.copy()
        new.value = value
        new.location = json.dumps(value)
        return new
