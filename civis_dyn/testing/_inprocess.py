"""``LocalCivisAPI.transport()``: the local fake API as a :class:`civis_dyn.Transport`, no sockets.

Each request is handed to the same code that serves HTTP (routing, the store,
authentication, injected faults, the request log), through an in-memory
exchange instead of a connection; the bytes it writes are parsed back into an
:class:`~civis_dyn.HTTPResponse`. The server need not be started.

Connection-level faults become what a transport reports for them: ``drop``
(no answer) a :class:`~civis_dyn.CivisConnectionError` with reason
``"reset"``; ``drop_body`` (the answer cut short) one with reason
``"incomplete"``.
"""

import io
from urllib.parse import urlencode, urlsplit

from .._errors import CivisConnectionError
from .._http import Headers, HTTPResponse

__all__ = ["InProcessTransport"]


class _Exchange:
    """What the server's request handling reads and writes, for one in-memory request."""

    request_version = "HTTP/1.1"

    def __init__(self, command, target, headers, body, server_version):
        self.command = command
        self.path = target
        self.headers = headers
        self.rfile = io.BytesIO(body)
        self.wfile = io.BytesIO()
        self.close_connection = False
        self.server_version = server_version


class InProcessTransport:
    """Sends requests straight to a :class:`~civis_dyn.testing.LocalCivisAPI`, in this process.

    Made by :meth:`LocalCivisAPI.transport`.

    Parameters
    ----------
    api : LocalCivisAPI
    server_version : str
        The ``Server`` header the API answers with.
    headers_class : type
        The request-headers mapping the API's handling reads.
    """

    networked = False  # nothing leaves the process

    def __init__(self, api, server_version, headers_class):
        self._api = api
        self._server_version = server_version
        self._headers_class = headers_class

    def __repr__(self):
        return f"<InProcessTransport to {self._api!r}>"

    def send(self, request):
        """Answer ``request`` with the local API's handling of it."""
        path = request.path or urlsplit(request.url).path
        target = "/" + path.lstrip("/")
        if request.params:
            target += "?" + urlencode(request.params, doseq=True)
        body = request.body or b""
        headers = self._headers_class({k.lower(): str(v) for k, v in request.headers.items()})
        if body:
            headers["content-length"] = str(len(body))
        exchange = _Exchange(request.method, target, headers, body, self._server_version)
        self._api.serve_exchange(exchange)
        return _parse(exchange.wfile.getvalue(), request)

    def close(self):
        """Nothing to close."""


def _parse(raw, request):
    if not raw:
        raise CivisConnectionError("ConnectionError: the local API closed the connection "
                                   "without answering", reason="reset", sent=True)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    _, status, reason = (lines[0].split(" ", 2) + [""])[:3]
    pairs = [line.split(":", 1) for line in lines[1:] if ":" in line]
    headers = Headers((name.strip(), value.strip()) for name, value in pairs)
    length = headers.get("Content-Length")
    if length is not None and len(body) < int(length):
        raise CivisConnectionError(f"ChunkedEncodingError: the answer was cut after {len(body)} "
                                   f"of {length} bytes", reason="incomplete", sent=True)
    return HTTPResponse(int(status), headers, body, request.url, reason)
