"""HTTP for civis_dyn: the only module that touches the network.

A :class:`Transport` owns one pooled :class:`requests.Session` per client and
adds authentication, the User-Agent, timeouts, retries and error mapping.
It is thread-safe: many threads may call one transport at once; no lock is
held while waiting on the network or sleeping between retries.

Retries follow a :class:`RetryPolicy` (ours rather than urllib3's ``Retry``:
urllib3 retries a status for a set of verbs, while the Civis API needs a
different status set per verb — POSTs retry only 429 and 503, which the server
answers before acting — and we want full-jitter backoff that waits at least
``Retry-After``, a bound on total time, and an injectable clock and sleep for
tests). A urllib3 ``Retry`` passed as ``retries=`` is translated.
"""

import hashlib
import ipaddress
import json
import logging
import os
import platform
import random
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ._errors import (
    CivisAPIError,
    CivisAPIKeyError,
    CivisConnectionError,
    CivisTimeoutError,
    InsecureTransportError,
    InvalidResponseError,
    MissingAPIKeyError,
)
from ._limits import BodyTooLarge, read_response_capped
from ._limits import max_response_bytes as response_limit
from ._version import __version__

__all__ = ["DEFAULT_BASE_URL", "RetryPolicy", "Transport", "key_fingerprint"]

log = logging.getLogger("civis_dyn.transport")

DEFAULT_BASE_URL = "https://api.civisanalytics.com/"
DEFAULT_TIMEOUT = (10.0, 300.0)
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})
_SNIPPET = 120
_INSECURE_ENV = "CIVIS_DYN_ALLOW_INSECURE_HTTP"
# failures that may pass on a new attempt; others (a bad URL or header) never will
_requests = None  # imported on first use: ``import civis_dyn`` and exploring need no HTTP stack


def _http():
    """Import requests on first use and return it."""
    global _requests
    if _requests is None:
        import requests

        _requests = requests
    return _requests


def _transient():
    exceptions = _http().exceptions
    return (exceptions.ConnectionError, exceptions.Timeout, exceptions.ChunkedEncodingError,
            exceptions.ContentDecodingError)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry a request.

    Parameters
    ----------
    max_attempts : int
        Attempts in all, the first included (default 10).
    max_elapsed : float
        Seconds after the first attempt past which no retry starts (600).
    idempotent_statuses : frozenset of int
        Statuses retried for GET, PUT, DELETE, HEAD and OPTIONS.
    other_statuses : frozenset of int
        Statuses retried for POST and PATCH: only answers given before the
        server acted (429 Too Many Requests, 503 Service Unavailable).
    backoff_base, backoff_max : float
        Full-jitter exponential backoff: attempt ``n`` waits a random time in
        ``[0, min(backoff_max, backoff_base * 2**(n-1))]``, and at least the
        ``Retry-After`` the server sent.
    """

    max_attempts: int = 10
    max_elapsed: float = 600.0
    idempotent_statuses: frozenset = frozenset({429, 502, 503, 504})
    other_statuses: frozenset = frozenset({429, 503})
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self):
        def number(name, minimum, integer=False):
            value = getattr(self, name)
            kinds = int if integer else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise TypeError(f"RetryPolicy {name} must be {'an int' if integer else 'a number'}, "
                                f"not {type(value).__name__} ({value!r})")
            if not (value >= minimum and value < float("inf")):
                raise ValueError(f"RetryPolicy {name} must be a finite number >= {minimum}, "
                                 f"not {value!r}")

        number("max_attempts", 1, integer=True)
        for name in ("max_elapsed", "backoff_base", "backoff_max"):
            number(name, 0)
        for name in ("idempotent_statuses", "other_statuses"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not all(
                    isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599
                    for s in _iterable(value, name)):
                raise TypeError(f"RetryPolicy {name} must be a set of HTTP status codes (ints), "
                                f"not {value!r}")
            object.__setattr__(self, name, frozenset(value))

    @classmethod
    def coerce(cls, retries):
        """Return a policy from ``None``, an int, a :class:`RetryPolicy` or urllib3 ``Retry``."""
        if retries is None:
            return cls()
        if isinstance(retries, cls):
            return retries
        if isinstance(retries, bool):
            raise TypeError("retries must be a RetryPolicy, a urllib3 Retry or an int, not a bool")
        if isinstance(retries, int):
            if retries < 0:
                raise ValueError("retries must be >= 0")
            return cls(max_attempts=retries + 1)
        if type(retries).__module__.startswith("urllib3"):
            import urllib3

            if isinstance(retries, urllib3.util.Retry):
                return cls._from_urllib3(retries)
        raise TypeError(f"retries must be a civis_dyn.RetryPolicy, a urllib3 Retry or an int, "
                        f"not {type(retries).__name__}")

    @classmethod
    def _from_urllib3(cls, retry):
        counts = [c for c in (retry.total, retry.status) if isinstance(c, int)]
        attempts = (min(counts) + 1) if counts else 10
        statuses = frozenset(retry.status_forcelist or ())
        methods = retry.allowed_methods
        other = statuses if methods is None or "POST" in methods else frozenset()
        return cls(max_attempts=attempts, idempotent_statuses=statuses,
                   other_statuses=other & frozenset({429, 503}) if other else frozenset(),
                   backoff_base=retry.backoff_factor or 0.0,
                   backoff_max=getattr(retry, "backoff_max", 120))

    def retries_status(self, method, status):
        """True when ``status`` is retryable for ``method``."""
        if method in IDEMPOTENT:
            return status in self.idempotent_statuses
        return status in self.other_statuses

    def delay(self, attempt, retry_after=None):
        """Seconds to wait before attempt ``attempt + 1``."""
        cap = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        wait = self.rng.uniform(0, cap) if cap > 0 else 0.0
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait


def _iterable(value, name):
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"RetryPolicy {name} must be a set of HTTP status codes (ints), "
                        f"not {value!r}") from None


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _is_loopback(host):
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _not_sent(exc):
    """True when a requests exception happened before the request was sent."""
    import urllib3

    if isinstance(exc, _http().exceptions.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, (urllib3.exceptions.NewConnectionError,
                               urllib3.exceptions.ConnectTimeoutError))


def _snippet(body):
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"


class Transport:
    """A pooled, retrying, thread-safe HTTP client for one API base URL.

    Parameters
    ----------
    base_url : str
        The API's root, e.g. ``https://api.civisanalytics.com/``.
    api_key : str or None
        Sent as ``Authorization: Bearer <key>``. Never logged or shown.
    user_agent : str, optional
        Prefix of the User-Agent header.
    retries : RetryPolicy, int or urllib3 Retry, optional
    timeout : float or (float, float), optional
        Connect and read timeouts in seconds (default 10 and 300).
    pool_size : int, optional
        Connections kept per host (default 32).
    allow_insecure_http : bool, optional
        Allow sending the key over plain ``http://`` to a host that is not
        loopback (also allowed by env ``CIVIS_DYN_ALLOW_INSECURE_HTTP=1``).
    sleep, clock : callable, optional
        Injected for tests (default :func:`time.sleep`, :func:`time.monotonic`).
    max_response_bytes : int, optional
        Largest response body accepted, decoded (default: env
        ``CIVIS_DYN_MAX_RESPONSE_BYTES``, else 256 MiB).

    Attributes
    ----------
    key_fingerprint : str or None
        sha256 of the key this transport sends (schema caches are keyed by it).
    """

    def __init__(self, base_url=DEFAULT_BASE_URL, api_key=None, *, user_agent=None, retries=None,
                 timeout=None, pool_size=32, allow_insecure_http=False, sleep=time.sleep,
                 clock=time.monotonic, max_response_bytes=None):
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url
        self.retry_policy = RetryPolicy.coerce(retries)
        self.max_response_bytes = response_limit(max_response_bytes)
        self.timeout = self._timeout(timeout)
        self._sleep = sleep
        self._clock = clock
        api_key, self._key_problem = _usable_key(api_key)
        self._has_key = bool(api_key)
        self.key_fingerprint = key_fingerprint(api_key) if api_key else None
        parts = urlsplit(base_url)
        self._insecure_refused = (
            parts.scheme == "http" and not _is_loopback(parts.hostname or "")
            and not (allow_insecure_http or os.environ.get(_INSECURE_ENV) == "1"))
        self._pool_size = pool_size
        self._session = None
        self._session_lock = threading.Lock()
        self._user_agent_prefix = user_agent  # the User-Agent is made with the session
        headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
        }
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        for env, header in (("CIVIS_JOB_ID", "X-Civis-Job-ID"), ("CIVIS_RUN_ID", "X-Civis-Run-ID")):
            if os.environ.get(env):
                headers[header] = os.environ[env]
        self._headers = headers

    @property
    def session(self):
        """The pooled :class:`requests.Session`, made on first use."""
        session = self._session
        if session is None:
            with self._session_lock:
                if self._session is None:
                    requests = _http()
                    session = requests.Session()
                    adapter = requests.adapters.HTTPAdapter(
                        pool_connections=4, pool_maxsize=self._pool_size, max_retries=0)
                    session.mount("https://", adapter)
                    session.mount("http://", adapter)
                    session.headers.update(self._headers)
                    session.headers["User-Agent"] = self._user_agent(self._user_agent_prefix)
                    self._session = session
                session = self._session
        return session

    @staticmethod
    def _timeout(timeout):
        if timeout is None:
            return DEFAULT_TIMEOUT
        if isinstance(timeout, (int, float)):
            return (float(timeout), float(timeout))
        connect, read = timeout
        return (float(connect), float(read))

    @staticmethod
    def _user_agent(prefix):
        python = platform.python_version()
        agent = f"civis-dyn/{__version__} (Python {python}; requests {_http().__version__})"
        return f"{prefix} {agent}" if prefix else agent

    def __repr__(self):
        return f"<Transport {self.base_url} key={'set' if self._has_key else 'missing'}>"

    def __getstate__(self):
        raise TypeError("a Transport holds a live session and the API key: it is not picklable")

    def close(self):
        """Close the pooled connections."""
        if self._session is not None:
            self._session.close()

    # -- requests ---------------------------------------------------------
    def url(self, path):
        """The absolute URL of an API path (``/jobs/1`` -> ``{base}jobs/1``)."""
        return self.base_url + path.lstrip("/")

    def request(self, method, path, *, params=None, json_body=None, headers=None, retries=None,
                max_bytes=None):
        """Send a request, retrying per the policy, and return the final response.

        Parameters
        ----------
        method : str
            HTTP verb, upper case.
        path : str
            Path relative to the base URL (``/jobs/1``), query not included.
        params : dict or list of pairs, optional
        json_body : object, optional
            Sent as JSON when not None.
        headers : dict, optional
            Extra headers (e.g. conditional ones).
        retries : RetryPolicy, optional
            This request's policy instead of the transport's.
        max_bytes : int, optional
            This request's body limit instead of :attr:`max_response_bytes`.

        Returns
        -------
        requests.Response
            A response with a status below 400 (or 304).

        Raises
        ------
        MissingAPIKeyError, InsecureTransportError
            Before sending anything.
        CivisAPIError
            For error statuses (:class:`CivisAPIKeyError` for 401).
        CivisConnectionError, CivisTimeoutError
            When no answer came, after retries.
        """
        if not self._has_key:
            raise MissingAPIKeyError(self._key_problem or (
                "No Civis API key: pass api_key= to APIClient or set the CIVIS_API_KEY "
                "environment variable"))
        if self._insecure_refused:
            raise InsecureTransportError(
                f"Refusing to send the API key over plain http to {urlsplit(self.base_url).hostname}: "
                f"use https, or pass allow_insecure_http=True (or set {_INSECURE_ENV}=1)")
        url = self.url(path)
        data = None
        if json_body is not None:
            data = json.dumps(json_body, separators=(",", ":"))
            headers = {**(headers or {}), "Content-Type": "application/json"}
        policy = self.retry_policy if retries is None else retries
        started = self._clock()
        attempt = 0
        session = self.session
        while True:
            attempt += 1
            try:
                response = session.request(method, url, params=params, data=data,
                                           headers=headers, timeout=self.timeout, stream=True)
                read_response_capped(response, max_bytes or self.max_response_bytes)
            except BodyTooLarge as exc:
                raise InvalidResponseError(response.status_code, str(exc), response, method,
                                           path) from None
            except _http().exceptions.RequestException as exc:
                retryable = isinstance(exc, _transient()) and (_not_sent(exc) or method in IDEMPOTENT)
                wait = policy.delay(attempt) if retryable else 0.0
                if retryable and self._may_retry(policy, attempt, started, wait):
                    log.debug("%s %s: %s; retrying in %.2fs (attempt %d)", method, path,
                              type(exc).__name__, wait, attempt)
                    self._sleep(wait)
                    continue
                raise self._connection_error(exc, method, path, attempt) from None
            status = response.status_code
            if status >= 400 and policy.retries_status(method, status):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                wait = policy.delay(attempt, retry_after)
                if self._may_retry(policy, attempt, started, wait):
                    log.debug("%s %s: HTTP %d; retrying in %.2fs (attempt %d)", method, path,
                              status, wait, attempt)
                    response.close()
                    self._sleep(wait)
                    continue
            if status >= 400:
                raise self._api_error(response, method, path)
            return response

    def _may_retry(self, policy, attempt, started, wait):
        if attempt >= policy.max_attempts:
            return False
        return (self._clock() - started) + wait <= policy.max_elapsed

    @staticmethod
    def _connection_error(exc, method, path, attempts):
        timeout = isinstance(exc, _http().exceptions.Timeout)
        kind = CivisTimeoutError if timeout else CivisConnectionError
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        error = kind(f"{method} {path}: {type(exc).__name__}{tries}: {_describe(exc)}")
        error.__cause__ = exc
        return error

    @staticmethod
    def _api_error(response, method, path):
        status = response.status_code
        message = response.reason or "HTTP error"
        try:
            body = response.json()
        except (ValueError, RecursionError):
            body = None
            if response.content:
                message = f"{message}: {_snippet(response.content)}"
        if isinstance(body, dict):
            message = body.get("errorDescription") or body.get("error") or message
        kind = CivisAPIKeyError if status == 401 else CivisAPIError
        return kind(status, str(message), response, method, path)


def key_fingerprint(api_key):
    """Return the hex sha256 of an API key: what schema caches are keyed by.

    The key itself is never kept by a cache; the fingerprint is hashed again
    (with the base URL) before it names a cache file, and is never written in one.
    """
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def _usable_key(api_key):
    """Return ``(key, problem)``: the key without surrounding whitespace, or None and why.

    A key read from a file often ends with a newline: it is stripped. A key
    with spaces, control or non-ASCII characters inside cannot be a header
    value; sending it would fail in requests with an error that quotes the
    header, so it is refused (calls raise :class:`MissingAPIKeyError`,
    which never shows the key).
    """
    if api_key is None:
        return None, None
    if not isinstance(api_key, str):
        raise TypeError(f"api_key must be a str, not {type(api_key).__name__}")
    key = api_key.strip()
    if key and not (key.isascii() and key.isprintable() and " " not in key):
        return None, ("The Civis API key is not usable: it contains spaces, control or non-ASCII "
                      "characters (check api_key= or the CIVIS_API_KEY environment variable)")
    return key or None, None


def _describe(exc):
    """A short description of a requests exception (no URL query, no headers)."""
    cause = exc.args[0] if exc.args else exc
    reason = getattr(cause, "reason", None)
    text = str(reason or cause)
    return text if len(text) <= 200 else text[:200] + "…"


def decode_json(response, method, path):
    """Decode a response body as JSON, or raise :class:`InvalidResponseError`.

    An empty body (e.g. 204) decodes to None.
    """
    content = response.content
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        raise InvalidResponseError(
            response.status_code, f"the response is not valid JSON: {_snippet(content)}",
            response, method, path) from None
    except RecursionError:
        raise InvalidResponseError(
            response.status_code, "the response's JSON is nested too deeply to be decoded",
            response, method, path) from None
