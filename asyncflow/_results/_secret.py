"""SecretResult: a Result whose value is a secret, looked up each time it is read."""

from __future__ import annotations

import inspect
from typing import Any, Protocol, runtime_checkable

import anyio.to_thread
from typing_extensions import Self

from .._core._exceptions import ResultWriteError, SecretNotFoundError
from ._base import Result


@runtime_checkable
class SecretSource(Protocol):
    """Anything with a ``get()`` returning the secret's value (sync or async)."""

    def get(self) -> Any: ...


class SecretResult(Result):
    """Reads a secret: ``secret`` is a secret's name or an object with ``get()``.

    A name is looked up in the run context's ``secrets``, then in the ``context.secrets``
    configuration (``ASYNCFLOW__CONTEXT__SECRETS__<NAME>``). ``read`` fetches the current
    value; ``write`` raises, because secret values are never stored by asyncflow. The
    value never appears in the repr.
    """

    __slots__ = ("secret",)

    secret: str | SecretSource

    def __init__(self, secret: str | SecretSource, *, value: Any = None) -> None:
        if not isinstance(secret, str) and not isinstance(secret, SecretSource):
            raise TypeError(
                "SecretResult takes a secret's name or an object with a get() method, got "
                f"{type(secret).__name__}"
            )
        name = secret if isinstance(secret, str) else getattr(secret, "name", None)
        super().__init__(value, name if isinstance(name, str) else None)
        self.secret = secret

    async def read(self, location: str | None = None) -> Self:
        """A new SecretResult holding the secret's current value (``location`` is ignored)."""
        new = self.copy()
        new.value = await _get_secret(self.secret)
        return new

    async def write(self, value: Any, **kwargs: Any) -> Self:
        raise ResultWriteError(
            "SecretResult never stores secret values; set the secret in the configuration "
            "(ASYNCFLOW__CONTEXT__SECRETS__<NAME>) or in your secret store instead"
        )

    async def exists(self, location: str | None = None, **kwargs: Any) -> bool:
        """Whether the secret can be found (always True for a secret object)."""
        if not isinstance(self.secret, str):
            return True
        try:
            lookup_local_secret(self.secret)
        except SecretNotFoundError:
            return False
        return True

    def __repr__(self) -> str:
        name = self.secret if isinstance(self.secret, str) else type(self.secret).__name__
        return f"<SecretResult: secret {name!r}>"


async def _get_secret(secret: str | SecretSource) -> Any:
    if isinstance(secret, str):
        return lookup_local_secret(secret)
    getter = secret.get
    if inspect.iscoroutinefunction(getter):
        return await getter()
    value = await anyio.to_thread.run_sync(getter)
    if inspect.isawaitable(value):
        value = await value
    return value


def lookup_local_secret(name: str) -> Any:
    """The secret's value, as :class:`asyncflow.secrets.Secret` finds it."""
    from .._secrets import Secret

    return Secret(name).get()
