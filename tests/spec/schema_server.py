"""A small schema server for the cache tests: real HTTP on 127.0.0.1.

:class:`SchemaServer` serves ``GET /endpoints`` with an ``ETag`` and a
``Last-Modified`` header and answers conditional requests with 304. It counts
requests and the schema bytes it sends, can switch to another schema, answer
503, serve garbage, hold ``/endpoints`` requests until several have arrived
(to make concurrent refreshes really concurrent), or go down.
"""

import hashlib
import json
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from scaffold.schemas import INTEGER, STRING, array, document, obj, op, param

__all__ = ["SchemaServer", "widget_schema"]


def widget_schema(*, with_runs=False):
    """A small Swagger 2.0 schema: ``widgets`` with ``list`` and ``get``.

    ``with_runs=True`` adds ``POST /widgets/{id}/runs`` (method ``post_runs``).
    """
    id_param = param("id", "path", "integer", description="The widget's ID.")
    paths = {
        "/widgets/": {"get": op(array("Widget"), param("limit", kind="integer", required=False,
                                                       description="How many."),
                                summary="List widgets")},
        "/widgets/{id}": {"get": op("Widget", id_param, summary="Get a widget")},
    }
    if with_runs:
        paths["/widgets/{id}/runs"] = {"post": op("Widget", id_param, summary="Start a run")}
    return document(paths, {"Widget": obj(id=INTEGER, name=STRING)}, title="Widgets",
                    version="1.0")


class SchemaServer:
    """Serve a schema at ``/endpoints`` on 127.0.0.1; use as a context manager.

    Parameters
    ----------
    schema : dict
        The schema served first.
    api_key : str
        The only key accepted (others get 401).

    Attributes
    ----------
    url : str
        The base URL (``http://127.0.0.1:<port>/``).
    full_downloads, not_modified : int
        ``/endpoints`` answers with 200 and with 304.
    schema_bytes_sent : int
        Bytes of schema bodies sent.
    requests : list of (method, path, headers)
        Every request received.
    mode : str
        ``"up"``, ``"503"`` or ``"garbage"`` (a 200 with an HTML body).
    """

    def __init__(self, schema, api_key):
        self.api_key = api_key
        self.mode = "up"
        self.requests = []
        self.full_downloads = 0
        self.not_modified = 0
        self.schema_bytes_sent = 0
        self._lock = threading.Lock()
        self._barrier = None
        self.set_schema(schema)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = None
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def set_schema(self, schema):
        """Serve ``schema`` from now on (a new ETag and Last-Modified)."""
        body = json.dumps(schema).encode()
        with self._lock:
            self.body = body
            self.etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            self.last_modified = formatdate(usegmt=True)

    def hold_endpoints_until(self, count, timeout=20.0):
        """Hold each ``/endpoints`` request until ``count`` of them are waiting."""
        self._barrier = threading.Barrier(count, timeout=timeout)

    def endpoint_requests(self):
        """The ``/endpoints`` requests received, as (method, headers) pairs."""
        with self._lock:
            return [(m, h) for m, p, h in self.requests if p.rstrip("/") == "/endpoints"]

    # -- lifecycle --------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,),
                                        name="schema-server", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Go down: stop serving and close the socket (connections are refused)."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(10)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- handling ---------------------------------------------------------
    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body in separate writes: no 40 ms stall

            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and status != 304:
                    self.wfile.write(body)

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.requests.append(("GET", path, dict(self.headers.items())))
                if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                    return self._send(401, b'{"error": "invalid_token"}',
                                      [("Content-Type", "application/json")])
                if path.rstrip("/") != "/endpoints":
                    return self._send(200, b'{"id": 1, "name": "w"}',
                                      [("Content-Type", "application/json")])
                if server._barrier is not None:
                    server._barrier.wait()
                if server.mode == "503":
                    return self._send(503, b'{"error": "unavailable"}',
                                      [("Content-Type", "application/json")])
                if server.mode == "garbage":
                    return self._send(200, b"<html>sign in to the wifi</html>",
                                      [("Content-Type", "text/html")])
                with server._lock:
                    body, etag, modified = server.body, server.etag, server.last_modified
                validators = [("ETag", etag), ("Last-Modified", modified)]
                if self.headers.get("If-None-Match") == etag:
                    with server._lock:
                        server.not_modified += 1
                    return self._send(304, headers=validators)
                with server._lock:
                    server.full_downloads += 1
                    server.schema_bytes_sent += len(body)
                return self._send(200, body, [("Content-Type", "application/json"), *validators])

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                with server._lock:
                    server.requests.append(("POST", self.path, dict(self.headers.items())))
                return self._send(201, b'{"id": 1, "state": "queued"}',
                                  [("Content-Type", "application/json")])

        return Handler
