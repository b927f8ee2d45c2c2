"""Hardening of the transport and pipeline (issue 17 items 2, 3, 4, 8, 9 and 16).

Redirects are followed only for a GET to the same origin; an attempt and a
call each have a deadline a trickling server cannot stretch (the schema
download too); an unreachable API fails within seconds; nothing reachable
from an error holds the key; the loopback exemption for plain http ends where
a proxy starts; ``close()`` really closes the pooled sockets.
"""

import gc
import socket
import time
import traceback

import pytest
from scaffold.errors import exception_chain

import civis_dyn
from civis_dyn import RetryPolicy
from civis_dyn.testing import Fault, RequestRecord


def client_for(base_url, mini_spec_path, api_key, **kwargs):
    return civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path), base_url=base_url,
                               **kwargs)


# -- 2. redirects ---------------------------------------------------------------------------
def _redirect(api, method, path, location):
    """Answer the next ``method path`` request of ``api`` with ``302 Location: location``."""
    api.faults.script(method, path, [Fault("answer", 302, headers={"Location": location})])


def test_a_same_origin_redirect_of_a_get_is_followed(local_api, mini_spec_path, api_key, tally):
    _redirect(local_api, "GET", "/things/1", local_api.url + "things/2")
    tally.fault()
    assert client_for(local_api.url, mini_spec_path, api_key).things.get(1).id == 2
    assert [(r.path, r.status) for r in local_api.requests] == [("/things/1", 302),
                                                                ("/things/2", 200)]
    assert all(r.auth == RequestRecord.auth_of(api_key) for r in local_api.requests)


def test_a_redirect_of_a_post_is_refused_and_nothing_is_sent_again(local_api, mini_spec_path,
                                                                   api_key, tally):
    _redirect(local_api, "POST", "/things/", local_api.url + "things/")
    tally.fault()
    with pytest.raises(civis_dyn.RedirectError, match=r"POST /things/ \(only GET is redirected\)"):
        client_for(local_api.url, mini_spec_path, api_key).things.post("secret", 1)
    assert [r.method for r in local_api.requests] == ["POST"]
    assert local_api.created("/things/") == 0


def test_a_redirect_to_another_port_is_refused(local_api, mini_spec_path, api_key, tally):
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(spec=mini_spec_path, api_key=api_key) as other:
        _redirect(local_api, "GET", "/things/1", other.url + "things/1")
        tally.fault()
        with pytest.raises(civis_dyn.RedirectError, match="another origin") as info:
            client_for(local_api.url, mini_spec_path, api_key).things.get(1)
        assert info.value.location == other.url + "things/1" and other.requests == []
        assert local_api.count() == 1


# -- 3. deadlines -----------------------------------------------------------------------------
def trickling_thing(api, delay=0.05):
    """Seed a thing whose answer takes about 12 s when the next GET of it trickles."""
    thing = api.seed("/things", {"name": "x" * 4000})
    api.faults.random(1.0, actions=(Fault("trickle", delay=delay),),
                      paths=[f"/things/{thing['id']}"])
    return thing["id"]


def test_a_trickling_answer_ends_within_the_attempts_time(local_api, mini_spec_path, api_key,
                                                           tally):
    thing = trickling_thing(local_api)
    client = client_for(local_api.url, mini_spec_path, api_key, timeout=(0.5, 0.5), retries=0)
    tally.fault()
    started = time.monotonic()
    with pytest.raises(civis_dyn.CivisTimeoutError, match="still arriving"):
        client.things.get(thing)       # the whole answer would take about 12 s
    assert time.monotonic() - started < 3


def test_retries_end_at_the_calls_deadline(local_api, mini_spec_path, api_key, tally):
    thing = trickling_thing(local_api)
    policy = RetryPolicy(max_attempts=10, max_elapsed=1.5, backoff_base=0)
    client = client_for(local_api.url, mini_spec_path, api_key, timeout=(1, 1), retries=policy)
    tally.fault()
    started = time.monotonic()
    with pytest.raises(civis_dyn.CivisTimeoutError):
        client.things.get(thing)
    assert time.monotonic() - started < 3.5
    assert 1 <= local_api.count("GET", f"/things/{thing}") <= 2


def test_the_schema_download_ends_within_its_budget(local_api, mini_spec_path, api_key,
                                                    monkeypatch, tally):
    from civis_dyn.spec import _source

    monkeypatch.setattr(_source, "SPEC_RETRY_SECONDS", 1.0)
    local_api.faults.random(1.0, actions=("hold",), paths=["/endpoints"])  # read, never answer
    client = client_for(local_api.url, mini_spec_path, api_key)   # default timeouts (10, 300)
    tally.fault()
    started = time.monotonic()
    with pytest.raises(civis_dyn.CivisTimeoutError):
        _source.download_schema(client.meta.driver, "1.0", time.time)
    assert time.monotonic() - started < 3
    assert local_api.count("GET", "/endpoints") >= 1


# -- 4. an unreachable API fails fast --------------------------------------------------------
def test_a_name_that_does_not_resolve_is_not_retried(mini_spec_path, api_key, clock, tally):
    client = client_for("https://nonexistent-host.invalid/", mini_spec_path, api_key,
                        retries=RetryPolicy(sleep=clock.sleep, clock=clock))
    tally.fault()
    with pytest.raises(civis_dyn.CivisConnectionError) as info:
        client.things.get(1)
    assert info.value.reason == "dns" and clock.sleeps == []


def test_a_refused_connection_is_tried_three_times_within_seconds(mini_spec_path, api_key, clock,
                                                                   tally, caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = client_for(f"http://127.0.0.1:{port}/", mini_spec_path, api_key,
                        retries=RetryPolicy(backoff_base=60, sleep=clock.sleep, clock=clock))
    tally.fault()
    with pytest.raises(civis_dyn.CivisConnectionError, match="after 3 attempts") as info:
        client.things.post("n", 1)   # never sent: retried even for a POST
    assert info.value.reason == "refused" and len(clock.sleeps) == 2 and sum(clock.sleeps) <= 2


def test_a_long_retry_wait_is_logged_at_info(local_api, mini_spec_path, api_key, clock, tally,
                                             caplog):
    local_api.faults.script("GET", "/things/1", [Fault("status", 429, retry_after="20")])
    client = client_for(local_api.url, mini_spec_path, api_key,
                        retries=RetryPolicy(sleep=clock.sleep, clock=clock))
    tally.fault()
    with caplog.at_level("INFO", logger="civis_dyn.transport"):
        assert client.things.get(1).id == 1
    (record,) = [r for r in caplog.records if r.name == "civis_dyn.transport"]
    assert record.levelname == "INFO" and "GET /things/1: HTTP 429; retrying in 20.0 s" in (
        record.getMessage())


# -- 8. the key is unreachable from errors ------------------------------------------------------
def reachable_texts(error):
    """Everything an error shows, with the locals of every civis_dyn frame of its traceback."""
    for exc in exception_chain(error):
        tb = exc.__traceback__
        while tb is not None and "/tests/" in tb.tb_frame.f_code.co_filename.replace("\\", "/"):
            tb = tb.tb_next   # the test's own frame holds the key as a fixture value
        yield "".join(traceback.TracebackException(type(exc), exc, tb, capture_locals=True)
                      .format())
        response = getattr(exc, "response", None)
        if response is not None:
            yield repr(response)
            yield repr(dict(response.headers))


@pytest.mark.parametrize("action, kind", [("reset", civis_dyn.CivisConnectionError),
                                          ("drop_body", civis_dyn.CivisConnectionError),
                                          (404, civis_dyn.CivisAPIError)])
def test_nothing_reachable_from_an_error_holds_the_key(local_api, mini_spec_path, api_key, clock,
                                                       assert_no_key, tally, action, kind):
    local_api.faults.script("GET", "/things/1", [action] * 2)
    client = client_for(local_api.url, mini_spec_path, api_key,
                        retries=RetryPolicy(max_attempts=2, sleep=clock.sleep, clock=clock))
    tally.fault()
    with pytest.raises(kind) as info:
        client.things.get(1)
    error = info.value
    assert error.__context__ is None and error.__cause__ is None
    assert getattr(getattr(error, "response", None), "request", None) is None
    for text in reachable_texts(error):
        assert_no_key(text, "an error's traceback with locals")
    transport = client.meta.transport
    assert_no_key(repr(vars(transport)), "vars(transport)")
    assert_no_key(repr(dict(transport.session.headers)), "session.headers")


# -- 9. no loopback exemption through a proxy -----------------------------------------------------
def test_plain_http_to_loopback_through_a_proxy_is_refused(local_api, mini_spec_path, api_key,
                                                           monkeypatch, tally):
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "CIVIS_DYN_ALLOW_INSECURE_HTTP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.test:3128")
    tally.bad_input()
    with pytest.raises(civis_dyn.InsecureTransportError, match="through a proxy"):
        client_for(local_api.url, mini_spec_path, api_key).things.get(1)
    assert local_api.requests == []
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")      # not proxied: direct, allowed
    assert client_for(local_api.url, mini_spec_path, api_key).things.get(1).id == 1


# -- 16. close() closes the pooled sockets ---------------------------------------------------------
def open_sockets_to(port):
    gc.collect()
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, socket.socket) and obj.fileno() != -1:
            try:
                if obj.getpeername()[1] == port:
                    found.append(obj)
            except OSError:
                pass
    return found


def test_close_closes_pooled_sockets_even_while_errors_are_alive(local_api, mini_spec_path, api_key,
                                                                 clock, tally):
    port = local_api.port
    local_api.faults.script("GET", "/things/2", ["reset", "reset"])
    errors = []
    with client_for(local_api.url, mini_spec_path, api_key,
                    retries=RetryPolicy(max_attempts=2, sleep=clock.sleep, clock=clock)) as client:
        assert client.things.get(1).id == 1
        for call in (lambda: client.things.get(2), lambda: client.things.get(999)):
            try:
                call()
            except civis_dyn.CivisDynError as exc:
                errors.append(exc)             # kept alive on purpose
        assert open_sockets_to(port)
    tally.fault(2)
    assert len(errors) == 2 and open_sockets_to(port) == []
