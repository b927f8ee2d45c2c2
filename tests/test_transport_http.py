"""Transport over real HTTP on 127.0.0.1: connection reuse, threads, retries, pagination, errors.

The server is the ``local_api`` fixture (the shipped LocalCivisAPI); faults come
from its :class:`civis_dyn.testing.Faults`.
"""
import threading

import pytest

import civis_dyn
from civis_dyn import RetryPolicy
from civis_dyn.testing import Fault


@pytest.fixture
def client(local_api, mini_spec_path, clock, api_key):
    return civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path), base_url=local_api.url,
                               retries=RetryPolicy(backoff_base=0.01, sleep=clock.sleep, clock=clock))


def test_one_tcp_connection_for_100_sequential_calls(local_api, client):
    for i in range(100):
        assert client.things.get(i % 7 + 1).id == i % 7 + 1
    assert local_api.connections == 1 and local_api.count() == 100


def test_8_threads_x_50_calls_on_one_client(local_api, client):
    errors, results = [], {}

    def work(worker):
        try:
            for i in range(50):
                n = worker * 1000 + i
                results[n] = (n % 7 + 1, client.things.get(n % 7 + 1).id)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(results) == 400 and all(asked == got for asked, got in results.values())
    assert local_api.connections <= 8


def test_retry_after_is_honoured_over_http(local_api, client, clock):
    local_api.faults.script("GET", "/things/5", [Fault("status", 429, retry_after=3),
                                                 Fault("status", 503)])
    assert client.things.get(5).id == 5
    assert local_api.count("GET", "/things/5") == 3
    assert clock.sleeps[0] >= 3 and len(clock.sleeps) == 2


def test_post_is_not_repeated_after_a_502(local_api, client):
    local_api.faults.script("POST", "/things", [Fault("status", 502, handled=True)])
    with pytest.raises(civis_dyn.CivisAPIError,
                       match=r"\(502\) Injected fault: 502 Bad Gateway \(POST /things/\)"):
        client.things.post("n", 1)
    assert local_api.count("POST", "/things") == 1 and local_api.created("/things") == 1


def test_pagination_makes_exactly_one_request_per_page(local_api, client):
    items = list(client.things.list(iterator=True, limit=3))
    assert [i.id for i in items] == list(range(1, 8))
    assert local_api.count() == 3  # 7 items, 3 per page: 3 pages, no extra empty page


def test_pagination_recovers_from_a_failed_page(local_api, client):
    iterator = client.things.list(iterator=True, limit=3)
    first = [next(iterator) for _ in range(3)]
    local_api.faults.script("GET", "/things", [Fault("status", 503)])
    rest = list(iterator)
    assert [i.id for i in first + rest] == list(range(1, 8))


@pytest.mark.parametrize("fault, error, text", [
    (Fault("status", 404), civis_dyn.CivisAPIError, "(404) Injected fault: 404 Not Found (GET /things/1)"),
    (Fault("status", 401), civis_dyn.CivisAPIKeyError, "(401) Injected fault: 401 Unauthorized"),
    (Fault("html", status=500), civis_dyn.CivisAPIError, "(500) Internal Server Error: <!DOCTYPE html>"),
    ("truncate", civis_dyn.InvalidResponseError, "not valid JSON"),
], ids=["404", "401", "html-500", "truncated-json"])
def test_every_error_type_over_http(local_api, client, api_key, fault, error, text):
    local_api.faults.script("GET", "/things/1", [fault])
    with pytest.raises(error) as info:
        client.things.get(1)
    assert text in str(info.value) and api_key not in str(info.value)


def test_connection_refused_is_a_civis_connection_error(mini_spec_path, clock, api_key):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path),
                                 base_url=f"http://127.0.0.1:{port}/",
                                 retries=RetryPolicy(max_attempts=3, sleep=clock.sleep, clock=clock))
    with pytest.raises(civis_dyn.CivisConnectionError, match="after 3 attempts"):
        client.things.post("n", 1)  # not sent: retried even for POST
    assert len(clock.sleeps) == 2
