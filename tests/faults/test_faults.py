"""Faults over real HTTP on 127.0.0.1: every verb against every fault.

The expected behaviour is the retry policy of issue 3, written out here on its
own (not read from :class:`civis_dyn.RetryPolicy`): 429/502/503/504 are
retried for GET, PUT and DELETE; only 429 and 503 (answered before the server
acts) for POST and PATCH; a connection that failed after the request was sent
(reset, cut body, read timeout) is retried only for idempotent verbs; 500,
401 and a broken body are never retried. The loopback server acts before it
misbehaves (except for 401/429/503), so counting what it did shows that no
POST or PATCH was ever applied twice.
"""

import email.utils
import random
import re
import threading
import time

import pytest

import civis_dyn

IDEMPOTENT = {"GET", "PUT", "DELETE"}
HOLD_TIMEOUT = 0.25   # the client's read timeout where the server holds its answer

# verb -> (path on the server, call, check of the result)
CALLS = {
    "GET": ("/things/1", lambda c: c.things.get(1), lambda r: r.id == 1),
    "POST": ("/things/", lambda c: c.things.post("fresh thing", 0), lambda r: r.name == "fresh thing"),
    "PUT": ("/things/2", lambda c: c.things.put(2, "replaced", 5), lambda r: r.name == "replaced"),
    "PATCH": ("/things/3", lambda c: c.things.patch(3, name="patched"), lambda r: r.name == "patched"),
    "DELETE": ("/things/4/runs/9", lambda c: c.things.delete_runs(4, 9), lambda r: r == {}),
}


def effects(server, verb):
    """How many times the server applied the verb's action."""
    return {"GET": 0, "POST": server.creations.count("fresh thing"), "PUT": len(server.puts),
            "PATCH": len(server.patches), "DELETE": len(server.deletions)}[verb]


def http_date(seconds_from_now):
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


# fault id -> (server action, retried for which verbs, did the server act, error, message pattern)
FAULTS = {
    "429-seconds": ((429, {"Retry-After": "7"}), "all", False, None, None),
    "429-http-date": ("429-date", "all", False, None, None),
    "500": (500, "none", True, civis_dyn.CivisAPIError, r"^\(500\) status 500 \({verb} {path}\)$"),
    "502": (502, "idempotent", True, civis_dyn.CivisAPIError, r"^\(502\) status 502 \({verb} {path}\)$"),
    "503": ((503, {"Retry-After": "2"}), "all", False, None, None),
    "504": (504, "idempotent", True, civis_dyn.CivisAPIError, r"^\(504\) status 504 \({verb} {path}\)$"),
    "html-502": ("html", "idempotent", True, civis_dyn.CivisAPIError,
                 r"^\(502\) Bad Gateway: <!DOCTYPE html><html><head><title>502 Bad Gateway</title>"
                 r".*\({verb} {path}\)$"),
    "401": (401, "none", False, civis_dyn.CivisAPIKeyError, r"^\(401\) status 401 \({verb} {path}\)$"),
    "reset-before-response": ("reset", "idempotent", True, civis_dyn.CivisConnectionError,
                              r"^{verb} {path}: ConnectionError: .*(reset|aborted)"),
    "close-mid-body": ("close_mid_body", "idempotent", True, civis_dyn.CivisConnectionError,
                       r"^{verb} {path}: \w+: .*(IncompleteRead|broken|closed)"),
    "reset-mid-body": ("reset_mid_body", "idempotent", True, civis_dyn.CivisConnectionError,
                       r"^{verb} {path}: \w+: .*(reset|IncompleteRead|broken|aborted)"),
    "read-timeout": ("hold", "idempotent", True, civis_dyn.CivisTimeoutError,
                     r"^{verb} {path}: ReadTimeout: .*[Rr]ead timed out"),
    "truncated-json": ("truncate", "none", True, civis_dyn.InvalidResponseError,
                       r"^\(200\) the response is not valid JSON: \{{.*\({verb} {path}\)$"),
}


def retried(policy, verb):
    return policy == "all" or (policy == "idempotent" and verb in IDEMPOTENT)


def server_action(action):
    if action == "429-date":
        return (429, {"Retry-After": http_date(30)})
    return action


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("verb", list(CALLS))
def test_each_verb_under_each_fault(loopback, make_client, clock, tally, verb, fault):
    path, call, is_expected = CALLS[verb]
    action, retry_for, acted, error, pattern = FAULTS[fault]
    loopback.plan(verb, path, server_action(action))
    client = make_client(loopback.url, read_timeout=HOLD_TIMEOUT if action == "hold" else 5.0,
                         backoff_base=0.01)
    tally.fault()
    if retried(retry_for, verb):
        assert is_expected(call(client))
        assert loopback.count(verb, path) == 2 and len(clock.sleeps) == 1
        # acted and retried: only idempotent verbs may be applied twice
        assert effects(loopback, verb) == (0 if verb == "GET" else 1 + acted)
        if verb not in IDEMPOTENT:
            assert effects(loopback, verb) == 1
    else:
        with pytest.raises(error) as info:
            call(client)
        assert info.type is error
        assert re.search(pattern.format(verb=verb, path=path), str(info.value)), str(info.value)
        assert loopback.count(verb, path) == 1 and clock.sleeps == []
        assert effects(loopback, verb) == (1 if acted and verb != "GET" else 0)
    # the client keeps working after the fault
    assert client.things.get(5).id == 5


@pytest.mark.parametrize("verb", list(CALLS))
def test_retry_after_in_seconds_is_honoured(loopback, make_client, clock, tally, verb):
    path, call, is_expected = CALLS[verb]
    loopback.plan(verb, path, (429, {"Retry-After": "7"}), (503, {"Retry-After": "3"}))
    tally.fault(2)
    assert is_expected(call(make_client(loopback.url, backoff_base=0.01)))
    assert loopback.count(verb, path) == 3
    assert 7 <= clock.sleeps[0] <= 7.02 and 3 <= clock.sleeps[1] <= 3.03


@pytest.mark.parametrize("verb", list(CALLS))
def test_retry_after_as_an_http_date_is_honoured(loopback, make_client, clock, tally, verb):
    path, call, is_expected = CALLS[verb]
    loopback.plan(verb, path, (503, {"Retry-After": http_date(40)}))
    tally.fault()
    assert is_expected(call(make_client(loopback.url, backoff_base=0.01)))
    # an HTTP date has a 1 s resolution, and the request took a little time
    assert len(clock.sleeps) == 1 and 38 <= clock.sleeps[0] <= 40.1


@pytest.mark.parametrize("verb", list(CALLS))
def test_persistent_503_stops_after_max_attempts_within_the_time_budget(loopback, make_client, clock,
                                                                        tally, verb):
    path, call, _ = CALLS[verb]
    loopback.plan(verb, path, *[(503, {"Retry-After": "5"})] * 10)
    tally.fault(5)
    with pytest.raises(civis_dyn.CivisAPIError, match=r"^\(503\) status 503") as info:
        call(make_client(loopback.url, max_attempts=5, max_elapsed=60, backoff_base=1))
    assert info.value.status_code == 503
    assert loopback.count(verb, path) == 5 and len(clock.sleeps) == 4
    assert all(5 <= s <= 8 for s in clock.sleeps) and sum(clock.sleeps) <= 60
    assert effects(loopback, verb) == 0


@pytest.mark.parametrize("verb", list(CALLS))
def test_total_retry_time_is_bounded_by_max_elapsed(loopback, make_client, clock, tally, verb):
    path, call, _ = CALLS[verb]
    loopback.plan(verb, path, *[(429, {"Retry-After": "20"})] * 10)
    tally.fault(3)
    with pytest.raises(civis_dyn.CivisAPIError, match=r"^\(429\)"):
        call(make_client(loopback.url, max_attempts=10, max_elapsed=50, backoff_base=0.01))
    # waits of 20 s: a third would pass 50 s, so it gives up after the third answer
    assert loopback.count(verb, path) == 3 and sum(clock.sleeps) <= 50


@pytest.mark.parametrize("action, error, reason", [
    ("reset", civis_dyn.CivisConnectionError, "ConnectionError"),
    ("close_mid_body", civis_dyn.CivisConnectionError, "ChunkedEncodingError"),
    ("hold", civis_dyn.CivisTimeoutError, "ReadTimeout"),
])
@pytest.mark.parametrize("verb", sorted(IDEMPOTENT))
def test_persistent_connection_faults_end_after_max_attempts_with_a_clear_error(
        loopback, make_client, clock, tally, verb, action, error, reason):
    path, call, _ = CALLS[verb]
    loopback.plan(verb, path, *[action] * 3)
    tally.fault(3)
    client = make_client(loopback.url, read_timeout=HOLD_TIMEOUT if action == "hold" else 5.0,
                         max_attempts=3, backoff_base=0.5)
    with pytest.raises(error, match=rf"^{verb} {re.escape(path)}: {reason} after 3 attempts: ") as info:
        call(client)
    assert info.type is error
    assert loopback.count(verb, path) == 3 and len(clock.sleeps) == 2
    assert all(0 <= s <= 1.0 for s in clock.sleeps)      # full jitter within 0.5 * 2**(n-1)


def test_a_retry_after_beyond_the_budget_fails_at_once(loopback, make_client, clock, tally):
    loopback.plan("GET", "/things/1", (429, {"Retry-After": "3600"}))
    tally.fault()
    with pytest.raises(civis_dyn.CivisAPIError, match=r"^\(429\) status 429 \(GET /things/1\)$"):
        make_client(loopback.url, max_elapsed=600).things.get(1)
    assert clock.sleeps == [] and loopback.count("GET", "/things/1") == 1


@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_connection_errors_before_sending_respect_the_time_budget(make_client, clock, tally, verb):
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


def test_a_wrong_key_is_never_retried(loopback, make_client, clock, tally):
    client = make_client(loopback.url, key="not-the-key")
    for verb, (path, call, _) in CALLS.items():
        tally.fault()
        with pytest.raises(civis_dyn.CivisAPIKeyError,
                           match=rf"^\(401\) Invalid API key \({verb} {path}\)$"):
            call(client)
        assert loopback.count(verb, path) == 1
    assert clock.sleeps == [] and loopback.creations == []


# -- pagination under faults ------------------------------------------------------------
@pytest.mark.parametrize("action", [(503, {"Retry-After": "1"}), 502, 429, "reset", "close_mid_body",
                                    "hold", "html"])
@pytest.mark.parametrize("page", ["1", "2", "3"])
def test_a_page_that_fails_once_yields_every_item_once_in_order(loopback, make_client, clock, tally,
                                                                 action, page):
    loopback.plan("GET", "/things/", action, page=page)
    client = make_client(loopback.url, read_timeout=HOLD_TIMEOUT if action == "hold" else 5.0,
                         backoff_base=0.01)
    tally.fault()
    items = list(client.things.list(iterator=True, limit=3))
    assert [i.id for i in items] == [1, 2, 3, 4, 5, 6, 7]
    pages = [r.query["page_num"] for r in loopback.requests if r.path == "/things/"]
    expected = ["1", "2", "3"]
    expected.insert(expected.index(page), page)
    assert pages == expected and len(clock.sleeps) == 1


@pytest.mark.parametrize("action", [500, "truncate", (503, {})])
def test_a_page_that_fails_for_good_can_be_resumed_by_the_caller(loopback, make_client, tally, action):
    loopback.plan("GET", "/things/", action, page="2")
    iterator = make_client(loopback.url, max_attempts=1).things.list(iterator=True, limit=3)
    seen = [next(iterator).id for _ in range(3)]
    tally.fault()
    with pytest.raises((civis_dyn.CivisAPIError, civis_dyn.CivisConnectionError)):
        next(iterator)
    seen += [i.id for i in iterator]          # asks for page 2 again, then page 3
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    pages = [r.query["page_num"] for r in loopback.requests if r.path == "/things/"]
    assert pages == ["1", "2", "2", "3"]


# -- nothing lost, nothing duplicated under load --------------------------------------
def test_concurrent_posts_under_random_faults_create_each_thing_at_most_once(loopback, make_client,
                                                                             tally):
    actions = [(429, {"Retry-After": "0"}), 503, 500, 502, "reset", "truncate", None, None]
    loopback.plan("POST", "/things/", *(actions * 12))
    client = make_client(loopback.url, read_timeout=2.0, max_attempts=3, backoff_base=0.001)
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
    tally.fault(loopback.faults_injected)
    assert len(outcomes) == 96
    for name, outcome in outcomes.items():
        made = loopback.creations.count(name)
        if isinstance(outcome, str):
            assert outcome == name and made == 1          # succeeded: created exactly once
        else:
            assert made <= 1                              # failed: never created twice
    # the server acts on every POST except those answered 429/503, so "at most one creation
    # per name" means no POST was repeated after the server may have acted on it
    assert loopback.count("POST", "/things/") > 96       # 429/503 answers were retried
    assert any(not isinstance(o, str) for o in outcomes.values())


def test_a_request_that_can_never_be_sent_is_not_retried(loopback, mini_spec_path, clock, tally,
                                                         api_key):
    client = civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path),
                                 base_url="ftp://127.0.0.1:9/",
                                 retries=civis_dyn.RetryPolicy(sleep=clock.sleep, clock=clock))
    tally.fault()
    with pytest.raises(civis_dyn.CivisConnectionError,
                       match=r"^GET /things/1: InvalidSchema: No connection adapters") as info:
        client.things.get(1)
    assert info.value.reason == "invalid" and info.value.__context__ is None
    assert clock.sleeps == [] and loopback.requests == []


def test_a_header_that_can_never_be_sent_is_refused_at_once(loopback, mini_spec_path, tally,
                                                            api_key):
    tally.fault()
    with pytest.raises(civis_dyn.ArgumentValueError, match="user_agent must not contain control"):
        civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path), base_url=loopback.url,
                            user_agent="bad\nagent")
    assert loopback.requests == []
