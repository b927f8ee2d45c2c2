"""HTTPTransport builds what a bare ``requests.Session`` would send, without its per-call costs.

The transport prepares requests itself (public requests API only) and reads
the environment once per origin, so these tests hold it to a bare Session
(``trust_env`` on) over a matrix of proxy, ``NO_PROXY``, CA-bundle, verify and
cert settings, and check that a change of the environment is seen by the next call.
"""
import itertools

import pytest
import requests
import requests_mock

from civis_dyn import HTTPRequest, HTTPTransport
from civis_dyn._transport import _ENVIRONMENT

URL = "https://api.example.com/jobs/1"
PROXIES = {"none": {}, "HTTPS_PROXY": {"HTTPS_PROXY": "http://proxy.corp:3128"},
           "https_proxy": {"https_proxy": "http://lower.corp:8080"},
           "ALL_PROXY": {"ALL_PROXY": "socks5://all.corp:1080"},
           "http only": {"HTTP_PROXY": "http://plain.corp:3128"}}
NO_PROXY = {"unset": None, "matching": "localhost,.example.com", "other": "other.org",
            "star": "*"}
BUNDLES = {"none": {}, "REQUESTS_CA_BUNDLE": {"REQUESTS_CA_BUNDLE": "/etc/ssl/a.pem"},
           "CURL_CA_BUNDLE": {"CURL_CA_BUNDLE": "/etc/ssl/b.pem"},
           "both": {"REQUESTS_CA_BUNDLE": "/etc/ssl/a.pem", "CURL_CA_BUNDLE": "/etc/ssl/b.pem"}}


@pytest.fixture
def clean_env(monkeypatch):
    for name in _ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _bare(request, session):
    """What ``session.request`` would send for ``request``: (PreparedRequest, send settings)."""
    prepared = session.prepare_request(requests.Request(
        request.method, request.url, params=request.params, data=request.body,
        headers=request.headers))
    settings = session.merge_environment_settings(prepared.url, {}, None, None, None)
    settings.pop("stream")
    return prepared, settings


def _ours(request, transport):
    return transport._prepare(transport.session, request)


@pytest.mark.parametrize("proxy,no_proxy,bundle", list(itertools.product(PROXIES, NO_PROXY,
                                                                          BUNDLES)))
@pytest.mark.parametrize("verify,cert", [(True, None), (False, None), ("/ca.pem", "/c.pem")])
def test_same_proxies_ca_verify_and_cert_as_a_bare_session(clean_env, tmp_path, proxy, no_proxy,
                                                           bundle, verify, cert):
    clean_env.setenv("HOME", str(tmp_path))  # no ~/.netrc
    for name, value in {**PROXIES[proxy], **BUNDLES[bundle]}.items():
        clean_env.setenv(name, value)
    if NO_PROXY[no_proxy] is not None:
        clean_env.setenv("NO_PROXY", NO_PROXY[no_proxy])
    bare = requests.Session()
    transport = HTTPTransport()
    for session in (bare, transport.session):
        session.verify, session.cert = verify, cert
    request = HTTPRequest("GET", URL, "/jobs/1", headers={"Authorization": "Bearer k"})
    (want, want_settings), (got, got_settings) = _bare(request, bare), _ours(request, transport)
    assert got_settings == want_settings
    assert (got.method, got.url, dict(got.headers), got.body) == (
        want.method, want.url, dict(want.headers), want.body)


@pytest.mark.parametrize("proxy", list(PROXIES))
@pytest.mark.parametrize("own", [{}, {"https": "http://mine.corp:1"},
                                 {"all": "http://all-mine:2", "no_proxy": "example.com"}])
def test_the_sessions_own_proxies_merge_as_a_bare_sessions_do(clean_env, tmp_path, proxy, own):
    clean_env.setenv("HOME", str(tmp_path))
    for name, value in PROXIES[proxy].items():
        clean_env.setenv(name, value)
    bare, transport = requests.Session(), HTTPTransport()
    for session in (bare, transport.session):
        session.proxies.update(own)
    request = HTTPRequest("GET", URL, "/jobs/1", headers={"Authorization": "Bearer k"})
    want = _bare(request, bare)[1]["proxies"]
    first = _ours(request, transport)[1]["proxies"]
    first["https"] = "http://changed-by-the-caller:9"   # each call gets its own dict
    assert first is not want and _ours(request, transport)[1]["proxies"] == want


@pytest.mark.parametrize("params", [None, {}, {"limit": 50, "page_num": 2},
                                    [("ids[]", 1), ("ids[]", 2)], {"name": "a b&c/é", "x": None},
                                    {"ids": [1, 2, None], "flag": True}, "raw=1&b=2"])
@pytest.mark.parametrize("url", [URL, "http://127.0.0.1:8080/files/a b/é", "https://API.example.com",
                                 "https://api.example.com/x?already=1"])
@pytest.mark.parametrize("method,body", [("GET", None), ("POST", b'{"a": 1}'), ("DELETE", None)])
def test_same_url_headers_and_body_as_a_bare_session(clean_env, params, url, method, body):
    request = HTTPRequest(method, url, "/x", params=params, body=body,
                          headers={"Authorization": "Bearer k", "Content-Type": "application/json"})
    want, _ = _bare(request, requests.Session())
    transport = HTTPTransport()
    for _ in range(2):  # the second call uses the caches
        got, _ = _ours(request, transport)
        assert (got.method, got.url, dict(got.headers), got.body) == (
            want.method, want.url, dict(want.headers), want.body)


def test_session_headers_cookies_and_hooks_are_kept(clean_env):
    transport = HTTPTransport()
    session = transport.session
    session.headers["User-Agent"] = "mine/1"
    session.cookies.set("sid", "abc", domain="api.example.com")
    session.hooks["response"].append(lambda r, *a, **k: r)
    request = HTTPRequest("GET", URL, "/jobs/1", headers={"Authorization": "Bearer k"})
    got, _ = _ours(request, transport)
    assert got.headers["User-Agent"] == "mine/1" and got.headers["Cookie"] == "sid=abc"
    assert got.hooks["response"] == session.hooks["response"]
    session.headers["User-Agent"] = "mine/2"  # a change of the session's headers is seen
    assert _ours(request, transport)[0].headers["User-Agent"] == "mine/2"


def test_an_environment_change_is_seen_by_the_next_call(clean_env):
    transport = HTTPTransport()
    request = HTTPRequest("GET", URL, "/jobs/1", headers={"Authorization": "Bearer k"})
    assert _ours(request, transport)[1]["proxies"] == {}
    clean_env.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert _ours(request, transport)[1]["proxies"]["https"] == "http://proxy.corp:3128"
    clean_env.setenv("NO_PROXY", "api.example.com")
    assert "https" not in _ours(request, transport)[1]["proxies"]
    clean_env.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/x.pem")
    assert _ours(request, transport)[1]["verify"] == "/etc/ssl/x.pem"
    clean_env.delenv("REQUESTS_CA_BUNDLE")
    assert _ours(request, transport)[1]["verify"] is True



@pytest.mark.parametrize("environ", ["os.environ", "a plain dict"])
def test_environment_changes_are_seen_however_os_environ_is_made(clean_env, environ):
    """The snapshot reads CPython's backing dict of ``os.environ`` when there is one; any other
    mapping put in its place (as some test tools do) is read with ``get``: both see changes,
    and an unset variable made set (or the reverse) with the count of variables unchanged."""
    import os

    from civis_dyn._transport import _environment_values

    if environ == "a plain dict":
        clean_env.setattr(os, "environ", {k: v for k, v in os.environ.items()})
    else:
        assert type(getattr(os.environ, "_data", None)) is dict  # CPython: the fast path runs
    transport = HTTPTransport()
    request = HTTPRequest("GET", URL, "/jobs/1", headers={"Authorization": "Bearer k"})
    assert _environment_values(os.environ) == (None,) * len(_ENVIRONMENT)
    assert _ours(request, transport)[1]["proxies"] == {}
    os.environ["HTTPS_PROXY"] = "http://proxy.corp:3128"
    clean_env.setenv("CIVIS_DYN_UNRELATED", "x")
    assert _ours(request, transport)[1]["proxies"]["https"] == "http://proxy.corp:3128"
    del os.environ["CIVIS_DYN_UNRELATED"]
    del os.environ["HTTPS_PROXY"]
    os.environ["https_proxy"] = "http://lower.corp:8080"   # one unset, another set: same count
    assert _ours(request, transport)[1]["proxies"]["https"] == "http://lower.corp:8080"
    del os.environ["https_proxy"]
    assert _ours(request, transport)[1]["proxies"] == {}

def test_netrc_is_never_read(clean_env, tmp_path):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine api.example.com login someone password secret\n")
    netrc.chmod(0o600)
    clean_env.setenv("NETRC", str(netrc))
    clean_env.setenv("HOME", str(tmp_path))
    request = HTTPRequest("GET", URL, "/jobs/1", headers={"Authorization": "Bearer k"})
    assert "Basic" in _bare(request, requests.Session())[0].headers["Authorization"]  # requests'
    assert _ours(request, HTTPTransport())[0].headers["Authorization"] == "Bearer k"


def test_requests_mock_sees_the_prepared_request(clean_env):
    transport = HTTPTransport()
    with requests_mock.Mocker() as mocker:
        mocker.get(URL, json={"id": 1}, headers={"X-A": "1"})
        answer = transport.send(HTTPRequest("GET", URL, "/jobs/1", params={"limit": 2},
                                            headers={"Authorization": "Bearer k"}))
    assert answer.status_code == 200 and answer.json() == {"id": 1}
    assert mocker.last_request.qs == {"limit": ["2"]}
    assert mocker.last_request.headers["Authorization"] == "Bearer k"


@pytest.fixture
def servers(mini_spec_path, api_key):
    """Two local APIs on 127.0.0.1: the target, and another standing in for a proxy."""
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(spec=str(mini_spec_path), api_key=api_key) as target, \
            LocalCivisAPI(spec=str(mini_spec_path), api_key=api_key) as proxy:
        yield target, proxy


def test_a_proxy_set_between_calls_is_used_by_the_next_call_over_http(clean_env, servers,
                                                                       api_key):
    target, proxy = servers
    url = f"{target.url}things/"
    transport = HTTPTransport()
    request = HTTPRequest("GET", url, "/things/", headers={"Authorization": f"Bearer {api_key}"})
    assert transport.send(request).status_code == 200
    assert (target.count(), proxy.count()) == (1, 0)
    clean_env.setenv("HTTP_PROXY", proxy.url.rstrip("/"))
    assert transport.send(request).status_code == 200
    (through,) = proxy.requests   # the request for the target went through the proxy
    assert through.path == "/things" and through.host == f"127.0.0.1:{target.port}"
    clean_env.setenv("NO_PROXY", "127.0.0.1")
    assert transport.send(request).status_code == 200
    clean_env.delenv("NO_PROXY")
    clean_env.delenv("HTTP_PROXY")
    assert transport.send(request).status_code == 200
    assert target.count() == 3 and proxy.count() == 1
