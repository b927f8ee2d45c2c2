"""A downloaded schema as the disk cache keeps it: :class:`CachedSchema`.

Its own module so that building a client from a schema file does not define
it (a dataclass costs a few hundred microseconds to make); it is reachable as
``civis_dyn.spec._cache.CachedSchema`` too.
"""

import json
from dataclasses import dataclass, field, replace

from ._cache import SCHEMA_FORMAT, sha256_hex

__all__ = ["CachedSchema"]


@dataclass(frozen=True)
class CachedSchema:
    """A schema as downloaded from ``/endpoints``, with what revalidates it.

    Attributes
    ----------
    raw : bytes or None
        The schema's JSON, exactly as served; None for an entry read by its
        header alone (:meth:`DiskCache.read_schema` with ``lazy=True``): then
        :meth:`bytes` reads it again.
    sha256 : str
        Hex sha256 of ``raw``.
    fetched_at : float
        ``time.time()`` of the download or of the last revalidation.
    etag, last_modified : str or None
        The response's ``ETag`` and ``Last-Modified`` headers.
    base_url, api_version : str
        Where it came from (informational).
    """

    raw: bytes
    sha256: str
    fetched_at: float
    etag: str = None
    last_modified: str = None
    base_url: str = ""
    api_version: str = ""
    loader: object = field(default=None, repr=False, compare=False)  # () -> raw, when raw is None

    def bytes(self):
        """The schema's JSON (read again, and checked, when the entry does not hold it)."""
        return self.raw if self.raw is not None else self.loader()

    @classmethod
    def from_download(cls, raw, *, fetched_at, etag=None, last_modified=None, base_url="",
                      api_version=""):
        """Build an entry from downloaded bytes, hashing them."""
        return cls(raw=raw, sha256=sha256_hex(raw), fetched_at=fetched_at,
                   etag=etag, last_modified=last_modified, base_url=base_url,
                   api_version=api_version)

    def renewed(self, fetched_at):
        """A copy revalidated at ``fetched_at`` (after a 304)."""
        return replace(self, fetched_at=fetched_at)

    def validators(self):
        """Conditional request headers (``If-None-Match``, ``If-Modified-Since``)."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def to_bytes(self):
        """The entry's file content: one JSON header line, then the schema."""
        raw = self.bytes()
        header = {"format": SCHEMA_FORMAT, "sha256": self.sha256, "size": len(raw),
                  "fetched_at": self.fetched_at, "etag": self.etag,
                  "last_modified": self.last_modified, "base_url": self.base_url,
                  "api_version": self.api_version}
        return json.dumps(header, separators=(",", ":")).encode() + b"\n" + raw

    @classmethod
    def from_bytes(cls, data):
        """Parse and verify an entry's file content.

        Returns
        -------
        CachedSchema or None
            None for an entry of another format (written by another version).

        Raises
        ------
        ValueError
            When the entry is truncated or corrupt; the message says how.
        """
        head, newline, raw = data.partition(b"\n")
        if not newline:
            raise ValueError("truncated, or not a cache entry")
        header = cls._header(head)
        if header is None:
            return None
        size, expected, fetched_at = header["size"], header["sha256"], header["fetched_at"]
        if not isinstance(size, int) or len(raw) != size:
            raise ValueError(f"truncated ({len(raw)} of {size} bytes)")
        digest = sha256_hex(raw)
        if digest != expected:
            raise ValueError("sha256 mismatch")
        return cls(raw=raw, sha256=digest, fetched_at=fetched_at, **_described(header))

    @classmethod
    def from_header(cls, head, size, sha256, loader):
        """An entry from its header line alone, when its file is known to hash to ``sha256``.

        ``size`` is the file's size after the header line. Raises ValueError
        when the header does not describe such a body (the caller then reads
        and checks the whole entry).
        """
        header = cls._header(head)
        if header is None or header["size"] != size or header["sha256"] != sha256:
            raise ValueError("the header does not match the file")
        return cls(raw=None, sha256=sha256, fetched_at=header["fetched_at"], loader=loader,
                   **_described(header))

    @staticmethod
    def _header(head):
        """The checked header of an entry (None: another version's format); ValueError if bad."""
        try:
            header = json.loads(head)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ValueError("unreadable header") from None
        if not isinstance(header, dict):
            raise ValueError("unreadable header")
        if header.get("format") != SCHEMA_FORMAT:
            if isinstance(header.get("format"), str) and header["format"].startswith("civis_dyn."):
                return None
            raise ValueError("unknown header")
        try:
            header["size"]
            header["sha256"]
            header["fetched_at"] = float(header["fetched_at"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("incomplete header") from None
        return header


def _described(header):
    """The fields of a :class:`CachedSchema` that its header line describes, besides its body."""
    return {"etag": header.get("etag"), "last_modified": header.get("last_modified"),
            "base_url": header.get("base_url") or "", "api_version": header.get("api_version") or ""}
