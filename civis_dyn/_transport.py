"""``HTTPTransport``: the one module that touches the network.

It does the wire and nothing else: one pooled :class:`requests.Session`,
sending an :class:`~civis_dyn.HTTPRequest` exactly as planned and turning the
answer into an :class:`~civis_dyn.HTTPResponse`. Authentication, retries,
redirect rules and error mapping are the pipeline's (:mod:`civis_dyn._pipeline`).

Thread-safe: many threads may send through one transport at once.

What it promises about the key: the session holds no credentials (the
``Authorization`` header travels with each request), redirects are never
followed here, and the errors it raises carry neither the request nor the
HTTP library's exception (no ``__cause__``, no ``__context__``), so nothing
reachable from an error holds the key.
"""

import os
import threading
import time
from urllib.parse import urlsplit

from ._errors import CivisConnectionError, CivisTimeoutError, InvalidResponseError
from ._http import HTTPResponse, encode_query
from ._limits import BodyTooLarge, response_setting

__all__ = ["HTTPTransport"]

_CHUNK = 64 * 1024
_CACHED = 1024  # entries per cache of HTTPTransport (URLs, header sets, origins)
# the environment variables requests reads for a request's proxies and CA bundle
_ENVIRONMENT = tuple(f"{scheme}_proxy" for scheme in ("http", "https", "all", "no")) + tuple(
    f"{scheme}_PROXY" for scheme in ("HTTP", "HTTPS", "ALL", "NO")) + (
    "REQUEST_METHOD", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")

_encoded_names = {}  # os.environ's key encoder -> _ENVIRONMENT encoded by it: _environment_values


def _environment_values(environ):
    """The values of the :data:`_ENVIRONMENT` variables in ``environ`` (None where unset).

    Only compared with an earlier snapshot, never used as values. CPython's
    ``os.environ`` keeps its variables in a plain dict of encoded names and
    values (``_data``, written by every change made through ``os.environ``);
    read there, this is eleven dict lookups instead of eleven ``Mapping.get``
    calls, most of which raise and catch a ``KeyError`` for an unset variable.
    Any other mapping (``os.environ`` replaced, another implementation) is
    read with ``get``.
    """
    data = getattr(environ, "_data", None)
    encode = getattr(environ, "encodekey", None)
    if type(data) is dict and encode is not None:
        names = _encoded_names.get(encode)
        if names is None:
            names = _encoded_names[encode] = tuple(map(encode, _ENVIRONMENT))
        return tuple(map(data.get, names))
    return tuple(map(environ.get, _ENVIRONMENT))


_requests = None  # imported on first use: ``import civis_dyn`` and exploring need no HTTP stack


def _http():
    """Import requests on first use and return it."""
    global _requests
    if _requests is None:
        import requests

        _requests = requests
    return _requests


class HTTPTransport:
    """A pooled, thread-safe HTTP transport over :class:`requests.Session`.

    Each attempt ends within its request's connect + read timeout in all: a
    server that trickles its answer cannot hold a call (requests' own read
    timeout bounds each read, not the whole answer).

    Parameters
    ----------
    pool_size : int, optional
        Connections kept per host (default 32).

    Examples
    --------
    >>> transport = civis_dyn.HTTPTransport(pool_size=8)          # doctest: +SKIP
    >>> client = civis_dyn.APIClient(transport=transport)         # doctest: +SKIP
    """

    def __init__(self, *, pool_size=32):
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1:
            from ._errors import ArgumentValueError

            raise ArgumentValueError(f"HTTPTransport(): 'pool_size' must be an int >= 1, "
                                     f"not {pool_size!r}")
        self._pool_size = pool_size
        self._session = None
        self._lock = threading.Lock()
        self._settings = {}  # origin -> (environment snapshot, proxies, bundle): _environment
        self._urls = {}  # URL -> URL as requests prepares it: _url
        self._session_headers = {}  # session's headers -> checked copy: _headers

    @property
    def session(self):
        """The pooled :class:`requests.Session`, made on first use (it holds no credentials)."""
        session = self._session
        if session is None:
            with self._lock:
                if self._session is None:
                    requests = _http()
                    session = requests.Session()
                    session.trust_env = False  # the environment is read once: _environment
                    adapter = requests.adapters.HTTPAdapter(
                        pool_connections=4, pool_maxsize=self._pool_size, max_retries=0)
                    session.mount("https://", adapter)
                    session.mount("http://", adapter)
                    self._session = session
                session = self._session
        return session

    def send(self, request):
        """Send ``request`` once; return the answer whatever its status.

        Raises
        ------
        CivisConnectionError, CivisTimeoutError
            When no answer came (``reason`` and ``sent`` say why, see there).
        """
        session = self.session
        connect, read = request.timeout
        deadline = time.monotonic() + connect + read
        try:
            prepared, settings = self._prepare(session, request)
            response = session.send(prepared, timeout=request.timeout, allow_redirects=False,
                                    stream=True, **settings)
            try:
                content = _read_body(response, deadline, request.max_bytes)
            except BaseException:
                response.close()  # the connection is not reused
                raise
        except _http().exceptions.RequestException as exc:
            error = _connection_error(exc)
        except _Overdue as exc:
            error = CivisTimeoutError(f"ReadTimeout: {exc}", reason="timeout", sent=True)
        except BodyTooLarge as exc:
            answer = HTTPResponse(response.status_code, response.headers, b"", response.url,
                                  response.reason or "")
            error = InvalidResponseError(response.status_code, str(exc), answer, request.method,
                                         request.path)
        except _urllib3_errors() as exc:
            error = _body_error(exc)
        else:
            return HTTPResponse(response.status_code, response.headers, content,
                                response.url, response.reason or "")
        raise error  # outside the except block: no __context__ holding requests' objects

    def _prepare(self, session, request):
        """``(PreparedRequest, send settings)``: what ``session.request`` would build and send.

        Built with requests' public API, as :meth:`requests.Session.prepare_request`
        and :meth:`~requests.Session.merge_environment_settings` would for a
        session that trusts the environment, minus the per-call costs: the URL
        is parsed and quoted once per distinct URL, the merged headers once per
        distinct set, and the environment (proxies, ``NO_PROXY``, CA bundles)
        is read once per origin and re-read when one of its variables changes.
        ``~/.netrc`` is never read: the ``Authorization`` header is the pipeline's.
        """
        requests = _http()
        prepared = requests.PreparedRequest()
        prepared.prepare_method(request.method)
        prepared.url = self._url(request.url, request.params)
        prepared.headers = self._headers(session, request.headers)
        prepared.prepare_body(request.body, None)
        jar = requests.cookies.RequestsCookieJar()  # a copy per request, as requests makes
        if session.cookies:
            requests.cookies.merge_cookies(jar, session.cookies)
        prepared.prepare_cookies(jar)  # (redirect answers' cookies go to the copy)
        if any(session.hooks.values()):
            prepared.prepare_hooks(session.hooks)
        # as Session.request, whose own proxies argument (never the session's) may name a
        # no_proxy for the environment's proxies; ours has none
        proxies, bundle = self._environment(request.url)
        if session.proxies:   # the session's own proxies win over the environment's
            proxies = requests.sessions.merge_setting(proxies, session.proxies)
        else:                 # a copy: what send() is given is never the cached dict
            proxies = dict(proxies)
        settings = {"proxies": proxies, "verify": bundle or session.verify, "cert": session.cert}
        return prepared, settings

    def _url(self, url, params):
        """The final URL, as requests' ``prepare_url`` makes it; parsing cached per URL."""
        base = self._urls.get(url)
        if base is None:
            requests = _http()
            probe = requests.PreparedRequest()
            probe.prepare_url(url, None)
            base = probe.url
            if "?" in base or "#" in base:  # a query or fragment in the URL itself: no shortcut
                probe.prepare_url(url, params)
                return probe.url
            if len(self._urls) >= _CACHED:
                self._urls.clear()
            self._urls[url] = base
        query = encode_query(params)
        return f"{base}?{query}" if query else base

    def _headers(self, session, headers):
        """The session's headers merged with ``headers``, as requests merges and checks them.

        The session's part is checked once per distinct set (it holds no
        credentials); the request's headers, the key among them, are checked
        on each call and never kept.
        """
        requests = _http()
        key = tuple(session.headers.items())
        base = self._session_headers.get(key)
        if base is None:
            probe = requests.PreparedRequest()
            probe.prepare_headers(session.headers)
            base = probe.headers
            if len(self._session_headers) >= _CACHED:
                self._session_headers.clear()
            self._session_headers[key] = base
        merged = base.copy()
        check = requests.utils.check_header_validity
        for name, value in headers.items():
            if value is None:
                merged.pop(name, None)
            else:
                check((name, value))
                merged[name.decode("ascii") if isinstance(name, bytes) else name] = value
        return merged

    def _environment(self, url):
        """``(proxies, CA bundle or None)`` for ``url``'s origin, as requests reads them.

        Cached per origin and per value of the variables requests consults
        (``http_proxy``, ``https_proxy``, ``all_proxy``, ``no_proxy`` in either
        case, ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``): a change is seen by the next call.
        """
        environ = os.environ
        snapshot = _environment_values(environ)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        found = self._settings.get(key)
        if found is None or found[0] != snapshot:
            requests = _http()
            proxies = requests.utils.get_environ_proxies(url)
            bundle = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE") or None
            if len(self._settings) >= _CACHED:
                self._settings.clear()
            found = self._settings[key] = (snapshot, proxies, bundle)
        return found[1:]

    def close(self):
        """Close the pooled connections (the next request opens new ones)."""
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"<HTTPTransport pool_size={self._pool_size}>"

    def __reduce__(self):
        return (HTTPTransport, (), {"_pool_size": self._pool_size})

    def __setstate__(self, state):
        self.__init__(pool_size=state["_pool_size"])


class _Overdue(Exception):
    """An answer still arriving when the attempt's time is up."""


def _read_body(response, deadline, limit=None):
    """The whole body, unless it is still arriving at ``deadline`` (raises :class:`_Overdue`).

    Reads what has arrived, a read at a time (each waits at most the read
    timeout), so a server trickling bytes cannot keep an attempt alive longer
    than connect + read timeout in all. A complete read gives the connection
    back to the pool.
    """
    raw = response.raw
    reads = iter(lambda: raw.read1(_CHUNK, decode_content=True), b"")   # urllib3 >= 2.2
    chunks, size = [], 0
    for chunk in reads:
        chunks.append(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            raise BodyTooLarge("the response body", limit, response_setting())
        if time.monotonic() > deadline:
            raise _Overdue(f"the answer was still arriving after the attempt's time "
                           f"(connect + read timeout); {size} bytes read")
    raw.release_conn()
    return b"".join(chunks)


def _urllib3_errors():
    import urllib3

    return urllib3.exceptions.HTTPError


def _body_error(exc):
    """Our error for a urllib3 failure while the body was read."""
    import urllib3

    name = type(exc).__name__
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return CivisTimeoutError(f"ReadTimeout: {_describe(exc)}", reason="timeout", sent=True)
    if isinstance(exc, (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError)):
        return CivisConnectionError(f"ChunkedEncodingError: {_describe(exc)}", reason="incomplete",
                                    sent=True)
    return CivisConnectionError(f"{name}: {_describe(exc)}", reason="reset", sent=True)


def _connection_error(exc):
    """Our error for a requests exception: a short message, ``reason`` and ``sent`` (no cause)."""
    import socket

    import urllib3

    exceptions = _http().exceptions
    name = type(exc).__name__
    cause = exc.args[0] if exc.args else None
    low = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the real failure
    if isinstance(exc, exceptions.ConnectTimeout):
        return CivisTimeoutError(f"{name}: {_describe(exc)}", reason="connect-timeout", sent=False)
    if isinstance(exc, exceptions.Timeout):
        return CivisTimeoutError(f"{name}: {_describe(exc)}", reason="timeout", sent=True)
    if isinstance(exc, (exceptions.ChunkedEncodingError, exceptions.ContentDecodingError)):
        return CivisConnectionError(f"{name}: {_describe(exc)}", reason="incomplete", sent=True)
    if isinstance(exc, exceptions.ConnectionError):
        if isinstance(low, urllib3.exceptions.NewConnectionError):
            text = str(low)
            dns = isinstance(low, urllib3.exceptions.NameResolutionError) or (
                isinstance(low.__context__, socket.gaierror))
            refused = isinstance(low.__context__, ConnectionRefusedError) or "refused" in text
            reason = "dns" if dns else "refused" if refused else "other"
            return CivisConnectionError(f"{name}: {_describe(exc)}", reason=reason, sent=False)
        if isinstance(low, urllib3.exceptions.ConnectTimeoutError):
            return CivisTimeoutError(f"{name}: {_describe(exc)}", reason="connect-timeout",
                                     sent=False)
        if isinstance(exc, exceptions.SSLError):
            return CivisConnectionError(f"{name}: {_describe(exc)}", reason="tls", sent=False)
        if isinstance(exc, exceptions.ProxyError):
            return CivisConnectionError(f"{name}: {_describe(exc)}", reason="other", sent=False)
        return CivisConnectionError(f"{name}: {_describe(exc)}", reason="reset", sent=True)
    return CivisConnectionError(f"{name}: {_describe(exc)}", reason="invalid", sent=False)


def _describe(exc):
    """A short description of a requests exception (no URL query, no headers)."""
    cause = exc.args[0] if exc.args else exc
    reason = getattr(cause, "reason", None)
    text = str(reason or cause)
    return text if len(text) <= 200 else text[:200] + "…"
