"""Moving bytes to and from storage URLs: streamed, retried, with progress.

The API hands out presigned storage URLs (``uploadUrl`` with form fields,
multipart ``uploadUrls``, ``fileUrl``); these requests carry no API key, so
they are sent with a plain :class:`requests.Session` of this module, never the
client's transport.

* Uploads stream from the source in :data:`CHUNK` blocks: the form upload's
  ``multipart/form-data`` body is produced while it is sent
  (:class:`_FormBody`), so memory stays constant whatever the size.
* A failed request (connection error, 5xx, 429) is retried
  :data:`ATTEMPTS` times with a growing pause, from the start of the body
  (or of the part); a refused URL (403: expired or bad signature) is not.
* Transfers longer than :data:`PROGRESS_EVERY` seconds log their progress on
  the ``civis_dyn.io`` logger at INFO level.
* Error messages never show a URL's query string (it holds the signature).
"""

from __future__ import annotations

import html
import logging
import os
import re
import secrets
import threading
import time

from .._progress import progress_bar

__all__ = ["StorageError", "download", "put_part", "upload_form"]

log = logging.getLogger("civis_dyn.io")

#: Bytes per read, write and progress step.
CHUNK = 1024 * 1024
#: Attempts of one storage request before giving up.
ATTEMPTS = 4
#: Seconds between progress log lines.
PROGRESS_EVERY = 5.0
#: Seconds to wait for the storage server to answer (connect, read).
TIMEOUT = (10, 300)
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_local = threading.local()


class StorageError(OSError):
    """A storage URL refused a transfer (expired, bad signature, missing)."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


def _session():
    """This thread's session for storage URLs (sends and reads in CHUNK blocks)."""
    import requests
    from requests.adapters import HTTPAdapter

    class _BigBlocks(HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            kwargs.setdefault("blocksize", CHUNK)
            super().init_poolmanager(*args, **kwargs)

    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
        for prefix in ("http://", "https://"):
            session.mount(prefix, _BigBlocks())
    return session


def strip_query(text: str) -> str:
    """``text`` without URL query strings (they carry signatures)."""
    return re.sub(r"\?[^\s'\"]*", "", str(text))


def _storage_message(response, what) -> str:
    body = response.text[:2000] if response.content else ""
    code = re.search(r"<Code>(.*?)</Code>", body, re.S)
    detail = re.search(r"<Message>(.*?)</Message>", body, re.S)
    msg = (f"{what} failed: {response.status_code} {response.reason} "
           f"for {strip_query(response.url)}")
    if code and detail:
        msg += f": {html.unescape(code.group(1))}: {html.unescape(detail.group(1))}"
        if "expired" in detail.group(1).lower():
            msg += " (the URL expired; ask the API for a new one)"
    return msg


class TransferProgress:
    """A transfer's progress: a bar (see :mod:`civis_dyn._progress`) and INFO log lines."""

    def __init__(self, what, total):
        self.what = what
        self.total = total
        self.done = 0
        self.t0 = self.last = time.monotonic()
        self._lock = threading.Lock()
        self.bar = progress_bar(total=total, desc=what, unit="B", unit_scale=True)

    def restart(self):
        """The transfer starts again (a retry): count from zero."""
        with self._lock:
            self.done = 0
            self.bar.update(-self.bar.n)

    def close(self):
        self.bar.close()

    def add(self, n):
        with self._lock:
            self.done += n
            self.bar.update(n)
            now = time.monotonic()
            if now - self.last < PROGRESS_EVERY:
                return
            self.last = now
        rate = self.done / max(now - self.t0, 1e-9) / 2 ** 20
        if self.total:
            log.info("%s: %.0f%% (%d of %d bytes, %.1f MiB/s)", self.what,
                     100 * self.done / self.total, self.done, self.total, rate)
        else:
            log.info("%s: %d bytes (%.1f MiB/s)", self.what, self.done, rate)


def _with_retries(what, send, rewind):
    """Call ``send()`` until it answers; retry transient failures after ``rewind()``."""
    import requests

    pause = 0.5
    for attempt in range(1, ATTEMPTS + 1):
        if attempt > 1:
            rewind()
        try:
            response = send()
        except (requests.ConnectionError, requests.Timeout) as e:
            if attempt == ATTEMPTS:
                raise ConnectionError(f"{what} failed after {ATTEMPTS} attempts: "
                                      f"{strip_query(e)}") from None
            log.warning("%s: %s; retrying (%d/%d)", what, type(e).__name__, attempt, ATTEMPTS)
        else:
            if response.ok:
                return response
            if response.status_code not in _RETRY_STATUS or attempt == ATTEMPTS:
                raise StorageError(_storage_message(response, what), response.status_code)
            log.warning("%s: HTTP %s; retrying (%d/%d)", what, response.status_code, attempt,
                        ATTEMPTS)
        time.sleep(pause)
        pause = min(pause * 2, 8)
    raise AssertionError("unreachable")


class _Reader:
    """``n`` bytes of ``f`` from its current position, as a sized file-like body."""

    def __init__(self, f, n, progress):
        self.f = f
        self.len = n
        self.left = n
        self.progress = progress

    def __len__(self):
        return self.len

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        size = self.left if size is None or size < 0 else min(size, self.left)
        block = self.f.read(min(size, CHUNK))
        self.left -= len(block)
        if self.progress is not None:
            self.progress.add(len(block))
        return block


class _FormBody:
    """A ``multipart/form-data`` body (fields, then the file) produced while read."""

    def __init__(self, fields, filename, f, size, progress):
        self.boundary = "civisdyn" + secrets.token_hex(16)
        head = "".join(f'--{self.boundary}\r\nContent-Disposition: form-data; name="{k}"'
                       f"\r\n\r\n{v}\r\n" for k, v in fields.items())
        safe = filename.replace('"', "%22").replace("\r", "").replace("\n", "")
        head += (f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{safe}"\r\nContent-Type: application/octet-stream\r\n\r\n')
        self._head = head.encode()
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._file = _Reader(f, size, progress)
        self.len = len(self._head) + size + len(self._tail)
        self._stage = 0

    def __len__(self):
        return self.len

    @property
    def content_type(self):
        return f"multipart/form-data; boundary={self.boundary}"

    def read(self, size=-1):
        if self._stage == 0:
            self._stage = 1
            return self._head
        if self._stage == 1:
            block = self._file.read(size)
            if block:
                return block
            self._stage = 2
            return self._tail
        return b""


def upload_form(url, fields, f, size, filename):
    """POST ``size`` bytes of ``f`` (from its position) as the form's ``file``."""
    start = f.tell() if f.seekable() else None
    progress = TransferProgress(f"Upload of {filename}", size)

    def rewind():
        if start is None:
            raise ConnectionError(f"Upload of {filename} failed and cannot be retried: "
                                  "the source is not seekable")
        f.seek(start)
        progress.restart()

    ordered = {"key": fields["key"], **{k: v for k, v in fields.items() if k != "key"}}

    def send():
        body = _FormBody(ordered, filename, f, size, progress)
        return _session().post(url, data=body, timeout=TIMEOUT,
                               headers={"Content-Type": body.content_type})
    try:
        _with_retries(f"Upload of {filename}", send, rewind)
    finally:
        progress.close()


def upload_form_unsized(url, fields, f, filename, spool):
    """Upload a stream of unknown size: spool it to a temporary file first."""
    size = 0
    while True:
        block = f.read(CHUNK)
        if not block:
            break
        if isinstance(block, str):
            block = block.encode()
        spool.write(block)
        size += len(block)
    spool.seek(0)
    upload_form(url, fields, spool, size, filename)
    return size


def put_part(url, path, offset, size, label, progress):
    """PUT bytes ``offset..offset+size`` of the file at ``path`` to a part URL."""
    with open(path, "rb") as f:
        attempt = None

        def rewind():  # a failed attempt's bytes no longer count
            if progress is not None and attempt is not None:
                progress.add(-(attempt.len - attempt.left))

        def send():
            nonlocal attempt
            f.seek(offset)
            attempt = _Reader(f, size, progress)
            return _session().put(url, data=attempt, timeout=TIMEOUT)
        _with_retries(label, send, rewind)


def download(url, buf, label):
    """Stream the body of ``url`` into the binary file-like ``buf``; return bytes written."""
    start = buf.tell() if _seekable(buf) else None
    state = {"n": 0}

    def fetch():
        response = _session().get(url, stream=True, timeout=TIMEOUT)
        if not response.ok:
            return response
        total = int(response.headers.get("Content-Length") or 0) or None
        progress = TransferProgress(label, total)
        n = 0
        with progress.bar:
            for block in response.iter_content(CHUNK):
                buf.write(block)
                n += len(block)
                progress.add(len(block))
        if total is not None and n != total:
            import requests

            raise requests.ConnectionError(f"connection closed after {n} of {total} bytes")
        state["n"] = n
        return response

    def rewind():
        if start is None:
            raise ConnectionError(f"{label} failed and cannot be retried: the target is "
                                  "not seekable")
        buf.seek(start)
        buf.truncate()

    _with_retries(label, fetch, rewind)
    return state["n"]


def _seekable(buf):
    try:
        return buf.seekable()
    except (AttributeError, ValueError):
        return False


def file_size(buf):
    """Bytes left in ``buf`` from its position, or None when unknown."""
    try:
        fileno = buf.fileno()
    except (AttributeError, OSError, ValueError):
        fileno = None
    if fileno is not None:
        try:
            return os.fstat(fileno).st_size - buf.tell()
        except (OSError, ValueError):
            return None
    if hasattr(buf, "getbuffer"):
        return len(buf.getbuffer()) - buf.tell()
    if _seekable(buf):
        pos = buf.tell()
        end = buf.seek(0, os.SEEK_END)
        buf.seek(pos)
        return end - pos
    return None
