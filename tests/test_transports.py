"""The Transport seam: HTTPTransport over real HTTP, the local API in process, custom transports."""
import pickle

import pytest

import civis_dyn
from civis_dyn import HTTPRequest, HTTPResponse, HTTPTransport, RetryPolicy
from civis_dyn.testing import LocalCivisAPI

KEY = "transport-test-key-42"


@pytest.fixture
def api(mini_spec_path):
    with LocalCivisAPI(spec=mini_spec_path, api_key=KEY) as api:
        yield api


def request(api, method="GET", path="/things/1", key=KEY, **kw):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return HTTPRequest(method, api.url + path.lstrip("/"), path, headers, timeout=(5, 5), **kw)


def test_the_public_types_are_exported():
    assert isinstance(HTTPTransport(), civis_dyn.Transport)
    names = {"HTTPRequest", "HTTPResponse", "HTTPTransport", "Transport", "RetryPolicy"}
    assert names <= set(civis_dyn.__all__)


# -- HTTPTransport: the wire only ------------------------------------------------------------------
def test_http_transport_returns_every_answer_whatever_its_status(api):
    transport = HTTPTransport()
    body = b'{"name":"n","fromTemplateId":1}'
    created = transport.send(request(api, "POST", "/things/", body=body))
    assert created.status == 200 and created.json()["name"] == "n"
    missing = transport.send(request(api, "GET", "/things/999"))
    assert isinstance(missing, HTTPResponse) and missing.status_code == 404 and not missing.ok
    assert missing.json()["error"] and missing.reason == "Not Found"
    refused = transport.send(request(api, key=None))
    assert refused.status == 401  # the transport adds no credentials
    assert "Authorization" not in transport.session.headers
    transport.close()


def test_http_transport_errors_say_why_and_carry_nothing_from_requests():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = HTTPTransport()
    probe = HTTPRequest("GET", f"http://127.0.0.1:{port}/x", "/x",
                        {"Authorization": f"Bearer {KEY}"}, timeout=(2, 2))
    with pytest.raises(civis_dyn.CivisConnectionError) as info:
        transport.send(probe)
    error = info.value
    assert (error.reason, error.sent) == ("refused", False)
    assert error.__context__ is None and error.__cause__ is None and KEY not in str(error)


def test_http_transport_classifies_name_resolution_failures():
    import requests
    import urllib3

    from civis_dyn._transport import _connection_error

    dns = urllib3.exceptions.NameResolutionError("nowhere.invalid", None, OSError("no name"))
    wrapped = requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/x", reason=dns))
    assert _connection_error(wrapped).reason == "dns"
    assert _connection_error(requests.exceptions.ReadTimeout("slow")).reason == "timeout"
    invalid = _connection_error(requests.exceptions.InvalidURL("bad"))
    assert (invalid.reason, invalid.sent) == ("invalid", False)


def test_close_drops_pooled_connections_and_with_closes_the_client(api, mini_spec_path):
    with civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), base_url=api.url) as client:
        client.things.list()
        client.things.list()
        assert api.connections == 1
        client.close()
        client.things.list()          # a new connection: the pooled one was closed
        assert api.connections == 2
    assert client.meta.transport._session is None  # closed by ``with``


def test_a_transport_pickles_without_state():
    clone = pickle.loads(pickle.dumps(HTTPTransport(pool_size=3)))
    assert repr(clone) == "<HTTPTransport pool_size=3>"


def test_pool_size_is_checked():
    with pytest.raises(civis_dyn.ArgumentValueError, match="pool_size"):
        HTTPTransport(pool_size=0)


# -- the local API, in process -----------------------------------------------------------------
def test_local_api_in_process_needs_no_server(mini_spec_path):
    api = LocalCivisAPI(spec=mini_spec_path, api_key=KEY)   # never started
    client = api.client(in_process=True)
    thing = client.things.post("n", 1)
    assert client.things.get(thing.id).name == "n"
    assert [t.id for t in client.things.list(iterator=True)] == [thing.id]
    assert [(r.method, r.path, r.status) for r in api.requests][:2] == [
        ("POST", "/things", 200), ("GET", f"/things/{thing.id}", 200)]
    assert api.connections == 0
    with pytest.raises(civis_dyn.CivisAPIError) as info:
        client.things.get(999)
    assert info.value.status_code == 404


def test_local_api_in_process_checks_the_key_and_injects_faults(mini_spec_path, clock):
    api = LocalCivisAPI(spec=mini_spec_path, api_key=KEY)
    wrong = civis_dyn.APIClient("wrong-key", local_api_spec=str(mini_spec_path),
                                transport=api.transport())
    with pytest.raises(civis_dyn.CivisAPIKeyError):
        wrong.things.list()
    client = api.client(in_process=True, retries=RetryPolicy(sleep=clock.sleep, clock=clock))
    api.faults.script("GET", "/things", ["drop", "drop_body", 503, None])
    assert client.things.list() == []
    assert len(clock.sleeps) == 3 and [r.status for r in api.requests[-4:]] == [None, 200, 503, 200]
    api.faults.script("POST", "/things", ["drop_body"])
    with pytest.raises(civis_dyn.CivisConnectionError, match="cut after"):
        client.things.post("n", 1)   # the server may have acted: a POST is not sent again


def test_any_object_with_send_and_close_is_a_transport(mini_spec_path):
    class Canned:
        def __init__(self):
            self.requests = []

        def send(self, request):
            self.requests.append(request)
            return HTTPResponse(200, {"Content-Type": "application/json"}, b'{"id": 5}')

        def close(self):
            pass

    canned = Canned()
    client = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), transport=canned)
    assert client.things.get(5).id == 5
    (sent,) = canned.requests
    assert sent.url == "https://api.civisanalytics.com/things/5" and sent.path == "/things/5"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    with pytest.raises(civis_dyn.ArgumentTypeError, match="transport must be a civis_dyn.Transport"):
        civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), transport=object())


def test_raw_return_type_gives_the_http_response_with_requests_like_attributes(api, mini_spec_path):
    client = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), base_url=api.url,
                                 return_type="raw")
    raw = client.things.post("n", 1)
    assert isinstance(raw, HTTPResponse) and raw.status_code == 200 and raw.ok
    assert raw.json()["name"] == "n" and '"name":"n"' in raw.text.replace(" ", "")
    assert raw.headers["content-type"].startswith("application/json")
    assert client.meta.call("things", "get", raw.json()["id"]).name == "n"  # features get Responses


def test_netrc_never_replaces_the_key_and_proxies_are_read_once(api, mini_spec_path, tmp_path,
                                                                 monkeypatch):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone-else password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    client = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), base_url=api.url)
    assert client.things.list() == []      # requests would have sent the .netrc login instead
    transport = client.meta.transport
    assert transport.session.trust_env is False
    assert list(transport._settings) == [("http", api.url.split("//")[1].rstrip("/"))]
