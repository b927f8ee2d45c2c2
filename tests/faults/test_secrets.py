"""Secrets: the API key never shows, wherever one might look.

Not in reprs, responses, exception text (chained causes and formatted
tracebacks included), DEBUG log records of ``civis_dyn``, ``urllib3`` and
``requests`` during a full scenario over loopback HTTP, the cache directory or
a pickle. Pickled clients read the key again from ``CIVIS_API_KEY``; plain
``http://`` to a host that is not loopback is refused unless allowed, checked
end to end through a proxy.
"""

import hashlib
import json
import logging
import pickle
import traceback

import pytest
from scaffold.errors import exception_chain

import civis_dyn
from civis_dyn import RetryPolicy
from civis_dyn.testing import Fault, LocalCivisAPI, RequestRecord

OTHER_KEY = "sk-OTHER-not-the-canary"


def exception_texts(error):
    """``(where, text)`` for everything an exception shows, its chained causes included."""
    for exc in exception_chain(error):
        name = type(exc).__name__
        yield f"str({name})", str(exc)
        yield f"repr({name})", repr(exc)
        yield f"{name}.args", repr(exc.args)
        yield f"traceback of {name}", "".join(traceback.format_exception(exc))
        response = getattr(exc, "response", None)
        if response is not None:
            yield f"{name}.response.text", response.text
            yield f"{name}.response.headers", repr(response.headers)
            yield f"repr({name}.response)", repr(response)
        if isinstance(exc, civis_dyn.CivisDynError):
            yield f"pickle of {name}", pickle.dumps(exc)


def check_exception(error, assert_no_key):
    for where, text in exception_texts(error):
        assert_no_key(text, where)


def check_response(response, assert_no_key):
    assert_no_key(repr(response), "repr(response)")
    assert_no_key(str(response), "str(response)")
    assert_no_key(repr(getattr(response, "headers", None)), "response.headers")
    if hasattr(response, "json"):
        assert_no_key(json.dumps(response.json()), "response.json()")
    assert_no_key(pickle.dumps(response), "pickle of the response")


def check_logs(caplog, assert_no_key):
    formatter = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        assert_no_key(record.getMessage(), f"log record of {record.name}")
        assert_no_key(repr(record.args), f"log record args of {record.name}")
        assert_no_key(formatter.format(record), f"formatted log record of {record.name}")


def check_directory(directory, key, assert_no_key):
    """Search every file (names and bytes) under ``directory``; return how many there were."""
    fingerprint = hashlib.sha256(key.encode()).hexdigest()
    files = [p for p in directory.rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        assert_no_key(str(path), "a cache file name")
        assert_no_key(data, f"cache file {path.name}")
        assert fingerprint.encode() not in data and fingerprint not in path.name
    return len(files)


@pytest.fixture
def debug_logs(caplog):
    """Capture DEBUG records of civis_dyn, urllib3 and requests (and everything else)."""
    caplog.set_level(logging.DEBUG)
    for name in ("civis_dyn", "urllib3", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cache"
    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(directory))
    return directory


@pytest.fixture
def served_schema(mini_spec_path, tmp_path):
    """The mini schema, made unique for this test (``scenario_api`` serves it)."""
    document = json.loads(mini_spec_path.read_text())
    document["info"]["version"] = f"secrets-{tmp_path.name}"
    return document


@pytest.fixture
def scenario_api(served_schema, api_key):
    """A :class:`LocalCivisAPI` serving ``served_schema`` at ``GET /endpoints``, with things 1..7."""
    with LocalCivisAPI(spec=served_schema, api_key=api_key) as api:
        for i in range(1, 8):
            api.seed("/things", {"name": f"thing {i}", "fromTemplateId": 0})
        api.seed("/things/4/runs", {"id": 9})
        yield api


def test_full_scenario_leaks_the_key_nowhere(scenario_api, served_schema, cache_dir, debug_logs, api_key,
                                             assert_no_key, tally, monkeypatch):
    monkeypatch.delenv("CIVIS_API_KEY", raising=False)
    policy = RetryPolicy(max_attempts=3, backoff_base=0.001)
    client = civis_dyn.APIClient(api_key, base_url=scenario_api.url, retries=policy, timeout=(2.0, 0.5))
    assert client.spec_info.source == "download"          # GET /endpoints with the key
    responses, errors = [], []

    def expect_error(kind, call):
        with pytest.raises(kind) as info:
            call()
        errors.append(info.value)

    # ordinary calls of every verb, and a paginated list
    responses += [client.things.get(1), client.things.post("made", 0), client.things.put(2, "r", 1),
                  client.things.patch(3, name="p"), client.things.delete_runs(4, 9)]
    responses += list(client.things.list(iterator=True, limit=3))
    responses.append(client.things.list(limit=2))
    # retried faults
    scenario_api.faults.script("GET", "/things/1", [Fault("status", 429, retry_after="0"),
                                                  "drop_body"])
    responses.append(client.things.get(1))
    # final errors of every kind
    scenario_api.faults.script("POST", "/things/", [Fault("status", 500, handled=True), "reset",
                                                 "hold", "truncate", Fault("html", handled=True)])
    expect_error(civis_dyn.CivisAPIError, lambda: client.things.post("a", 0))
    expect_error(civis_dyn.CivisConnectionError, lambda: client.things.post("b", 0))
    expect_error(civis_dyn.CivisTimeoutError, lambda: client.things.post("c", 0))
    expect_error(civis_dyn.InvalidResponseError, lambda: client.things.post("d", 0))
    expect_error(civis_dyn.CivisAPIError, lambda: client.things.post("e", 0))
    expect_error(civis_dyn.CivisAPIError, lambda: client.things.get(999))
    scenario_api.faults.script("GET", "/things/1", ["reset"] * 3)
    expect_error(civis_dyn.CivisConnectionError, lambda: client.things.get(1))
    expect_error(civis_dyn.ArgumentTypeError, lambda: client.things.get("one"))
    wrong = civis_dyn.APIClient(OTHER_KEY, base_url=scenario_api.url, local_api_spec=served_schema)
    expect_error(civis_dyn.CivisAPIKeyError, lambda: wrong.things.get(1))
    keyless = civis_dyn.APIClient(base_url=scenario_api.url, local_api_spec=served_schema)
    expect_error(civis_dyn.MissingAPIKeyError, lambda: keyless.things.get(1))
    remote = civis_dyn.APIClient(api_key, base_url="http://api.example.test/", local_api_spec=served_schema)
    expect_error(civis_dyn.InsecureTransportError, lambda: remote.things.get(1))
    raw = civis_dyn.APIClient(api_key, base_url=scenario_api.url, local_api_spec=served_schema,
                              return_type="raw")
    raw_response = raw.things.get(1)

    # the key was really used, and the logs really captured the traffic
    other = RequestRecord.auth_of(OTHER_KEY)
    assert all(r.auth == RequestRecord.auth_of(api_key) for r in scenario_api.requests
               if r.auth != other)
    assert scenario_api.count("GET", "/endpoints") == 1
    messages = [r.getMessage() for r in debug_logs.records]
    assert any(r.name.startswith("urllib3") and "GET /things/1" in r.getMessage()
               for r in debug_logs.records)
    assert any("retrying in" in m for m in messages) and len(errors) == 11

    for error in errors:
        check_exception(error, assert_no_key)
    for response in responses:
        check_response(response, assert_no_key)
    assert_no_key(raw_response.text, "raw response text")
    assert_no_key(repr(raw_response.headers), "raw response headers")
    for c in (client, wrong, keyless, remote, raw):
        assert_no_key(repr(c), "repr(client)")
        assert_no_key(repr(c.last_response), "client.last_response")
        assert_no_key(repr(vars(c)), "vars(client)")
        assert_no_key(pickle.dumps(c), "pickle of the client")
    check_logs(debug_logs, assert_no_key)
    assert check_directory(cache_dir, api_key, assert_no_key) >= 2   # the schema and its index
    assert scenario_api.faults.pending() == 0
    tally.fault(10)   # every scripted fault was injected


def test_reprs_of_client_transport_resources_and_methods_hide_the_key(mini_client, api_key,
                                                                      assert_no_key):
    client = mini_client(api_key=api_key)
    for where, value in [("client", client), ("transport", client.meta.transport),
                         ("driver", client.meta.driver), ("defaults", client.meta.driver.defaults),
                         ("resource", client.things), ("method", client.things.get),
                         ("spec_info", client.spec_info), ("config", client.meta.config),
                         ("dir(client)", dir(client))]:
        assert_no_key(repr(value), f"repr({where})")
        assert_no_key(str(value), f"str({where})")
    assert_no_key(repr(vars(client.meta.transport)), "vars(transport)")


# -- pickling: the key is never stored; it is read again from CIVIS_API_KEY -------------------
@pytest.mark.parametrize("schema_as", ["file", "dict"])
def test_a_pickled_client_reads_the_key_again_from_the_environment(local_api, mini_spec_path, api_key,
                                                                   assert_no_key, monkeypatch, tally,
                                                                   schema_as):
    monkeypatch.delenv("CIVIS_API_KEY", raising=False)
    spec = str(mini_spec_path) if schema_as == "file" else json.loads(mini_spec_path.read_text())
    client = civis_dyn.APIClient(api_key, local_api_spec=spec, base_url=local_api.url)
    assert client.things.get(1).id == 1
    data = pickle.dumps(client)
    assert_no_key(data, "pickle of the client")
    tally.bad_input()

    clone = pickle.loads(data)                 # no key in the environment
    with pytest.raises(civis_dyn.MissingAPIKeyError,
                       match="pass api_key= to APIClient or set the CIVIS_API_KEY environment variable"):
        clone.things.get(1)
    assert local_api.count() == 1 and dir(clone.things) == dir(client.things)

    monkeypatch.setenv("CIVIS_API_KEY", api_key)
    clone = pickle.loads(data)
    assert clone.things.get(2).id == 2 and clone.base_url == local_api.url
    assert local_api.requests[-1].auth == RequestRecord.auth_of(api_key)
    assert_no_key(pickle.dumps(clone), "pickle of the unpickled client")


def test_a_pickled_client_keeps_the_insecure_http_choice_but_not_the_key(mini_spec_path, api_key,
                                                                         monkeypatch, assert_no_key):
    monkeypatch.delenv("CIVIS_DYN_ALLOW_INSECURE_HTTP", raising=False)
    monkeypatch.setenv("CIVIS_API_KEY", api_key)
    allowed = civis_dyn.APIClient(local_api_spec=str(mini_spec_path), base_url="http://api.example.test/",
                                  allow_insecure_http=True)
    refused = civis_dyn.APIClient(local_api_spec=str(mini_spec_path), base_url="http://api.example.test/")
    for client in (allowed, refused):
        assert_no_key(pickle.dumps(client), "pickle of the client")
    assert pickle.loads(pickle.dumps(allowed)).meta.driver.defaults.refusal is None
    with pytest.raises(civis_dyn.InsecureTransportError):
        pickle.loads(pickle.dumps(refused)).things.get(1)


# -- keys that cannot be sent as they are -------------------------------------------------------
@pytest.mark.parametrize("spelled", [" {key}", "{key}\n", "\t{key}\r\n"])
def test_whitespace_around_the_key_is_stripped(local_api, mini_spec_path, api_key, monkeypatch, spelled):
    monkeypatch.setenv("CIVIS_API_KEY", spelled.format(key=api_key))    # e.g. read from a file
    client = civis_dyn.APIClient(local_api_spec=str(mini_spec_path), base_url=local_api.url)
    assert client.things.get(1).id == 1
    assert local_api.requests[-1].auth == RequestRecord.auth_of(api_key)


@pytest.mark.parametrize("spelled", ["{key}\nX-Injected: 1", "sk-{key}\x00", "{key} extra", "ключ-{key}"])
def test_a_key_that_cannot_be_a_header_is_refused_without_showing_it(local_api, mini_spec_path, api_key,
                                                                     assert_no_key, tally, spelled):
    client = civis_dyn.APIClient(spelled.format(key=api_key), local_api_spec=str(mini_spec_path),
                                 base_url=local_api.url)
    tally.bad_input()
    with pytest.raises(civis_dyn.MissingAPIKeyError, match="API key is not usable") as info:
        client.things.get(1)
    check_exception(info.value, assert_no_key)
    assert_no_key(repr(client.meta.transport), "repr(transport)")
    assert local_api.requests == []


def test_a_key_that_is_not_text_is_a_type_error(mini_spec_path, api_key, tally):
    tally.bad_input()
    with pytest.raises(TypeError, match="api_key must be a str, not bytes") as info:
        civis_dyn.APIClient(api_key.encode(), local_api_spec=str(mini_spec_path))
    assert api_key not in str(info.value)


# -- plain http to a remote host: refused unless allowed, end to end through a proxy -------------
@pytest.fixture
def via_proxy(local_api, monkeypatch):
    """Route http:// requests through the local API on 127.0.0.1, acting as a proxy.

    Nothing else answers for ``api.example.test``: a request that reaches it
    went through the proxy, in absolute form (the local API serves both forms).
    """
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", local_api.url.rstrip("/"))
    monkeypatch.setenv("http_proxy", local_api.url.rstrip("/"))
    monkeypatch.delenv("CIVIS_DYN_ALLOW_INSECURE_HTTP", raising=False)
    return local_api


def test_plain_http_to_a_remote_host_is_refused_before_sending(via_proxy, mini_spec_path, api_key,
                                                               assert_no_key, tally, monkeypatch):
    client = civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path),
                                 base_url="http://api.example.test/")
    tally.bad_input(2)
    with pytest.raises(civis_dyn.InsecureTransportError,
                       match=r"Refusing to send the API key over plain http to api\.example\.test: "
                             r"use https, or pass allow_insecure_http=True \(or set "
                             r"CIVIS_DYN_ALLOW_INSECURE_HTTP=1\)") as info:
        client.things.get(1)
    check_exception(info.value, assert_no_key)
    for value in ("0", "", "true"):   # only "1" allows
        monkeypatch.setenv("CIVIS_DYN_ALLOW_INSECURE_HTTP", value)
        with pytest.raises(civis_dyn.InsecureTransportError):
            civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path),
                                base_url="http://api.example.test/").things.get(1)
    assert via_proxy.requests == []


def test_plain_http_to_a_remote_host_works_when_allowed(via_proxy, mini_spec_path, api_key,
                                                        monkeypatch):
    allowed = civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path),
                                  base_url="http://api.example.test/", allow_insecure_http=True)
    assert allowed.things.get(1).id == 1
    monkeypatch.setenv("CIVIS_DYN_ALLOW_INSECURE_HTTP", "1")
    by_env = civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path),
                                 base_url="http://api.example.test/")
    assert by_env.things.get(2).id == 2
    key = RequestRecord.auth_of(api_key)
    assert [(r.path, r.host, r.auth, r.status) for r in via_proxy.requests] == [
        ("/things/1", "api.example.test", key, 200), ("/things/2", "api.example.test", key, 200)]


def test_a_redirect_to_another_host_is_not_followed(local_api, mini_spec_path, api_key,
                                                    assert_no_key, tally):
    local_api.faults.script("GET", "/things/1", [Fault(
        "answer", 302, headers={"Location": "http://elsewhere.example.test/things/1?token=x"})])
    client = civis_dyn.APIClient(api_key, local_api_spec=str(mini_spec_path),
                                 base_url=local_api.url)
    tally.fault()
    with pytest.raises(civis_dyn.RedirectError,
                       match=r"another origin: http://elsewhere\.example\.test/things/1") as info:
        client.things.get(1)
    check_exception(info.value, assert_no_key)
    assert info.value.location == "http://elsewhere.example.test/things/1"
    (first,) = local_api.requests
    assert (first.status, first.auth) == (302, RequestRecord.auth_of(api_key))
