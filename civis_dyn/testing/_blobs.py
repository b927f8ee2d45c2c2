"""File contents for the local Civis API: presigned-style URLs and streamed bytes.

The real API hands out storage URLs: ``POST /files`` answers an ``uploadUrl``
and the ``uploadFields`` of an S3 browser-POST form, ``POST /files/multipart``
one ``PUT`` URL per part, and ``GET /files/{id}`` a ``fileUrl`` to download
from.  The local API serves those URLs itself, under ``/_local/files/``:

* ``POST /_local/files/{id}``: a ``multipart/form-data`` upload.  The form
  fields (``key``, ``policy``, ``x-amz-signature`` ...) must be the ones the
  API handed out; the policy carries an expiry time, and the signature an HMAC
  of the policy with a key private to the server.  As on S3 the ``file``
  field comes last; fields after it are ignored.
* ``PUT /_local/files/{id}/parts/{n}?expires=...&signature=...``: one part of
  a multipart upload; ``POST /files/multipart/{id}/complete`` joins the parts.
* ``GET /_local/files/{id}?expires=...&signature=...``: the download.

Expiry times are values of the API's injectable clock, so a test can expire a
URL by advancing its clock.  Errors are answered as S3 does: an XML
``<Error><Code>...</Code><Message>...</Message></Error>`` body.

Bytes are streamed between the socket and files on disk in chunks of
:data:`CHUNK` bytes: an upload or download of any size uses constant memory,
and the bytes are stored exactly as sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import tempfile
import weakref
from pathlib import Path
from urllib.parse import parse_qs, quote

__all__ = ["BLOB_PREFIX", "BlobError", "BlobStore", "serve_blob"]

#: Path prefix of the storage URLs the local API serves itself.
BLOB_PREFIX = "/_local/files/"
#: Bytes moved per read/write when streaming.
CHUNK = 1024 * 1024
_FIELD_LIMIT = 64 * 1024
_BOUNDARY_RE = re.compile(r'boundary="?([^";]+)"?', re.I)
_DISPOSITION_RE = re.compile(r'(\w+)="([^"]*)"')


class BlobError(Exception):
    """An S3-style error answer: HTTP status, ``Code`` and ``Message``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def xml(self) -> bytes:
        return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code>'
                f"<Message>{self.message}</Message></Error>").encode()


class BlobStore:
    """File contents on disk, and the signing of the URLs that reach them.

    Parameters
    ----------
    clock : callable
        The API's clock; URL expiry times are its values.
    root : str or path-like, optional
        Where contents are kept; a temporary directory (removed when this
        object is collected) by default.
    url_ttl : float
        Seconds of ``clock`` a handed-out URL stays valid.
    """

    def __init__(self, clock, root=None, url_ttl=3600.0):
        self.clock = clock
        self.url_ttl = float(url_ttl)
        if root is None:
            self.root = Path(tempfile.mkdtemp(prefix="civis-dyn-local-files-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.root), True)
        else:
            self.root = Path(root)
            self.root.mkdir(parents=True, exist_ok=True)
            self._cleanup = None
        self._secret = secrets.token_bytes(32)

    # -- signing -------------------------------------------------------------
    def _sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def _expiry(self) -> str:
        return repr(round(self.clock() + self.url_ttl, 6))

    def signed_query(self, method: str, path: str) -> str:
        """``expires=...&signature=...`` for ``method`` on ``path``."""
        expires = self._expiry()
        return f"expires={expires}&signature={self._sign(f'{method} {path} {expires}')}"

    def check_query(self, method: str, path: str, qs: str) -> None:
        """Raise :class:`BlobError` unless ``qs`` signs ``method path`` and is current."""
        q = parse_qs(qs)
        expires = (q.get("expires") or [""])[-1]
        signature = (q.get("signature") or [""])[-1]
        if not expires or not signature:
            raise BlobError(403, "AccessDenied", "Query-string authentication requires "
                            "the expires and signature parameters")
        if not hmac.compare_digest(signature, self._sign(f"{method} {path} {expires}")):
            raise BlobError(403, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the "
                            "signature you provided.")
        self._check_expiry(expires)

    def _check_expiry(self, expires: str) -> None:
        try:
            deadline = float(expires)
        except ValueError:
            raise BlobError(403, "AccessDenied", "Invalid expiry time") from None
        if self.clock() > deadline:
            raise BlobError(403, "AccessDenied", "Request has expired")

    def upload_form(self, file_id: int, key: str) -> tuple[str, dict]:
        """The path and form fields of a browser-POST upload of file ``file_id``."""
        expires = self._expiry()
        policy = base64.b64encode(json.dumps(
            {"expiration": expires, "conditions": [{"key": key}, {"file_id": file_id}]},
            separators=(",", ":")).encode()).decode()
        fields = {"key": key, "success_action_status": "204", "policy": policy,
                  "x-amz-algorithm": "LOCAL-HMAC-SHA256", "x-amz-credential": "local",
                  "x-amz-signature": self._sign(policy)}
        return f"{BLOB_PREFIX}{file_id}", fields

    def check_form(self, file_id: int, fields: dict, key: str) -> None:
        """Raise :class:`BlobError` unless ``fields`` are the ones handed out for ``file_id``."""
        policy = fields.get("policy")
        signature = fields.get("x-amz-signature")
        if not policy or not signature:
            raise BlobError(400, "InvalidArgument",
                            "Bucket POST must contain the policy and x-amz-signature fields")
        if not hmac.compare_digest(signature, self._sign(policy)):
            raise BlobError(403, "SignatureDoesNotMatch",
                            "The request signature we calculated does not match the "
                            "signature you provided.")
        try:
            doc = json.loads(base64.b64decode(policy))
        except ValueError:
            raise BlobError(400, "InvalidPolicyDocument", "Invalid Policy") from None
        self._check_expiry(str(doc.get("expiration")))
        conditions = {k: v for c in doc.get("conditions") or () for k, v in c.items()}
        if conditions.get("file_id") != file_id or fields.get("key") != key \
                or conditions.get("key") != key:
            raise BlobError(403, "AccessDenied",
                            "Invalid according to Policy: Policy Condition failed: key")

    def part_path(self, file_id: int, part: int) -> str:
        return f"{BLOB_PREFIX}{file_id}/parts/{part}"

    def download_path(self, file_id: int) -> str:
        return f"{BLOB_PREFIX}{file_id}"

    # -- contents --------------------------------------------------------------
    def path(self, file_id: int) -> Path:
        """Where the contents of file ``file_id`` are kept."""
        return self.root / f"{file_id}.bin"

    def _part(self, file_id: int, part: int) -> Path:
        return self.root / f"{file_id}.part{part}"

    def size(self, file_id: int) -> int | None:
        """Bytes stored for file ``file_id``, None when nothing was uploaded."""
        try:
            return self.path(file_id).stat().st_size
        except OSError:
            return None

    def write_from(self, file_id: int, chunks, part: int | None = None) -> int:
        """Store the byte chunks of an iterable as file ``file_id`` (or one part); return size."""
        target = self.path(file_id) if part is None else self._part(file_id, part)
        tmp = target.with_name(target.name + f".{secrets.token_hex(4)}.tmp")
        size = 0
        try:
            with open(tmp, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    size += len(chunk)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        return size

    def write_bytes(self, file_id: int, data: bytes) -> int:
        return self.write_from(file_id, [data])

    def complete(self, file_id: int, num_parts: int) -> int:
        """Join the uploaded parts ``0..num_parts-1`` of a multipart upload; return size."""
        parts = [self._part(file_id, i) for i in range(num_parts)]
        missing = [str(i + 1) for i, p in enumerate(parts) if not p.exists()]
        if missing:
            raise ValueError(f"parts {', '.join(missing)} of {num_parts} were not uploaded")

        def chunks():
            for p in parts:
                with open(p, "rb") as f:
                    while True:
                        block = f.read(CHUNK)
                        if not block:
                            break
                        yield block
        size = self.write_from(file_id, chunks())
        for p in parts:
            p.unlink()
        return size

    def open(self, file_id: int):
        """The stored contents of ``file_id``, opened for binary reading."""
        return open(self.path(file_id), "rb")

    def delete(self, file_id: int) -> None:
        self.path(file_id).unlink(missing_ok=True)


# -- HTTP --------------------------------------------------------------------
def _read_exact(rfile, length):
    """Yield the next ``length`` bytes of ``rfile`` in chunks."""
    left = length
    while left > 0:
        block = rfile.read(min(CHUNK, left))
        if not block:
            raise BlobError(400, "IncompleteBody",
                            "You did not provide the number of bytes specified by the "
                            "Content-Length HTTP header.")
        left -= len(block)
        yield block


def _read_chunked(rfile):
    while True:
        line = rfile.readline(1024)
        try:
            n = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BlobError(400, "InvalidRequest", "Malformed chunked encoding") from None
        if n == 0:
            while rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                pass
            return
        yield from _read_exact(rfile, n)
        rfile.readline(1024)


def body_chunks(h):
    """The request body of handler ``h`` as a stream of chunks."""
    if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
        return _read_chunked(h.rfile)
    try:
        length = int(h.headers.get("Content-Length") or 0)
    except ValueError:
        raise BlobError(400, "InvalidArgument", "Invalid Content-Length") from None
    return _read_exact(h.rfile, max(length, 0))


class _FormReader:
    """A streaming ``multipart/form-data`` reader: small fields kept, the file streamed."""

    def __init__(self, chunks, boundary: bytes):
        self._chunks = iter(chunks)
        self._buf = b""
        self._delim = b"\r\n--" + boundary
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        block = next(self._chunks, None)
        if block is None:
            self._eof = True
            return False
        self._buf += block
        return True

    def _until(self, marker: bytes, limit: int) -> bytes:
        while True:
            i = self._buf.find(marker)
            if i >= 0:
                out, self._buf = self._buf[:i], self._buf[i + len(marker):]
                return out
            if len(self._buf) > limit or not self._fill():
                raise BlobError(400, "MalformedPOSTRequest",
                                "The body of your POST request is not well-formed "
                                "multipart/form-data.")

    def parts(self):
        """Yield ``(headers, body_iterator)``; each body must be consumed before the next."""
        self._buf = b"\r\n" + self._buf
        self._until(self._delim, _FIELD_LIMIT)
        while True:
            while len(self._buf) < 2 and self._fill():
                pass
            if self._buf.startswith(b"--"):
                return
            self._until(b"\r\n", _FIELD_LIMIT)
            head = self._until(b"\r\n\r\n", _FIELD_LIMIT).decode("utf-8", "replace")
            headers = {}
            for line in head.split("\r\n"):
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            yield headers, self._body()

    def _body(self):
        keep = len(self._delim)
        while True:
            i = self._buf.find(self._delim)
            if i >= 0:
                out, self._buf = self._buf[:i], self._buf[i + len(self._delim):]
                if out:
                    yield out
                return
            if len(self._buf) > keep:
                out, self._buf = self._buf[:-keep], self._buf[-keep:]
                yield out
            if not self._fill():
                raise BlobError(400, "MalformedPOSTRequest",
                                "The body of your POST request is not well-formed "
                                "multipart/form-data.")


def _form_upload(data, blobs: BlobStore, h, file_id: int) -> int:
    match = _BOUNDARY_RE.search(h.headers.get("Content-Type") or "")
    if not match:
        raise BlobError(412, "PreconditionFailed",
                        "Bucket POST must be of the enclosure-type multipart/form-data")
    reader = _FormReader(body_chunks(h), match.group(1).encode("latin-1"))
    fields, size = {}, None
    for headers, body in reader.parts():
        disp = dict(_DISPOSITION_RE.findall(headers.get("content-disposition", "")))
        name = disp.get("name")
        if name == "file":
            if size is None:
                blobs.check_form(file_id, fields, data.file_key(file_id))
                size = blobs.write_from(file_id, body)
                data.file_uploaded(file_id, size)
            else:
                for _ in body:
                    pass
            continue
        value = b"".join(body)
        if len(value) > _FIELD_LIMIT:
            raise BlobError(400, "MaxPostPreDataLengthExceeded",
                            "Your POST request fields preceding the upload file were too large.")
        if size is None and name:
            fields[name] = value.decode("utf-8", "replace")
    for _ in reader._chunks:  # the epilogue, if any
        pass
    if size is None:
        raise BlobError(400, "InvalidArgument",
                        "Bucket POST must contain a field named 'file'.")
    return size


def serve_blob(api, h, method: str, path: str, qs: str) -> tuple[int, int | None]:
    """Answer one request to a storage URL; return ``(status, bytes moved)``.

    ``api`` is the :class:`~civis_dyn.testing.LocalCivisAPI` (its lock, store
    and writer); ``h`` the request handler.
    """
    data = api.store.data
    blobs = data.blobs
    rest = path[len(BLOB_PREFIX):].split("/")
    try:
        try:
            file_id = int(rest[0])
        except ValueError:
            raise BlobError(404, "NoSuchKey", "The specified key does not exist.") from None
        if method == "POST" and len(rest) == 1:
            with api._lock:
                data.file_key(file_id)  # 404 for an unknown file
            size = _form_upload(_Locked(data, api._lock), blobs, h, file_id)
            api.write_answer(h, 204, b"", {"ETag": f'"{file_id}-{size}"'}, "text/plain")
            return 204, size
        if method == "PUT" and len(rest) == 3 and rest[1] == "parts" and rest[2].isdigit():
            blobs.check_query("PUT", path, qs)
            size = blobs.write_from(file_id, body_chunks(h), part=int(rest[2]))
            api.write_answer(h, 200, b"", {"ETag": f'"{file_id}-{rest[2]}-{size}"'}, "text/plain")
            return 200, size
        if method in ("GET", "HEAD") and len(rest) == 1:
            blobs.check_query("GET", path, qs)
            size = blobs.size(file_id)
            if size is None:
                raise BlobError(404, "NoSuchKey", "The specified key does not exist.")
            with api._lock:
                name = data.file_name(file_id)
            _stream_file(api, h, blobs, file_id, size, name)
            return 200, size
        raise BlobError(405, "MethodNotAllowed",
                        "The specified method is not allowed against this resource.")
    except BlobError as e:
        h.close_connection = True  # the rest of a refused body is not read
        api.write_answer(h, e.status, e.xml(), {}, "application/xml")
        return e.status, None


class _Locked:
    """Calls into the data features under the API's lock."""

    def __init__(self, data, lock):
        self._data = data
        self._lock = lock

    def file_key(self, file_id):
        with self._lock:
            return self._data.file_key(file_id)

    def file_uploaded(self, file_id, size):
        with self._lock:
            return self._data.file_uploaded(file_id, size)


def _stream_file(api, h, blobs, file_id, size, name):
    disposition = f"attachment; filename*=UTF-8''{quote(name or str(file_id))}"
    lines = ["HTTP/1.1 200 OK", f"Server: {h.server_version}",
             "Content-Type: application/octet-stream", f"Content-Length: {size}",
             f"Content-Disposition: {disposition}"]
    if h.close_connection:
        lines.append("Connection: close")
    h.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if h.command == "HEAD":
        return
    with blobs.open(file_id) as f:
        while True:
            block = f.read(CHUNK)
            if not block:
                break
            h.wfile.write(block)
