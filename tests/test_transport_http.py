"""Transport over real HTTP on 127.0.0.1: connection reuse, threads, retries, pagination, errors."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import civis_dyn
from civis_dyn import RetryPolicy

KEY = "integration-key"


class ScriptedServer(ThreadingHTTPServer):
    """A tiny loopback API: counts connections and requests, answers from a script."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.requests = []
        self.script = []          # (status, headers, body) answered first, in order
        self.lock = threading.Lock()
        self.items = [{"id": i, "name": f"thing {i}"} for i in range(1, 8)]

    def get_request(self):
        conn = super().get_request()
        with self.lock:
            self.connections += 1
        return conn

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, *args):
        pass

    def _send(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self):
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with server.lock:
            server.requests.append((self.command, self.path))
            scripted = server.script.pop(0) if server.script else None
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self._send(401, {"errorDescription": "Invalid API key"})
        if scripted is not None:
            status, headers, body = scripted
            return self._send(status, body, headers)
        path, _, query = self.path.partition("?")
        if path.startswith("/things/") and path != "/things/":
            thing_id = int(path.rsplit("/", 1)[1])
            return self._send(200, {"id": thing_id, "name": f"thing {thing_id}"})
        if path == "/things/":
            params = dict(p.split("=") for p in query.split("&") if p)
            limit, page = int(params.get("limit", 3)), int(params.get("page_num", 1))
            items = server.items[(page - 1) * limit: page * limit]
            pages = -(-len(server.items) // limit)
            return self._send(200, items, [("X-Pagination-Total-Pages", str(pages)),
                                           ("X-Pagination-Per-Page", str(limit))])
        return self._send(404, {"errorDescription": "not found"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


@pytest.fixture
def server():
    srv = ScriptedServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture
def client(server, mini_spec_path):
    sleeps = []
    c = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), base_url=server.url,
                            retries=RetryPolicy(backoff_base=0.01, sleep=sleeps.append))
    c.sleeps = sleeps
    return c


def test_one_tcp_connection_for_100_sequential_calls(server, client):
    for i in range(100):
        assert client.things.get(i).id == i
    assert server.connections == 1 and len(server.requests) == 100


def test_8_threads_x_50_calls_on_one_client(server, client):
    errors, results = [], {}

    def work(worker):
        try:
            for i in range(50):
                n = worker * 1000 + i
                results[n] = client.things.get(n).id
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(results) == 400 and all(k == v for k, v in results.items())
    assert server.connections <= 8


def test_retry_after_is_honoured_over_http(server, client):
    server.script = [(429, [("Retry-After", "3")], {"errorDescription": "slow down"}),
                     (503, [], {"errorDescription": "busy"})]
    assert client.things.get(5).id == 5
    assert len(server.requests) == 3
    assert client.sleeps[0] >= 3 and len(client.sleeps) == 2


def test_post_is_not_repeated_after_a_502(server, client):
    server.script = [(502, [], {"errorDescription": "bad gateway"})]
    with pytest.raises(civis_dyn.CivisAPIError, match=r"\(502\) bad gateway \(POST /things/\)"):
        client.things.post("n", 1)
    assert [r for r in server.requests if r[0] == "POST"] == [("POST", "/things/")]


def test_pagination_makes_exactly_one_request_per_page(server, client):
    items = list(client.things.list(iterator=True, limit=3))
    assert [i.id for i in items] == list(range(1, 8))
    assert len(server.requests) == 3  # 7 items, 3 per page: 3 pages, no extra empty page


def test_pagination_recovers_from_a_failed_page(server, client):
    iterator = client.things.list(iterator=True, limit=3)
    first = [next(iterator) for _ in range(3)]
    server.script = [(503, [], {"errorDescription": "busy"})]
    rest = list(iterator)
    assert [i.id for i in first + rest] == list(range(1, 8))


@pytest.mark.parametrize("status, body, error, text", [
    (404, {"errorDescription": "not found"}, civis_dyn.CivisAPIError, "(404) not found (GET /things/1)"),
    (401, {"errorDescription": "Invalid API key"}, civis_dyn.CivisAPIKeyError, "(401) Invalid API key"),
    (500, b"<html>boom</html>", civis_dyn.CivisAPIError, "(500) Internal Server Error: <html>boom"),
    (200, b'{"id": 1, "na', civis_dyn.InvalidResponseError, "not valid JSON"),
])
def test_every_error_type_over_http(server, client, status, body, error, text):
    server.script = [(status, [], body)]
    with pytest.raises(error) as info:
        client.things.get(1)
    assert text in str(info.value) and KEY not in str(info.value)


def test_connection_refused_is_a_civis_connection_error(mini_spec_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = []
    client = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path),
                                 base_url=f"http://127.0.0.1:{port}/",
                                 retries=RetryPolicy(max_attempts=3, sleep=sleeps.append))
    with pytest.raises(civis_dyn.CivisConnectionError, match="after 3 attempts"):
        client.things.post("n", 1)  # not sent: retried even for POST
    assert len(sleeps) == 2
