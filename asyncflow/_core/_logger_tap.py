"""A tap on a logger: one handler that sees its records, also below the level it shows.

Python makes no record at a level its logger is not enabled for: with the default
configuration (the root logger at WARNING) ``logging.getLogger("myapp").info(...)`` makes
nothing a handler could see. Log capture wants those INFO lines all the same, without
changing what the user's handlers show. :func:`tap` installs a :class:`Tap` on a logger:

- when the logger already makes records at the wanted level, the tap is one more handler;
- else the tap *gates* the logger: it lowers the logger's level to just below the wanted
  one (so the logger and the descendants that inherit its level make the records; a level
  set by the user meanwhile is then told from the gate's, and wins), takes the logger's
  handlers and its propagation to its parent, and passes on only the records the logger
  would have made without it, to the same handlers in the same order, as logging would
  (handler levels, ``propagate`` flags, the last-resort handler when there is none); the
  descendants that have handlers of their own get the same filter in front of those.

:func:`untap` puts the logger's level, handlers and propagation back. Records below the
shown level cost their making and a call, and only while the tap is on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

#: The gated loggers and their taps (to tell a record's shown level, see :func:`shows`).
_gated: dict[logging.Logger, Tap] = {}


class Tap(logging.Handler):
    """Hands each record of its logger (and descendants) to ``see``; see the module."""

    def __init__(self, logger: logging.Logger, see: Callable[[logging.LogRecord], None]) -> None:
        super().__init__()
        self.logger = logger
        self.see = see
        self.gated = False
        self.level_before = logging.NOTSET
        self.lowered_to = logging.NOTSET
        self.propagate_before = True
        self.handlers_before: list[logging.Handler] = []
        self.filtered: list[_HandlerGate] = []

    def handle(self, record: logging.LogRecord) -> bool:
        try:
            self.see(record)
        except Exception:  # a handler never raises into the code that logs
            self.handleError(record)
        if self.gated:
            origin = _origin(record, self.logger)
            if record.levelno >= _shown_level(origin):
                self._pass_on(record, origin)
        return True

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - handle() is used
        self.see(record)

    def _pass_on(self, record: logging.LogRecord, origin: logging.Logger) -> None:
        """Call the handlers the record would have reached without the gate."""
        found = 0
        for handler in self.handlers_before:
            found += 1
            if record.levelno >= handler.level:
                handler.handle(record)
        # Unless the user has set propagation back on meanwhile: logging does it then.
        logger = self.logger
        parent = logger.parent if self.propagate_before and not logger.propagate else None
        while parent is not None:
            for handler in parent.handlers:
                found += 1
                if record.levelno >= handler.level:
                    handler.handle(record)
            parent = parent.parent if parent.propagate else None
        last = logging.lastResort
        if not found and last is not None and record.levelno >= last.level \
                and not _handled_below(origin, logger):
            last.handle(record)


def _handled_below(origin: logging.Logger, gated: logging.Logger) -> bool:
    """Whether a logger from ``origin`` up to ``gated`` (excluded) had a handler for the
    record: then logging would not have used its last resort."""
    node: logging.Logger | None = origin
    while node is not None and node is not gated:
        if node.handlers:
            return True
        node = node.parent if node.propagate else None
    return False


class _HandlerGate(logging.Handler):
    """Stands in for the handlers of a descendant of a gated logger: passes them only the
    records the descendant would have made without the gate."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self.logger = logger
        self.handlers_before = list(logger.handlers)
        logger.handlers = [self]

    def handle(self, record: logging.LogRecord) -> bool:
        if record.levelno >= _shown_level(_origin(record, self.logger)):
            for handler in self.handlers_before:
                if record.levelno >= handler.level:
                    handler.handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - handle() is used
        self.handle(record)

    def remove(self) -> None:
        added = [h for h in self.logger.handlers if h is not self]
        self.logger.handlers = [*self.handlers_before, *added]


def _origin(record: logging.LogRecord, default: logging.Logger) -> logging.Logger:
    found = logging.Logger.manager.loggerDict.get(record.name)
    return found if isinstance(found, logging.Logger) else default


def _shown_level(logger: logging.Logger) -> int:
    """``logger``'s effective level as it would be without gates (a gated logger counts
    with the level it had before, unless the user has set another since)."""
    gated = _gated
    node: logging.Logger | None = logger
    while node is not None:
        level = node.level
        if gated:
            found = gated.get(node)
            if found is not None and level == found.lowered_to:
                level = found.level_before
        if level:
            return level
        node = node.parent
    return logging.NOTSET


def shows(logger: logging.Logger, level: int) -> bool:
    """Whether ``logger`` would make a record at ``level`` without gates."""
    if not logger.isEnabledFor(level):
        return False
    return not _gated or level >= _shown_level(logger)


def tap(logger: logging.Logger, see: Callable[[logging.LogRecord], None], level: int) -> Tap:
    """Have ``see`` called with every record ``logger`` and its descendants make, at
    ``level`` and above too (see the module), until :func:`untap`."""
    installed = Tap(logger, see)
    if logger.getEffectiveLevel() <= level or logger.manager.disable >= level:
        logger.addHandler(installed)
        return installed
    installed.gated = True
    installed.level_before = logger.level
    # One below: a level the user sets meanwhile (``level`` itself too) is told apart.
    installed.lowered_to = level - 1
    installed.propagate_before = logger.propagate
    installed.handlers_before = list(logger.handlers)
    prefix = logger.name + "."
    below = [(d, d.getEffectiveLevel()) for name, d in list(logger.manager.loggerDict.items())
             if name.startswith(prefix) and isinstance(d, logging.Logger) and d.handlers]
    _gated[logger] = installed
    logger.handlers = [installed]
    logger.propagate = False
    logger.setLevel(installed.lowered_to)
    # Descendants with handlers of their own that now make records they did not make:
    # their handlers too get only what they got before.
    installed.filtered = [_HandlerGate(d) for d, was in below
                          if was > level and d.getEffectiveLevel() <= level]
    return installed


def untap(installed: Tap) -> None:
    """Remove a tap; a gated logger gets its level, handlers and propagation back."""
    logger = installed.logger
    if not installed.gated:
        logger.removeHandler(installed)
        return
    _gated.pop(logger, None)
    for gate in installed.filtered:
        gate.remove()
    added = [h for h in logger.handlers if h is not installed]  # by the user meanwhile
    logger.handlers = [*installed.handlers_before, *added]
    logger.propagate = installed.propagate_before
    if logger.level == installed.lowered_to:
        logger.setLevel(installed.level_before)
