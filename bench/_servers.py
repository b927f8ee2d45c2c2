"""Servers the benchmarks talk to, all on 127.0.0.1 and all run in threads of ``bench/run.py``.

* :class:`CannedAPIServer`: a minimal HTTP/1.1 server on :mod:`asyncio` that answers
  fixed routes with fixed bytes, as fast as Python can. The per-call benchmarks
  (calls/s against a bare :class:`requests.Session`, 4 threads against 1) use it so
  that the server costs as little as possible and each client's own overhead shows.
  Its latency can be changed while it runs (``POST /_bench/latency`` with the
  seconds as the body), so one client process measures with and without latency.
* :func:`start_local_api`: the embedded :class:`civis_dyn.testing.LocalCivisAPI`
  on the real schema, with jobs seeded, for the metrics that need the API's real
  behaviour: ``/endpoints``, pagination headers, runs that finish.
* :func:`canned_bodies`: realistic ``GET /jobs/1`` and ``GET /jobs`` bodies,
  taken from a LocalCivisAPI built from the real schema.

The orchestrator's main thread only waits for subprocesses while the servers
run, so their threads have the interpreter to themselves.
"""

import asyncio
import json
import threading

__all__ = ["CannedAPIServer", "canned_bodies", "canned_pages", "full_pages", "start_local_api"]

LATENCY_PATH = "/_bench/latency"
_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found"}
_MAX_HEAD = 64 * 1024


def _response_bytes(status, body=b"", headers=None):
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}",
             "Content-Type: application/json; charset=utf-8",
             f"Content-Length: {len(body)}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _CannedProtocol(asyncio.Protocol):
    """One keep-alive connection: parse each request head, answer from the route table."""

    def __init__(self, server):
        self.server = server
        self.buffer = b""
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        self.server.connections += 1

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > _MAX_HEAD:
                    self.transport.close()
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            close = False
            lines = head.split("\r\n")
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value.strip() or 0)
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            if len(self.buffer) < end + 4 + length:
                return  # wait for the body
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            parts = lines[0].split()
            if len(parts) != 3:
                self.transport.close()
                return
            path, _, query = parts[1].partition("?")
            self.answer(parts[0], path, body, close, query)

    def answer(self, method, path, body, close, query=""):
        server = self.server
        server.requests += 1
        if method == "POST" and path == LATENCY_PATH:
            try:
                server.latency = max(0.0, float(body.decode() or 0))
            except ValueError:
                return self.send(_response_bytes(400, b'{"error":"bad latency"}'), close)
            return self.send(_response_bytes(204), close)
        path = path.rstrip("/") or "/"
        payload = server.routes.get((method, path))
        if method == "GET" and "page_num=" in query and path in server.pages:
            payload = server.page(path, query)
        if payload is None:
            payload = server.not_found
        latency = server.latency
        if latency > 0:
            server.loop.call_later(latency, self.send, payload, close)
        else:
            self.send(payload, close)

    def send(self, payload, close):
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(payload)
        if close:
            self.transport.close()

    def connection_lost(self, exc):
        self.transport = None


class CannedAPIServer:
    """A fast local server answering fixed routes with fixed JSON bytes.

    Parameters
    ----------
    routes : dict
        ``(method, path) -> (body bytes, extra headers dict)``; the query string
        is ignored when matching.
    latency : float
        Seconds added before every answer (changeable at :attr:`latency`, or by
        a client with ``POST /_bench/latency``).
    pages : dict, optional
        ``path -> [(body bytes, extra headers dict), ...]``: a ``GET`` of ``path``
        with a ``page_num=N`` query is answered with page N (1-based); past the
        last page, an empty JSON list with the last page's headers.

    Attributes
    ----------
    url : str
        ``http://127.0.0.1:<port>/`` once started.
    requests, connections : int
        Requests answered and TCP connections accepted so far.
    """

    def __init__(self, routes, latency=0.0, pages=None):
        self.routes = {key: _response_bytes(200, body, headers)
                       for key, (body, headers) in routes.items()}
        self.pages = {path: [_response_bytes(200, body, headers) for body, headers in answers]
                      + [_response_bytes(200, b"[]", answers[-1][1])]
                      for path, answers in (pages or {}).items()}
        self.not_found = _response_bytes(404, b'{"error":"not_found"}')
        self.latency = float(latency)
        self.requests = 0
        self.connections = 0
        self.loop = None
        self.url = None
        self._server = None
        self._thread = None
        self._ready = threading.Event()
        self._error = None

    def page(self, path, query):
        """The answer to ``GET path?...page_num=N...`` (see ``pages``)."""
        answers = self.pages[path]
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            if name == "page_num":
                try:
                    number = int(value)
                except ValueError:
                    return None
                return answers[min(max(number, 1), len(answers)) - 1]
        return None

    def start(self):
        """Serve in a daemon thread; return self once the port is bound."""
        self._thread = threading.Thread(target=self._serve, name="CannedAPIServer", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"the canned API server did not start: {self._error}")
        return self

    def _serve(self):
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            self._server = loop.run_until_complete(loop.create_server(
                lambda: _CannedProtocol(self), "127.0.0.1", 0, backlog=1024))
            port = self._server.sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}/"
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

    def stop(self):
        """Stop serving and join the thread."""
        if self.loop is not None and self._thread is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def start_local_api(spec_path, jobs, run_delays=(0.05, 0.15)):
    """Start a :class:`~civis_dyn.testing.LocalCivisAPI` on ``spec_path`` with ``jobs`` jobs.

    Job ids run from 1 to ``jobs``; every job can be run (``POST /jobs/{id}/runs``).
    """
    from civis_dyn.testing import LocalCivisAPI

    api = LocalCivisAPI(spec=spec_path, run_delays=run_delays).start()
    for number in range(1, jobs + 1):
        api.seed("/jobs", {"name": f"bench job {number}"})
    return api


def canned_bodies(api, list_size=50, page_size=1000):
    """Realistic bodies from a running LocalCivisAPI with at least ``list_size`` jobs.

    Returns
    -------
    dict
        ``"job"``: bytes of ``GET /jobs/1``; ``"list"``: bytes of ``GET /jobs``
        with ``list_size`` objects, and ``"list_headers"``, its pagination
        headers; ``"page"``: bytes of a ``page_size``-object page (the list's
        objects repeated with new ids).
    """
    import requests

    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {api.api_key}"
        job = session.get(api.url + "jobs/1", timeout=30)
        job.raise_for_status()
        listing = session.get(api.url + "jobs", params={"limit": list_size}, timeout=30)
        listing.raise_for_status()
    items = listing.json()
    if len(items) != list_size:
        raise RuntimeError(f"expected {list_size} jobs from the local API, got {len(items)}")
    headers = {name: value for name, value in listing.headers.items()
               if name.lower().startswith("x-pagination")}
    page = []
    for number in range(page_size):
        item = dict(items[number % len(items)])
        item["id"] = number + 1
        page.append(item)
    return {"job": job.content, "list": listing.content, "list_headers": headers,
            "page": json.dumps(page, separators=(",", ":")).encode()}


def canned_pages(list_body, pages):
    """``pages`` pages of ``GET /jobs`` (the objects of ``list_body`` with new ids) and headers.

    Returns
    -------
    list of (bytes, dict)
        For :class:`CannedAPIServer`'s ``pages``: page N holds ids ``(N-1)*size+1`` to
        ``N*size``, with the API's ``X-Pagination-*`` headers.
    """
    items = json.loads(list_body)
    size = len(items)
    answers = []
    for number in range(1, pages + 1):
        page = [dict(item, id=(number - 1) * size + index + 1) for index, item in enumerate(items)]
        headers = {"X-Pagination-Current-Page": str(number), "X-Pagination-Per-Page": str(size),
                   "X-Pagination-Total-Entries": str(size * pages),
                   "X-Pagination-Total-Pages": str(pages)}
        answers.append((json.dumps(page, separators=(",", ":")).encode(), headers))
    return answers


def full_pages(api, limit):
    """Pages of ``limit`` jobs the LocalCivisAPI announces (``X-Pagination-Total-Pages``).

    Raises
    ------
    RuntimeError
        When the server caps the page size below ``limit`` (the schema's maximum).
    """
    import requests

    response = requests.get(api.url + "jobs", params={"limit": limit},
                            headers={"Authorization": f"Bearer {api.api_key}"}, timeout=30)
    response.raise_for_status()
    per_page = int(response.headers["X-Pagination-Per-Page"])
    if per_page != limit:
        raise RuntimeError(f"the local API serves pages of {per_page} jobs, not {limit}")
    return int(response.headers["X-Pagination-Total-Pages"])
