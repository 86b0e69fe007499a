"""The command line's own error: a message for the user and the exit code to end with."""

from __future__ import annotations

# Exit codes of the ``asyncflow`` command.
#: The flow succeeded.
EXIT_OK = 0
#: The flow did not succeed: it failed, timed out or paused.
EXIT_FAILED = 1
#: Bad input: a missing file, an unknown flow or parameter, a malformed option.
EXIT_USAGE = 2
#: Interrupted by Ctrl-C (SIGTERM exits with 143).
EXIT_INTERRUPTED = 130


class CLIError(Exception):
    """Printed as one ``asyncflow: error: ...`` line (plus the traceback with ``--debug``)."""

    def __init__(self, message: str, *, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
