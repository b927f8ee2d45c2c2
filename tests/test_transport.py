"""Transport: retries per verb, Retry-After, bounds, error mapping, insecure http, secrets."""
import email.utils
import time

import pytest
import requests
import urllib3

import civis_dyn
from civis_dyn import RetryPolicy
from civis_dyn._pipeline import parse_retry_after

BASE = "https://api.example.test"
KEY = "super-secret-key-42"


@pytest.fixture
def client(mini_spec_path, clock):
    def make(**policy):
        retries = RetryPolicy(**policy, sleep=clock.sleep, clock=clock)
        return civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), base_url=BASE,
                                   retries=retries)
    return make


def statuses(*codes, final_json=None):
    return [{"status_code": c, "json": {"errorDescription": f"status {c}"}} for c in codes] + (
        [{"status_code": 200, "json": final_json or {"id": 1}}])


@pytest.mark.parametrize("status", [429, 502, 503, 504])
@pytest.mark.parametrize("verb, call", [
    ("GET", lambda c: c.things.get(1)),
    ("PUT", lambda c: c.things.put(1, "n", 2)),
    ("DELETE", lambda c: c.things.delete_runs(1, 2)),
])
def test_idempotent_verbs_retry_429_and_5xx_gateway_errors(client, clock, requests_mock, verb, call,
                                                            status):
    url = f"{BASE}/things/1" if verb != "DELETE" else f"{BASE}/things/1/runs/2"
    requests_mock.register_uri(verb, url, statuses(status, status))
    call(client())
    assert requests_mock.call_count == 3 and len(clock.sleeps) == 2


@pytest.mark.parametrize("status, attempts", [(429, 2), (503, 2), (502, 1), (504, 1), (500, 1)])
def test_post_retries_only_answers_given_before_acting(client, requests_mock, status, attempts):
    requests_mock.post(f"{BASE}/things/", statuses(status))
    c = client()
    if attempts == 1:
        with pytest.raises(civis_dyn.CivisAPIError) as info:
            c.things.post("n", 1)
        assert info.value.status_code == status
    else:
        assert c.things.post("n", 1).id == 1
    assert requests_mock.call_count == attempts


def test_500_is_not_retried_for_get(client, requests_mock):
    requests_mock.get(f"{BASE}/things/1", statuses(500))
    with pytest.raises(civis_dyn.CivisAPIError, match=r"^\(500\) status 500 \(GET /things/1\)$"):
        client().things.get(1)
    assert requests_mock.call_count == 1


def test_retry_after_seconds_is_a_minimum_wait(client, clock, requests_mock):
    requests_mock.get(f"{BASE}/things/1", [
        {"status_code": 429, "headers": {"Retry-After": "7"}}, {"status_code": 200, "json": {}}])
    client(backoff_base=0.001).things.get(1)
    assert clock.sleeps and clock.sleeps[0] >= 7


def test_retry_after_http_date():
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= parse_retry_after(future) <= 31
    assert parse_retry_after("garbage") is None and parse_retry_after("0") == 0


def test_full_jitter_backoff_grows_and_is_capped():
    policy = RetryPolicy(backoff_base=1.0, backoff_max=5.0)
    for attempt, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 5.0)]:
        waits = [policy.delay(attempt) for _ in range(200)]
        assert 0 <= min(waits) and max(waits) <= cap
        assert max(waits) > cap * 0.5  # jitter spans the range


def test_attempts_are_bounded(client, clock, requests_mock):
    requests_mock.get(f"{BASE}/things/1", status_code=503, json={"errorDescription": "down"})
    with pytest.raises(civis_dyn.CivisAPIError, match=r"\(503\) down"):
        client(max_attempts=4).things.get(1)
    assert requests_mock.call_count == 4 and len(clock.sleeps) == 3


def test_total_retry_time_is_bounded(client, clock, requests_mock):
    requests_mock.get(f"{BASE}/things/1", status_code=429, headers={"Retry-After": "100"})
    with pytest.raises(civis_dyn.CivisAPIError):
        client(max_elapsed=250).things.get(1)
    assert sum(clock.sleeps) <= 250 and requests_mock.call_count == 3


def test_connection_errors_before_sending_are_retried_for_post(client, clock, requests_mock):
    requests_mock.post(f"{BASE}/things/", [
        {"exc": requests.exceptions.ConnectTimeout}, {"status_code": 200, "json": {"id": 1}}])
    assert client().things.post("n", 1).id == 1
    assert requests_mock.call_count == 2


def test_read_errors_are_retried_only_for_idempotent_verbs(client, requests_mock):
    requests_mock.get(f"{BASE}/things/1", [
        {"exc": requests.exceptions.ReadTimeout}, {"status_code": 200, "json": {"id": 1}}])
    assert client().things.get(1).id == 1
    requests_mock.post(f"{BASE}/things/", exc=requests.exceptions.ConnectionError("reset"))
    with pytest.raises(civis_dyn.CivisConnectionError, match=r"POST /things/: ConnectionError"):
        client().things.post("n", 1)
    assert requests_mock.request_history[-1].method == "POST"
    assert sum(r.method == "POST" for r in requests_mock.request_history) == 1


def test_timeouts_raise_civis_timeout_error(client, requests_mock):
    requests_mock.get(f"{BASE}/things/1", exc=requests.exceptions.ReadTimeout)
    with pytest.raises(civis_dyn.CivisTimeoutError) as info:
        client(max_attempts=2).things.get(1)
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, ConnectionError)
    assert "after 2 attempts" in str(info.value)


def test_401_raises_api_key_error(client, requests_mock):
    requests_mock.get(f"{BASE}/things/1", status_code=401, reason="Unauthorized",
                      json={"errorDescription": "The API key is invalid"})
    with pytest.raises(civis_dyn.CivisAPIKeyError) as info:
        client().things.get(1)
    error = info.value
    assert isinstance(error, civis_dyn.CivisAPIError)
    assert (error.status_code, error.error_message) == (401, "The API key is invalid")
    assert error.response.status_code == 401
    assert KEY not in str(error) and KEY not in repr(error)


def test_404_message_reads_like_the_api(client, requests_mock):
    requests_mock.get(f"{BASE}/things/1", status_code=404,
                      json={"errorDescription": "The requested resource could not be found"})
    with pytest.raises(civis_dyn.CivisAPIError) as info:
        client().things.get(1)
    assert str(info.value) == "(404) The requested resource could not be found (GET /things/1)"


def test_error_without_json_body_uses_reason_and_snippet(client, requests_mock):
    requests_mock.get(f"{BASE}/things/1", status_code=500, reason="Internal Server Error",
                      text="<html><body>Oops</body></html>")
    with pytest.raises(civis_dyn.CivisAPIError, match=r"\(500\) Internal Server Error: <html><body>Oops"):
        client().things.get(1)


@pytest.mark.parametrize("body", ['{"id": 1, "name": "tru', "<html>maintenance</html>", "not json"])
def test_invalid_json_raises_invalid_response_error_not_json_decode_error(client, requests_mock, body):
    requests_mock.get(f"{BASE}/things/1", status_code=200, text=body)
    with pytest.raises(civis_dyn.InvalidResponseError) as info:
        client().things.get(1)
    assert info.value.status_code == 200 and body[:10] in info.value.error_message
    assert not isinstance(info.value, ValueError)


def test_key_over_plain_http_to_remote_host_is_refused(mini_spec_path, requests_mock, monkeypatch):
    monkeypatch.delenv("CIVIS_DYN_ALLOW_INSECURE_HTTP", raising=False)
    client = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), base_url="http://api.example.test/")
    with pytest.raises(civis_dyn.InsecureTransportError, match="allow_insecure_http=True") as info:
        client.things.get(1)
    assert KEY not in str(info.value) and requests_mock.call_count == 0
    requests_mock.get("http://api.example.test/things/1", json={})
    civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), base_url="http://api.example.test/",
                        allow_insecure_http=True).things.get(1)
    monkeypatch.setenv("CIVIS_DYN_ALLOW_INSECURE_HTTP", "1")
    civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path),
                        base_url="http://api.example.test/").things.get(1)
    assert requests_mock.call_count == 2


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_plain_http_to_loopback_is_allowed(mini_spec_path, requests_mock, host):
    requests_mock.get(f"http://{host}:8000/things/1", json={"id": 1})
    client = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), base_url=f"http://{host}:8000")
    assert client.things.get(1).id == 1


def test_retries_accepts_urllib3_retry_and_int():
    policy = RetryPolicy.coerce(urllib3.util.Retry(total=3, status_forcelist=[500, 503],
                                                   allowed_methods=["GET"], backoff_factor=0.5))
    assert policy.max_attempts == 4 and policy.retries_status("GET", 500)
    assert not policy.retries_status("POST", 503)
    assert RetryPolicy.coerce(0).max_attempts == 1
    with pytest.raises(TypeError, match="RetryPolicy, a urllib3 Retry or an int"):
        RetryPolicy.coerce("lots")


def test_timeouts_are_configurable(mini_spec_path):
    default = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path))
    assert default.meta.driver.defaults.timeout == (10.0, 300.0)
    custom = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), timeout=(1, 2))
    assert custom.meta.driver.defaults.timeout == (1.0, 2.0)
    assert KEY not in repr(custom.meta.transport) and KEY not in repr(custom.meta.driver)


def test_a_request_may_use_its_own_policy(client, clock, requests_mock):
    requests_mock.get(f"{BASE}/things/1", status_code=503)
    c = client()
    with pytest.raises(civis_dyn.CivisAPIError):
        c.meta.request("GET", "/things/1", retries=RetryPolicy(max_attempts=2))
    assert requests_mock.call_count == 2


def test_schema_download_retries_briefly_before_falling_back(mini_spec_path, clock, requests_mock):
    from civis_dyn.spec import _source

    requests_mock.get(f"{BASE}/endpoints", exc=requests.exceptions.ConnectTimeout)
    client = civis_dyn.APIClient(KEY, local_api_spec=str(mini_spec_path), base_url=BASE,
                                 retries=RetryPolicy(sleep=clock.sleep, clock=clock))
    with pytest.raises(civis_dyn.CivisConnectionError):
        _source.download_schema(client.meta.driver, "1.0", time.time)
    assert sum(clock.sleeps) <= _source.SPEC_RETRY_SECONDS
