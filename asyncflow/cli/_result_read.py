"""``asyncflow result read``: show a stored result, e.g. a checkpoint of a production run."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from .._core._exceptions import LocationError, MissingExtraError, ResultError
from ._errors import EXIT_FAILED, EXIT_OK, CLIError

#: ``--result`` choices.
RESULT_KINDS = ("local", "json", "s3", "gcs")
#: ``--serializer`` choices.
SERIALIZERS = ("pickle", "json", "datetime")
COMPRESSIONS = ("gzip", "lzma", "bz2", "zlib")


def result_read_command(args: argparse.Namespace) -> int:
    cwd = os.getcwd()
    if cwd not in sys.path:  # pickled values may name classes of modules found from here
        sys.path.insert(0, cwd)
    result = make_result(args)
    try:
        value = asyncio.run(_read(result, args.location))
    except LocationError as exc:
        raise CLIError(str(exc)) from exc
    except (ResultError, MissingExtraError) as exc:
        raise CLIError(str(exc), exit_code=EXIT_FAILED) from exc
    show(value)
    return EXIT_OK


async def _read(result: Any, location: str) -> Any:
    async with result:
        return (await result.read(location)).value


def make_serializer(args: argparse.Namespace) -> Any:
    from .. import serializers

    inner: Any
    if args.serializer == "json":
        inner = serializers.JSONSerializer()
    elif args.serializer == "datetime":
        inner = serializers.DateTimeSerializer()
    else:
        inner = serializers.PickleSerializer()
    if args.compression:
        inner = serializers.CompressedSerializer(inner, format=args.compression)
    if args.signing_key_env:
        key = os.environ.get(args.signing_key_env)
        if not key:
            raise CLIError(
                f"--signing-key-env names {args.signing_key_env!r}, which is not set; "
                "export the signing key in that environment variable"
            )
        try:
            inner = serializers.SignedSerializer(inner, key=key)
        except ValueError as exc:  # a key too short to be a secret; the message hides it
            raise CLIError(f"--signing-key-env {args.signing_key_env}: {exc}") from exc
    return inner


def make_result(args: argparse.Namespace) -> Any:
    """The Result to read with, from ``--result``, ``--dir``, ``--bucket``, ``--serializer``."""
    from .. import results

    kind = args.result
    if kind in ("s3", "gcs") and not args.bucket:
        raise CLIError(f"--result {kind} needs --bucket NAME")
    if args.bucket and kind not in ("s3", "gcs"):
        raise CLIError(f"--bucket is for --result s3 or gcs, not {kind}")
    if args.dir and kind != "local":
        raise CLIError(f"--dir is for --result local, not {kind}")
    if args.endpoint_url and kind not in ("s3", "gcs"):
        raise CLIError(f"--endpoint-url is for --result s3 or gcs, not {kind}")
    serializer = make_serializer(args)
    try:
        if kind == "json":
            if args.serializer not in ("json", "datetime") or args.compression:
                raise CLIError("--result json stores JSON text; use --serializer json or datetime")
            return results.JSONResult(serializer=serializer)
        if kind == "local":
            return results.LocalResult(dir=args.dir, validate_dir=False, serializer=serializer)
        class_name = "S3Result" if kind == "s3" else "GCSResult"
        cls = getattr(results, class_name, None)
        if cls is None:
            raise CLIError(f"{class_name} is not available in this version of asyncflow",
                           exit_code=EXIT_FAILED)
        if kind == "s3":
            options = {"endpoint_url": args.endpoint_url} if args.endpoint_url else None
            return cls(args.bucket, serializer=serializer, client_options=options)
        return cls(args.bucket, serializer=serializer, api_root=args.endpoint_url)
    except (MissingExtraError, ResultError) as exc:
        raise CLIError(str(exc), exit_code=EXIT_FAILED) from exc
    except ValueError as exc:
        raise CLIError(str(exc)) from exc


def show(value: Any) -> None:
    """Pretty-print ``value`` on stdout (with rich when it is installed)."""
    try:
        from rich.console import Console
        from rich.pretty import Pretty
    except ImportError:
        import pprint

        pprint.pprint(value, sort_dicts=False)
        return
    Console(file=sys.stdout).print(Pretty(value, expand_all=False))
