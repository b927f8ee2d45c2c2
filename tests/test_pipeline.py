"""The sans-IO pipeline: planning, retry and redirect decisions, decoding. Pure functions, no I/O."""
import json
import random

import pytest

import civis_dyn
from civis_dyn import HTTPResponse, RetryPolicy
from civis_dyn._config import ClientConfig
from civis_dyn._http import Headers
from civis_dyn._pipeline import (
    RequestDefaults,
    SyncDriver,
    check_status,
    decode_json,
    decode_page,
    plan_request,
    redirect_request,
    retry_wait,
)

KEY = "pipeline-key-0123456789"
BASE = "https://api.example.test/"


def defaults(environ=None, **settings):
    settings.setdefault("api_key", KEY)
    settings.setdefault("base_url", BASE)
    return RequestDefaults.from_config(ClientConfig.resolve(environ={}, **settings),
                                       environ or {})


def response(status=200, body=b"", headers=None, reason=""):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return HTTPResponse(status, Headers(headers or {}), body, BASE, reason)


def get(path="/things/1", method="GET", **kw):
    return plan_request(defaults(), method, path, **kw)


# -- planning --------------------------------------------------------------------------------
def test_plan_builds_url_query_body_and_headers():
    request = plan_request(defaults(user_agent="me/1"), "POST", "/things/",
                           params={"a": 1}, json_body={"name": "n"}, headers={"If-None-Match": "x"})
    assert (request.method, request.url, request.path) == ("POST", BASE + "things/", "/things/")
    assert request.params == {"a": 1} and request.json() == {"name": "n"}
    assert request.body == b'{"name":"n"}'
    headers = request.headers
    assert headers["Authorization"] == f"Bearer {KEY}" and headers["If-None-Match"] == "x"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("me/1 civis-dyn/")
    assert request.timeout == (10.0, 300.0)
    assert KEY not in repr(request) and "<hidden>" in repr(request)


def test_plan_without_body_or_query_sends_neither():
    request = get(params={})
    assert request.params is None and request.body is None
    assert "Content-Type" not in request.headers


def test_job_and_run_ids_come_from_the_environment_read_once():
    d = defaults({"CIVIS_JOB_ID": "11", "CIVIS_RUN_ID": "22"})
    headers = plan_request(d, "GET", "/x").headers
    assert headers["X-Civis-Job-ID"] == "11" and headers["X-Civis-Run-ID"] == "22"


@pytest.mark.parametrize("settings, environ, error, message", [
    ({"api_key": None}, {}, civis_dyn.MissingAPIKeyError, "No Civis API key"),
    ({"api_key": "two words"}, {}, civis_dyn.MissingAPIKeyError, "not usable"),
    ({"base_url": "http://api.example.test/"}, {}, civis_dyn.InsecureTransportError, "plain http"),
    ({"base_url": "http://127.0.0.1:9/"}, {"HTTP_PROXY": "http://proxy:3128"},
     civis_dyn.InsecureTransportError, "through a proxy"),
])
def test_refusals_are_raised_by_every_plan(settings, environ, error, message):
    d = defaults(environ, **settings)
    for _ in range(2):  # a fresh exception each time
        with pytest.raises(error, match=message) as info:
            plan_request(d, "GET", "/things/1")
        assert KEY not in str(info.value)
    assert plan_request(d, "GET", "/things/1", networked=False).path == "/things/1"


@pytest.mark.parametrize("settings, environ", [
    ({"base_url": "http://127.0.0.1:9/"}, {}),
    ({"base_url": "http://localhost:9/"}, {"HTTP_PROXY": "http://p:1", "NO_PROXY": "localhost"}),
    ({"base_url": "http://api.example.test/", "allow_insecure_http": True}, {}),
    ({"base_url": "http://api.example.test/"}, {"CIVIS_DYN_ALLOW_INSECURE_HTTP": "1"}),
])
def test_plain_http_is_allowed_to_loopback_without_proxy_or_when_asked(settings, environ):
    assert defaults(environ, **settings).refusal is None


@pytest.mark.parametrize("timeout", ["10", 0, -1, float("nan"), (1, 2, 3), True])
def test_bad_timeouts_are_refused_naming_the_argument(timeout):
    with pytest.raises((civis_dyn.ArgumentTypeError, civis_dyn.ArgumentValueError),
                       match="timeout"):
        defaults(timeout=timeout)


def test_header_values_that_cannot_be_sent_are_refused_at_once():
    with pytest.raises(civis_dyn.ArgumentValueError, match="user_agent must be latin-1"):
        defaults(user_agent="agent ☃")
    with pytest.raises(civis_dyn.ArgumentValueError, match="CIVIS_JOB_ID"):
        defaults({"CIVIS_JOB_ID": "1\r\nX-Evil: 1"})


# -- retry decisions -------------------------------------------------------------------------
def policy(**kw):
    kw.setdefault("rng", random.Random(1))
    return RetryPolicy(**kw)


@pytest.mark.parametrize("method, status, retried", [
    ("GET", 503, True), ("GET", 429, True), ("GET", 502, True), ("GET", 500, False),
    ("GET", 404, False), ("GET", 200, False), ("POST", 503, True), ("POST", 429, True),
    ("POST", 502, False), ("PATCH", 504, False), ("DELETE", 504, True),
])
def test_statuses_are_retried_per_verb(method, status, retried):
    wait = retry_wait(policy(), get(method=method), 1, 0.0, response(status))
    assert (wait is not None) is retried


def test_retry_after_is_a_minimum_and_bounds_stop_retries():
    answer = response(429, headers={"Retry-After": "7"})
    assert retry_wait(policy(backoff_base=0.001), get(), 1, 0.0, answer) >= 7
    assert retry_wait(policy(max_attempts=3), get(), 3, 0.0, answer) is None
    assert retry_wait(policy(max_elapsed=10), get(), 1, 5.0, answer) is None  # 5 + 7 > 10


def error(reason, sent=True, kind=civis_dyn.CivisConnectionError):
    return kind("ConnectionError: x", reason=reason, sent=sent)


@pytest.mark.parametrize("method, failure, retried", [
    ("GET", error("reset"), True),
    ("POST", error("reset"), False),              # the server may have acted
    ("POST", error("other", sent=False), True),   # never sent: safe for any verb
    ("GET", error("timeout", kind=civis_dyn.CivisTimeoutError), True),
    ("GET", error("dns", sent=False), False),     # a new attempt cannot fix it
    ("GET", error("invalid", sent=False), False),
])
def test_connection_failures_are_retried_when_a_new_attempt_can_help(method, failure, retried):
    wait = retry_wait(policy(), get(method=method), 1, 0.0, error=failure)
    assert (wait is not None) is retried


def test_refused_connections_are_tried_a_few_times_quickly():
    refused = error("refused", sent=False)
    waits = [retry_wait(policy(backoff_base=30), get(), n, 0.0, error=refused) for n in (1, 2, 3)]
    assert waits[2] is None and all(w is not None and w <= 1.0 for w in waits[:2])


def test_jittered_backoff_grows_and_is_capped():
    p = RetryPolicy(backoff_base=1.0, backoff_max=5.0)
    for attempt, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 5.0)]:
        waits = [p.delay(attempt) for _ in range(200)]
        assert 0 <= min(waits) and max(waits) <= cap and max(waits) > cap * 0.5


@pytest.mark.parametrize("kw, message", [
    ({"max_attempts": "3"}, "'max_attempts' must be an int"),
    ({"max_attempts": 0}, "'max_attempts' must be >= 1"),
    ({"backoff_base": float("inf")}, "'backoff_base' must be a finite number"),
    ({"max_elapsed": "9"}, "'max_elapsed' must be a number"),
])
def test_bad_policies_are_refused_naming_the_field(kw, message):
    with pytest.raises((civis_dyn.ArgumentTypeError, civis_dyn.ArgumentValueError), match=message):
        RetryPolicy(**kw)


# -- redirects -------------------------------------------------------------------------------
def redirect(status, location):
    return response(status, headers={"Location": location})


def test_same_origin_get_redirects_are_followed_with_the_same_headers():
    request = get("/things/1", params={"a": 1})
    follow = redirect_request(request, redirect(302, "/things/2"))
    assert (follow.url, follow.path, follow.params) == (BASE + "things/2", "/things/2", {"a": 1})
    assert follow.headers == request.headers
    assert redirect_request(request, response(200)) is None
    with_query = redirect_request(request, redirect(301, BASE + "things/3?b=2"))
    assert with_query.url == BASE + "things/3?b=2" and with_query.params is None


@pytest.mark.parametrize("method, status, location, message", [
    ("GET", 302, "https://elsewhere.example.test/things/1", "another origin"),
    ("GET", 301, "http://api.example.test/things/1", "another origin"),        # https -> http
    ("GET", 302, "https://api.example.test:8443/things/1", "another origin"),  # another port
    ("POST", 307, "/things/2", "only GET is redirected"),
    ("DELETE", 308, "/things/2", "only GET is redirected"),
])
def test_other_redirects_are_refused_naming_the_location(method, status, location, message):
    with pytest.raises(civis_dyn.RedirectError, match=message) as info:
        redirect_request(get(method=method), redirect(status, location + "?secret=1"))
    assert info.value.location.endswith(location.lstrip("/")) and "secret" not in str(info.value)
    assert isinstance(info.value, civis_dyn.CivisAPIError) and info.value.status_code == status


def test_redirect_loops_end():
    with pytest.raises(civis_dyn.RedirectError, match="more than 5 redirects"):
        redirect_request(get(), redirect(302, "/things/1"), hops=5)


# -- decoding --------------------------------------------------------------------------------
def test_error_statuses_map_to_api_errors():
    with pytest.raises(civis_dyn.CivisAPIKeyError) as info:
        check_status(get(), response(401, {"errorDescription": "bad key"}, reason="Unauthorized"))
    assert str(info.value) == "(401) bad key (GET /things/1)"
    with pytest.raises(civis_dyn.CivisAPIError, match=r"^\(502\) Bad Gateway: <html>"):
        check_status(get(), response(502, b"<html>down</html>", reason="Bad Gateway"))
    check_status(get(), response(204))


@pytest.mark.parametrize("body", [b'{"id": 1, "na', b"<html>", b"[" * 100_000])
def test_bodies_that_are_not_json_raise_invalid_response_error(body):
    with pytest.raises(civis_dyn.InvalidResponseError, match="not valid JSON|nested too deeply") as info:
        decode_json(get(), response(200, body))
    assert info.value.path == "/things/1" and not isinstance(info.value, ValueError)


def test_decode_json_and_pages():
    assert decode_json(get(), response(200, {"id": 1})) == {"id": 1}
    assert decode_json(get(), response(204)) is None
    assert decode_page(get(), response(200, [1, 2])) == [1, 2]
    assert decode_page(get(), response(200, b"")) == []
    with pytest.raises(civis_dyn.InvalidResponseError, match="non-list"):
        decode_page(get(), response(200, {"id": 1}))


# -- the driver, over a scripted transport ---------------------------------------------------------
class ScriptedTransport:
    """Answers from a list (an exception is raised); records what it was sent."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []

    def send(self, request):
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        pass


def test_the_driver_runs_plan_send_decide_and_gives_up_with_a_clear_error(clock):
    transport = ScriptedTransport(response(503), error("reset"), response(200, {"id": 1}))
    driver = SyncDriver(transport, defaults(), policy(sleep=clock.sleep, clock=clock))
    assert driver.request("GET", "/things/1").json() == {"id": 1}
    assert len(transport.sent) == 3 and len(clock.sleeps) == 2

    transport = ScriptedTransport(*[error("reset")] * 3)
    driver = SyncDriver(transport, defaults(), policy(max_attempts=3, sleep=clock.sleep,
                                                      clock=clock))
    with pytest.raises(civis_dyn.CivisConnectionError) as info:
        driver.request("GET", "/things/1")
    assert str(info.value) == "GET /things/1: ConnectionError after 3 attempts: x"
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_the_driver_follows_same_origin_redirects_without_counting_attempts(clock):
    transport = ScriptedTransport(redirect(302, "/things/2"), response(200, {"id": 2}))
    driver = SyncDriver(transport, defaults(), policy(max_attempts=1, sleep=clock.sleep,
                                                      clock=clock))
    assert driver.request("GET", "/things/1").json() == {"id": 2}
    assert [r.path for r in transport.sent] == ["/things/1", "/things/2"]


def test_long_retry_waits_are_logged_at_info(clock, caplog):
    transport = ScriptedTransport(response(429, headers={"Retry-After": "30"}), response(200))
    driver = SyncDriver(transport, defaults(), policy(sleep=clock.sleep, clock=clock))
    with caplog.at_level("INFO", logger="civis_dyn.transport"):
        driver.request("GET", "/things/1")
    (record,) = caplog.records
    assert record.levelname == "INFO" and "HTTP 429; retrying in 30.0 s" in record.getMessage()


def test_attempts_is_the_send_loop_without_io():
    """Both drivers step through one generator: it yields requests and waits, returns the answer."""
    from civis_dyn._pipeline import Wait, attempts

    clock = [0.0]
    policy = civis_dyn.RetryPolicy(backoff_base=0.5, backoff_max=0.5, clock=lambda: clock[0],
                                   rng=__import__("random").Random(1))
    steps = attempts(policy, get())
    first = next(steps)
    assert first.method == "GET" and first.path == "/things/1"
    wait = steps.send((response(503), None))
    assert isinstance(wait, Wait) and 0 <= wait.seconds <= 0.5
    again = steps.send(None)
    assert again.url == first.url
    with pytest.raises(StopIteration) as done:
        steps.send((response(200, {"id": 1}), None))
    assert done.value.value.status == 200
