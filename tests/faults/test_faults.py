"""Faults over real HTTP on 127.0.0.1: every verb against every fault.

The server is the shipped :class:`civis_dyn.testing.LocalCivisAPI`; its
:class:`civis_dyn.testing.Faults` injects each fault. The expected behaviour
is the retry policy of issue 3, written out here on its own (not read from
:class:`civis_dyn.RetryPolicy`): 429/502/503/504 are retried for GET, PUT and
DELETE; only 429 and 503 (answered before the server acts) for POST and
PATCH; a connection that failed after the request was sent (reset, cut body,
read timeout) is retried only for idempotent verbs; 500, 401 and a broken body
are never retried. The gateway errors (500/502/504, the HTML page) are injected
*after* the API handled the request (``handled=True``), as behind a real load
balancer, so counting the things created shows that no POST was ever applied
twice.
"""

import re
import threading
from collections import Counter

import pytest

import civis_dyn
from civis_dyn.testing import Fault

IDEMPOTENT = {"GET", "PUT", "DELETE"}
HOLD_TIMEOUT = 0.5    # the client's read timeout where the server holds its answer (0.25 s flaked
#                      when a loaded machine took that long to answer a request not held)

# verb -> (path the client calls, call, check of the result)
CALLS = {
    "GET": ("/things/1", lambda c: c.things.get(1), lambda r: r.id == 1),
    "POST": ("/things/", lambda c: c.things.post("fresh thing", 0), lambda r: r.name == "fresh thing"),
    "PUT": ("/things/2", lambda c: c.things.put(2, "replaced", 5), lambda r: r.name == "replaced"),
    "PATCH": ("/things/3", lambda c: c.things.patch(3, name="patched"), lambda r: r.name == "patched"),
    "DELETE": ("/things/4/runs/9", lambda c: c.things.delete_runs(4, 9), lambda r: r == {}),
}


def served(path):
    """The path as the server logs it (no trailing slash)."""
    return path.rstrip("/")


def created(api, name="fresh thing"):
    """How many things named ``name`` the server holds (each POST that it acted on made one)."""
    return things(api)[name]


def things(api):
    """Names of the things the server holds, counted (read with a client of its own)."""
    return Counter(t.name for t in api.client(retries=0).things.list(iterator=True, limit=50))


def injected(status, template=r"Injected fault: {status} [A-Za-z ]+"):
    return r"^\({status}\) ".format(status=status) + template.format(status=status) + r" \({verb} {path}\)$"


# fault id -> (server action, retried for which verbs, did the server act, error, message pattern)
FAULTS = {
    "429-seconds": (Fault("status", 429, retry_after="7"), "all", False, None, None),
    "429-http-date": (Fault("status", 429, retry_after=30, http_date=True), "all", False, None, None),
    "500": (Fault("status", 500, handled=True), "none", True, civis_dyn.CivisAPIError, injected(500)),
    "502": (Fault("status", 502, handled=True), "idempotent", True, civis_dyn.CivisAPIError,
            injected(502)),
    "503": (Fault("status", 503, retry_after="2"), "all", False, None, None),
    "504": (Fault("status", 504, handled=True), "idempotent", True, civis_dyn.CivisAPIError,
            injected(504)),
    "html-502": (Fault("html", handled=True), "idempotent", True, civis_dyn.CivisAPIError,
                 r"^\(502\) Bad Gateway: <!DOCTYPE html>.*\({verb} {path}\)$"),
    "401": (401, "none", False, civis_dyn.CivisAPIKeyError, injected(401)),
    "drop-before-body": ("drop", "idempotent", False, civis_dyn.CivisConnectionError,
                         r"^{verb} {path}: ConnectionError: .*(aborted|reset|closed)"),
    "reset-before-response": ("reset", "idempotent", True, civis_dyn.CivisConnectionError,
                              r"^{verb} {path}: ConnectionError: .*(reset|aborted)"),
    "close-mid-body": ("drop_body", "idempotent", True, civis_dyn.CivisConnectionError,
                       r"^{verb} {path}: \w+: .*(IncompleteRead|broken|closed)"),
    "reset-mid-body": ("reset_body", "idempotent", True, civis_dyn.CivisConnectionError,
                       r"^{verb} {path}: \w+: .*(reset|IncompleteRead|broken|aborted)"),
    "read-timeout": ("hold", "idempotent", True, civis_dyn.CivisTimeoutError,
                     r"^{verb} {path}: ReadTimeout: .*[Rr]ead timed out"),
    "truncated-json": ("truncate", "none", True, civis_dyn.InvalidResponseError,
                       r"^\(20\d\) the response is not valid JSON: \{{.*\({verb} {path}\)$"),
}


def retried(policy, verb):
    return policy == "all" or (policy == "idempotent" and verb in IDEMPOTENT)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("verb", list(CALLS))
def test_each_verb_under_each_fault(local_api, make_client, clock, tally, verb, fault):
    path, call, is_expected = CALLS[verb]
    action, retry_for, acted, error, pattern = FAULTS[fault]
    local_api.faults.script(verb, path, [action])
    client = make_client(local_api.url, read_timeout=HOLD_TIMEOUT if action == "hold" else 5.0,
                         backoff_base=0.01)
    tally.fault()
    if retried(retry_for, verb):
        assert is_expected(call(client))
        assert local_api.count(verb, served(path)) == 2 and len(clock.sleeps) == 1
        if verb == "POST":      # only the retry acted: 429 and 503 are answered before acting
            assert not acted and created(local_api) == 1
    else:
        with pytest.raises(error) as info:
            call(client)
        assert info.type is error
        assert re.search(pattern.format(verb=verb, path=path), str(info.value)), str(info.value)
        assert local_api.count(verb, served(path)) == 1 and clock.sleeps == []
        if verb == "POST":
            assert created(local_api) == (1 if acted else 0)
    assert local_api.faults.pending() == 0
    # the client keeps working after the fault
    assert client.things.get(5).id == 5


@pytest.mark.parametrize("verb", list(CALLS))
def test_retry_after_in_seconds_is_honoured(local_api, make_client, clock, tally, verb):
    path, call, is_expected = CALLS[verb]
    local_api.faults.script(verb, path, [Fault("status", 429, retry_after="7"),
                                         Fault("status", 503, retry_after="3")])
    tally.fault(2)
    assert is_expected(call(make_client(local_api.url, backoff_base=0.01)))
    assert local_api.count(verb, served(path)) == 3
    assert 7 <= clock.sleeps[0] <= 7.02 and 3 <= clock.sleeps[1] <= 3.03


@pytest.mark.parametrize("verb", list(CALLS))
def test_retry_after_as_an_http_date_is_honoured(local_api, make_client, clock, tally, verb):
    path, call, is_expected = CALLS[verb]
    local_api.faults.script(verb, path, [Fault("status", 503, retry_after=40, http_date=True)])
    tally.fault()
    assert is_expected(call(make_client(local_api.url, backoff_base=0.01)))
    # an HTTP date has a 1 s resolution, and the request took a little time
    assert len(clock.sleeps) == 1 and 38 <= clock.sleeps[0] <= 40.1


@pytest.mark.parametrize("verb", list(CALLS))
def test_persistent_503_stops_after_max_attempts_within_the_time_budget(local_api, make_client, clock,
                                                                        tally, verb):
    path, call, _ = CALLS[verb]
    local_api.faults.script(verb, path, [Fault("status", 503, retry_after="5")] * 10)
    tally.fault(5)
    with pytest.raises(civis_dyn.CivisAPIError, match=r"^\(503\) Injected fault: 503") as info:
        call(make_client(local_api.url, max_attempts=5, max_elapsed=60, backoff_base=1))
    assert info.value.status_code == 503
    assert local_api.count(verb, served(path)) == 5 and len(clock.sleeps) == 4
    assert all(5 <= s <= 8 for s in clock.sleeps) and sum(clock.sleeps) <= 60
    assert created(local_api) == 0


@pytest.mark.parametrize("verb", list(CALLS))
def test_total_retry_time_is_bounded_by_max_elapsed(local_api, make_client, clock, tally, verb):
    path, call, _ = CALLS[verb]
    local_api.faults.script(verb, path, [Fault("status", 429, retry_after="20")] * 10)
    tally.fault(3)
    with pytest.raises(civis_dyn.CivisAPIError, match=r"^\(429\)"):
        call(make_client(local_api.url, max_attempts=10, max_elapsed=50, backoff_base=0.01))
    # waits of 20 s: a third would pass 50 s, so it gives up after the third answer
    assert local_api.count(verb, served(path)) == 3 and sum(clock.sleeps) <= 50


@pytest.mark.parametrize("action, error, reason", [
    ("reset", civis_dyn.CivisConnectionError, "ConnectionError"),
    ("reset_body", civis_dyn.CivisConnectionError, "ChunkedEncodingError"),
    ("drop_body", civis_dyn.CivisConnectionError, "ChunkedEncodingError"),
    ("hold", civis_dyn.CivisTimeoutError, "ReadTimeout"),
])
@pytest.mark.parametrize("verb", sorted(IDEMPOTENT))
def test_persistent_connection_faults_end_after_max_attempts_with_a_clear_error(
        local_api, make_client, clock, tally, verb, action, error, reason):
    path, call, _ = CALLS[verb]
    local_api.faults.script(verb, path, [action] * 3)
    tally.fault(3)
    client = make_client(local_api.url, read_timeout=HOLD_TIMEOUT if action == "hold" else 5.0,
                         max_attempts=3, backoff_base=0.5)
    with pytest.raises(error, match=rf"^{verb} {re.escape(path)}: {reason} after 3 attempts: ") as info:
        call(client)
    assert info.type is error
    assert local_api.count(verb, served(path)) == 3 and len(clock.sleeps) == 2
    assert all(0 <= s <= 1.0 for s in clock.sleeps)      # full jitter within 0.5 * 2**(n-1)


@pytest.mark.parametrize("verb", list(CALLS))
def test_a_trickled_answer_arrives_whole_without_a_retry(local_api, make_client, clock, tally, verb):
    """An answer sent a few bytes at a time is slow, never silent: no read timeout fires."""
    path, call, is_expected = CALLS[verb]
    local_api.faults.script(verb, path, [Fault("trickle", delay=0.002)])
    tally.fault()
    assert is_expected(call(make_client(local_api.url, read_timeout=HOLD_TIMEOUT)))
    assert local_api.count(verb, served(path)) == 1 and clock.sleeps == []


def test_a_retry_after_beyond_the_budget_fails_at_once(local_api, make_client, clock, tally):
    local_api.faults.script("GET", "/things/1", [Fault("status", 429, retry_after="3600")])
    tally.fault()
    with pytest.raises(civis_dyn.CivisAPIError,
                       match=r"^\(429\) Injected fault: 429 Too Many Requests \(GET /things/1\)$"):
        make_client(local_api.url, max_elapsed=600).things.get(1)
    assert clock.sleeps == [] and local_api.count("GET", "/things/1") == 1


@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_connection_errors_before_sending_respect_the_time_budget(make_client, clock, tally, verb):
    import random
    import socket

    with socket.socket() as s:  # a port nobody listens on: refused before anything is sent
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}/", max_attempts=50, max_elapsed=5,
                         backoff_base=2, backoff_max=2, rng=random.Random(7))
    tally.fault()
    with pytest.raises(civis_dyn.CivisConnectionError, match=rf"^{verb} /things/\S*: ConnectionError "
                                                          rf"after \d+ attempts: .*refused"):
        CALLS[verb][1](client)
    # waits of up to 2 s within a 5 s budget: retried, and no wait started past the budget
    assert len(clock.sleeps) >= 2 and sum(clock.sleeps) <= 5


def test_a_wrong_key_is_never_retried(local_api, make_client, clock, tally):
    client = make_client(local_api.url, key="not-the-key")
    for verb, (path, call, _) in CALLS.items():
        tally.fault()
        with pytest.raises(civis_dyn.CivisAPIKeyError,
                           match=rf"^\(401\) Missing or invalid API key.* \({verb} {path}\)$"):
            call(client)
        assert local_api.count(verb, served(path)) == 1
    assert clock.sleeps == [] and local_api.created("/things") == 0


# -- pagination under faults ------------------------------------------------------------
@pytest.mark.parametrize("action", [Fault("status", 503, retry_after=1), Fault("status", 502),
                                    Fault("status", 429), "reset", "drop_body", "reset_body",
                                    "hold", "html"], ids=str)
@pytest.mark.parametrize("page", [1, 2, 3])
def test_a_page_that_fails_once_yields_every_item_once_in_order(local_api, make_client, clock, tally,
                                                                 action, page):
    local_api.faults.script("GET", "/things", [None] * (page - 1) + [action])
    client = make_client(local_api.url, read_timeout=HOLD_TIMEOUT if action == "hold" else 5.0,
                         backoff_base=0.01)
    tally.fault()
    items = list(client.things.list(iterator=True, limit=3))
    assert [i.id for i in items] == [1, 2, 3, 4, 5, 6, 7]
    pages = [r.query["page_num"] for r in local_api.requests if r.path == "/things"]
    expected = ["1", "2", "3"]
    expected.insert(page - 1, str(page))
    assert pages == expected and len(clock.sleeps) == 1


@pytest.mark.parametrize("action", [Fault("status", 500), "truncate", Fault("status", 503)], ids=str)
def test_a_page_that_fails_for_good_can_be_resumed_by_the_caller(local_api, make_client, tally, action):
    local_api.faults.script("GET", "/things", [None, action])
    iterator = make_client(local_api.url, max_attempts=1).things.list(iterator=True, limit=3)
    seen = [next(iterator).id for _ in range(3)]
    tally.fault()
    with pytest.raises((civis_dyn.CivisAPIError, civis_dyn.CivisConnectionError)):
        next(iterator)
    seen += [i.id for i in iterator]          # asks for page 2 again, then page 3
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    pages = [r.query["page_num"] for r in local_api.requests if r.path == "/things"]
    assert pages == ["1", "2", "2", "3"]


# -- nothing lost, nothing duplicated under load --------------------------------------
def test_concurrent_posts_under_random_faults_create_each_thing_at_most_once(local_api, make_client,
                                                                             tally):
    actions = [Fault("status", 429, retry_after=0), Fault("status", 503, retry_after=0),
               Fault("status", 500, handled=True), Fault("status", 502, handled=True), "reset",
               "truncate", None, None]
    local_api.faults.script("POST", "/things", actions * 12)
    client = make_client(local_api.url, read_timeout=2.0, max_attempts=3, backoff_base=0.001)
    outcomes = {}

    def work(worker):
        for i in range(12):
            name = f"w{worker}-{i}"
            try:
                outcomes[name] = client.things.post(name, worker).name
            except (civis_dyn.CivisAPIError, civis_dyn.CivisConnectionError) as exc:
                outcomes[name] = exc

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert local_api.faults.pending() == 0                # every scripted fault was served
    tally.fault(sum(a is not None for a in actions) * 12)
    assert len(outcomes) == 96
    made = things(local_api)
    for name, outcome in outcomes.items():
        if isinstance(outcome, str):
            assert outcome == name and made[name] == 1      # succeeded: created exactly once
        else:
            assert made[name] <= 1                        # failed: never created twice
    # the server acts on every POST except those answered 429/503, so "at most one creation
    # per name" means no POST was repeated after the server may have acted on it
    assert local_api.count("POST", "/things") > 96       # 429/503 answers were retried
    assert any(not isinstance(o, str) for o in outcomes.values())


def test_a_request_that_can_never_be_sent_is_not_retried(local_api, mini_spec_path, clock, tally,
                                                         api_key):
    import dataclasses

    from civis_dyn._config import ClientConfig
    from civis_dyn._pipeline import SyncDriver

    with pytest.raises(civis_dyn.ArgumentValueError, match="base_url must be an http"):
        civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path),
                            base_url="ftp://127.0.0.1:9/")
    driver = SyncDriver.from_config(ClientConfig.resolve(
        api_key=api_key, base_url=local_api.url,
        retries=civis_dyn.RetryPolicy(sleep=clock.sleep, clock=clock)))
    request = dataclasses.replace(driver.plan("GET", "/things/1"), url="ftp://127.0.0.1:9/things/1")
    tally.fault()
    with pytest.raises(civis_dyn.CivisConnectionError,
                       match=r"^GET /things/1: InvalidSchema: No connection adapters") as info:
        driver.send(request)
    assert info.value.reason == "invalid" and info.value.__context__ is None
    assert clock.sleeps == [] and local_api.requests == []


def test_a_header_that_can_never_be_sent_is_refused_at_once(local_api, mini_spec_path, tally,
                                                            api_key):
    tally.fault()
    with pytest.raises(civis_dyn.ArgumentValueError, match="user_agent must not contain control"):
        civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path), base_url=local_api.url,
                            user_agent="bad\nagent")
    assert local_api.requests == []
