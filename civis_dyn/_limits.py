"""Size limits: how large a decoded schema or response body may be.

A small compressed body can decode to a huge one (205 kB of gzip becomes
210 MB of JSON), so sizes are counted after decoding, while reading, and the
read stops as soon as a limit is passed:

``max_schema_bytes`` (default 64 MiB; the real schema is about 2.5 MB)
    A schema downloaded from ``/endpoints``, read from a ``local_api_spec``
    file (``.gz`` included) or from the disk cache. Env
    ``CIVIS_DYN_MAX_SCHEMA_BYTES``, or ``APIClient(max_schema_bytes=...)``.
``max_response_bytes`` (default 256 MiB)
    Any other API response body. Env ``CIVIS_DYN_MAX_RESPONSE_BYTES``, or
    ``APIClient(max_response_bytes=...)``.

A value is a positive number of bytes (``64000000``, or with a suffix: ``64M``,
``1G``, ``512k``; powers of 1024).
"""

import os
import re

from ._errors import ArgumentTypeError, ArgumentValueError

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_SCHEMA_BYTES",
    "BodyTooLarge",
    "max_response_bytes",
    "max_schema_bytes",
    "read_capped",
]

DEFAULT_MAX_SCHEMA_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
SCHEMA_ENV = "CIVIS_DYN_MAX_SCHEMA_BYTES"
RESPONSE_ENV = "CIVIS_DYN_MAX_RESPONSE_BYTES"
_SIZE = re.compile(r"([0-9]+)\s*([kmg]?)i?b?", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


class BodyTooLarge(ValueError):
    """A body passed its size limit while being read.

    Attributes
    ----------
    limit : int
        The limit, in bytes.
    setting : str
        What changes it (the environment variable and argument).
    """

    def __init__(self, what, limit, setting):
        self.limit = limit
        self.setting = setting
        super().__init__(f"{what} is larger than {limit} bytes (the limit; raise it with "
                         f"{setting})")


def _resolve(value, argument, env, default):
    where = argument
    if value is None:
        text = os.environ.get(env, "").strip()
        if not text:
            return default
        where = env
        match = _SIZE.fullmatch(text)
        if match is None:
            raise ArgumentValueError(f"{env} must be a positive number of bytes (e.g. 67108864 or 64M), "
                             f"not {text!r}")
        value = int(match.group(1)) * _UNITS[match.group(2).lower()]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArgumentTypeError(f"{argument} must be an int (bytes), not {type(value).__name__}")
    if value <= 0:
        raise ArgumentValueError(f"{where} must be a positive number of bytes, not {value!r}")
    return value


def max_schema_bytes(value=None):
    """The schema size limit: ``value``, else env ``CIVIS_DYN_MAX_SCHEMA_BYTES``, else 64 MiB.

    Raises
    ------
    TypeError, ValueError
        For a value (or environment variable) that is not a positive size,
        naming ``max_schema_bytes`` or the variable.
    """
    return _resolve(value, "max_schema_bytes", SCHEMA_ENV, DEFAULT_MAX_SCHEMA_BYTES)


def max_response_bytes(value=None):
    """The response size limit: ``value``, else env ``CIVIS_DYN_MAX_RESPONSE_BYTES``, else 256 MiB.

    Raises
    ------
    TypeError, ValueError
        As :func:`max_schema_bytes`, naming ``max_response_bytes``.
    """
    return _resolve(value, "max_response_bytes", RESPONSE_ENV, DEFAULT_MAX_RESPONSE_BYTES)


def schema_setting():
    """How to raise the schema limit (for messages)."""
    return f"max_schema_bytes= or {SCHEMA_ENV}"


def response_setting():
    """How to raise the response limit (for messages)."""
    return f"max_response_bytes= or {RESPONSE_ENV}"


def read_capped(stream, limit, what, setting):
    """Read a binary file object to its end, at most ``limit`` bytes.

    Raises
    ------
    BodyTooLarge
        As soon as more than ``limit`` bytes were read.
    """
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise BodyTooLarge(what, limit, setting)
    return data
