"""Errors of the Dask executor.

::

    AsyncflowError
    └── DaskExecutorError             the executor could not reach or use the cluster
        └── RemoteTaskError           a task body failed on a worker in a way that cannot
                                      travel back as itself (an unpicklable exception)

A body's own exception normally comes back as itself, with the worker's traceback text
attached as its ``__cause__`` (a :class:`RemoteTraceback`), as :mod:`concurrent.futures`
does for process pools.
"""

from __future__ import annotations

from .._core._exceptions import AsyncflowError


class DaskExecutorError(AsyncflowError):
    """The Dask executor could not connect to, or send work to, the cluster."""


class RemoteTaskError(DaskExecutorError):
    """A task body raised an exception on a worker that could not be sent back.

    ``type_name`` is the exception's qualified class name, ``message`` its text and
    ``traceback_text`` the traceback as printed on the worker.
    """

    def __init__(self, message: str, *, type_name: str, remote_message: str,
                 traceback_text: str) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.message = remote_message
        self.traceback_text = traceback_text

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_remote_error,
                (str(self), self.type_name, self.message, self.traceback_text))


def _rebuild_remote_error(text: str, type_name: str, message: str,
                          traceback_text: str) -> RemoteTaskError:
    return RemoteTaskError(text, type_name=type_name, remote_message=message,
                           traceback_text=traceback_text)


class RemoteTraceback(Exception):  # noqa: N818 - it is a traceback, not an error
    """The traceback of an exception raised on a Dask worker, as text.

    Attached as ``__cause__`` of the exception re-raised in the driver, so a printed
    traceback shows where the body failed on the worker.
    """

    def __init__(self, traceback_text: str) -> None:
        super().__init__(traceback_text)
        self.traceback_text = traceback_text

    def __str__(self) -> str:
        return f"\n\"\"\"\n{self.traceback_text.rstrip()}\n\"\"\""
