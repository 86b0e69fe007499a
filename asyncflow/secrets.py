"""Secrets for tasks and notifiers: ``Secret("NAME").get()``.

Looked up in the run's context secrets (``flow.run(context={"secrets": {...}})``), then
the environment variable ``ASYNCFLOW__CONTEXT__SECRETS__NAME``, then ``[context.secrets]``
in the configuration file. :class:`SecretStr` keeps a secret text out of reprs and logs.
"""

from __future__ import annotations

from ._core._exceptions import SecretNotFoundError as SecretNotFoundError
from ._secrets import Secret as Secret, SecretStr as SecretStr

__all__ = ["Secret", "SecretNotFoundError", "SecretStr"]
