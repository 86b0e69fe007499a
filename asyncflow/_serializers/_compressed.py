"""CompressedSerializer: another serializer's bytes, compressed."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from ._base import Serializer

_FORMATS: dict[str, tuple[Callable[..., bytes], Callable[..., bytes]]] = {
    "bz2": (bz2.compress, bz2.decompress),
    "gzip": (gzip.compress, gzip.decompress),
    "lzma": (lzma.compress, lzma.decompress),
    "zlib": (zlib.compress, zlib.decompress),
}

#: The names accepted by ``CompressedSerializer(format=...)``.
COMPRESSION_FORMATS = tuple(sorted(_FORMATS))


class CompressedSerializer(Serializer):
    """Compresses the bytes of ``serializer``: ``compress(serializer.serialize(value))``.

    Name a standard library format (``format="gzip"``, ``"bz2"``, ``"lzma"`` or
    ``"zlib"``), or give your own ``compress=`` and ``decompress=`` functions
    (``bytes -> bytes``), not both. ``compress_kwargs``/``decompress_kwargs`` are passed to
    the functions, e.g. ``compress_kwargs={"compresslevel": 1}`` for faster gzip.
    """

    def __init__(
        self,
        serializer: Serializer,
        format: str | None = None,  # noqa: A002 - the documented keyword
        *,
        compress: Callable[..., bytes] | None = None,
        decompress: Callable[..., bytes] | None = None,
        compress_kwargs: Mapping[str, Any] | None = None,
        decompress_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(serializer, Serializer):
            raise TypeError(
                f"CompressedSerializer wraps a Serializer, got {serializer!r}; write for "
                "example CompressedSerializer(PickleSerializer(), format='gzip')"
            )
        if format is not None:
            if compress is not None or decompress is not None:
                raise ValueError(
                    "CompressedSerializer takes either format= or compress= and decompress=, "
                    "not both; drop format= to use your own functions"
                )
            try:
                compress, decompress = _FORMATS[format]
            except (KeyError, TypeError):
                raise ValueError(
                    f"CompressedSerializer does not know the format {format!r}; known formats: "
                    f"{', '.join(COMPRESSION_FORMATS)} (or pass compress= and decompress=)"
                ) from None
        elif compress is None or decompress is None:
            raise ValueError(
                "CompressedSerializer needs format= (one of "
                f"{', '.join(COMPRESSION_FORMATS)}) or both compress= and decompress="
            )
        self.serializer = serializer
        self.format = format
        self.compress = compress
        self.decompress = decompress
        self.compress_kwargs = dict(compress_kwargs or {})
        self.decompress_kwargs = dict(decompress_kwargs or {})

    def serialize(self, value: Any) -> bytes:
        return self.compress(self.serializer.serialize(value), **self.compress_kwargs)

    def deserialize(self, value: bytes) -> Any:
        return self.serializer.deserialize(self.decompress(value, **self.decompress_kwargs))

    def __repr__(self) -> str:
        if self.format is not None:
            how = f"format={self.format!r}"
        else:
            how = f"compress={self.compress!r}, decompress={self.decompress!r}"
        return f"CompressedSerializer({self.serializer!r}, {how})"
