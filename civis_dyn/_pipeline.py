"""The request pipeline, sans I/O: plan a request, decide retries and redirects, decode the answer.

Every function here is pure: it reads its arguments and returns a value or
raises, and never touches the network, the clock or the environment (the
per-client constants are read once, by :meth:`RequestDefaults.from_config`).
One call of an API method is::

    request = plan_request(defaults, "GET", "/jobs/1", params=..., json_body=...)
    attempt = 1
    while True:
        response_or_error = transport.send(request)          # the only I/O
        follow = redirect_request(request, response, hops)   # same-origin GETs only
        wait = retry_wait(policy, request, attempt, elapsed, response, error)
        if wait is None: break                               # give up, or done
        sleep(wait); attempt += 1
    check_status(request, response)                          # error statuses -> CivisAPIError
    data = decode_json(request, response)                    # bad JSON -> InvalidResponseError

:class:`SyncDriver` is that loop for a blocking transport (about 40 lines); an
asyncio driver is the same loop with ``await transport.send(...)`` and
``await asyncio.sleep(...)``, calling the same functions. gidgethub's
``sansio`` module is the model.

Retries follow a :class:`RetryPolicy` (ours rather than urllib3's ``Retry``:
urllib3 retries a status for a set of verbs, while the Civis API needs a
different status set per verb — POSTs retry only 429 and 503, which the server
answers before acting — and we want full-jitter backoff that waits at least
``Retry-After``, a bound on total time, and an injectable clock and sleep for
tests). A urllib3 ``Retry`` passed as ``retries=`` is translated.
"""

import dataclasses
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from ._errors import (
    ArgumentTypeError,
    ArgumentValueError,
    CivisAPIError,
    CivisAPIKeyError,
    CivisConnectionError,
    CivisTimeoutError,
    InsecureTransportError,
    InvalidResponseError,
    MissingAPIKeyError,
    RedirectError,
)
from ._config import check_header_text
from ._http import DEFAULT_TIMEOUT, HTTPRequest
from ._limits import DEFAULT_MAX_RESPONSE_BYTES, BodyTooLarge, max_response_bytes, response_setting
from ._version import __version__

__all__ = [
    "DEFAULT_TIMEOUT",
    "Driver",
    "RequestDefaults",
    "RetryPolicy",
    "SyncDriver",
    "Wait",
    "attempts",
    "check_status",
    "decode_json",
    "decode_page",
    "key_fingerprint",
    "parse_retry_after",
    "plan_request",
    "redirect_request",
    "retry_wait",
]

LOGGER = "civis_dyn.transport"  # retries are logged here (logging is imported by the first retry)
_PYTHON_VERSION = sys.version.split()[0]  # what platform.python_version() says, without platform

IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD", "OPTIONS"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
INSECURE_ENV = "CIVIS_DYN_ALLOW_INSECURE_HTTP"
REFUSED_ATTEMPTS = 3        # a refused connection is tried this often in all …
REFUSED_MAX_WAIT = 1.0      # … waiting at most this long between tries
LONG_WAIT = 5.0             # retry waits this long or longer are logged at INFO
_SNIPPET = 120


# -- retry policy ----------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to retry a request.

    Parameters
    ----------
    max_attempts : int
        Attempts in all, the first included (default 10).
    max_elapsed : float
        The call's deadline: seconds after the first attempt started past
        which no retry starts and no attempt runs on (600).
    idempotent_statuses : frozenset of int
        Statuses retried for GET, PUT, DELETE, HEAD and OPTIONS.
    other_statuses : frozenset of int
        Statuses retried for POST and PATCH: only answers given before the
        server acted (429 Too Many Requests, 503 Service Unavailable).
    backoff_base, backoff_max : float
        Full-jitter exponential backoff: attempt ``n`` waits a random time in
        ``[0, min(backoff_max, backoff_base * 2**(n-1))]``, and at least the
        ``Retry-After`` the server sent.
    rng : random.Random
        The jitter's source (injected by tests).
    sleep, clock : callable
        How the blocking driver waits and measures elapsed time (default
        :func:`time.sleep`, :func:`time.monotonic`; injected by tests). An
        asyncio driver awaits its own sleep instead.

    Notes
    -----
    Connection failures are retried when a new attempt can help: a host name
    that does not resolve is never retried, a refused connection is tried
    3 times within about 2 seconds, and any other failure is retried like a
    retryable status when the request was not sent or its verb is idempotent.
    """

    max_attempts: int = 10
    max_elapsed: float = 600.0
    idempotent_statuses: frozenset = frozenset({429, 502, 503, 504})
    other_statuses: frozenset = frozenset({429, 503})
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)
    sleep: object = field(default=time.sleep, compare=False, repr=False)
    clock: object = field(default=time.monotonic, compare=False, repr=False)

    def __post_init__(self):
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ArgumentTypeError(f"RetryPolicy(): 'max_attempts' must be an int, "
                                    f"not {type(self.max_attempts).__name__}")
        if self.max_attempts < 1:
            raise ArgumentValueError(f"RetryPolicy(): 'max_attempts' must be >= 1, "
                                     f"not {self.max_attempts}")
        for name in ("max_elapsed", "backoff_base", "backoff_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ArgumentTypeError(f"RetryPolicy(): {name!r} must be a number, "
                                        f"not {type(value).__name__}")
            if not (math.isfinite(value) and value >= 0):
                raise ArgumentValueError(f"RetryPolicy(): {name!r} must be a finite number "
                                         f">= 0, not {value!r}")
        for name in ("idempotent_statuses", "other_statuses"):
            value = getattr(self, name)
            try:
                statuses = frozenset(value) if not isinstance(value, (str, bytes)) else None
            except TypeError:
                statuses = None
            if statuses is None or not all(isinstance(c, int) and not isinstance(c, bool)
                                           and 100 <= c <= 599 for c in statuses):
                raise ArgumentTypeError(f"RetryPolicy(): {name!r} must be a set of HTTP status "
                                        f"codes (ints), not {value!r}")
            object.__setattr__(self, name, statuses)

    @classmethod
    def coerce(cls, retries):
        """Return a policy from ``None``, an int, a :class:`RetryPolicy`, urllib3 ``Retry``
        or ``tenacity.Retrying`` (duck-typed, see :mod:`civis_dyn._tenacity`)."""
        if retries is None:
            return cls()
        if isinstance(retries, cls):
            return retries
        if isinstance(retries, bool):
            raise ArgumentTypeError("retries must be a RetryPolicy, a urllib3 Retry or an int, "
                                    "not a bool")
        if isinstance(retries, int):
            if retries < 0:
                raise ArgumentValueError("retries must be >= 0")
            return cls(max_attempts=retries + 1)
        if type(retries).__module__.startswith("urllib3"):
            import urllib3

            if isinstance(retries, urllib3.util.Retry):
                return cls._from_urllib3(retries)
        from ._tenacity import TenacityRetryPolicy, is_tenacity_retrying

        if is_tenacity_retrying(retries):  # civis-python's retries=tenacity.Retrying(...)
            return TenacityRetryPolicy.from_retrying(retries)
        raise ArgumentTypeError(f"retries must be a civis_dyn.RetryPolicy, a urllib3 Retry or "
                                f"an int (or a tenacity.Retrying), not {type(retries).__name__}")

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

    def replace(self, **changes):
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def allows(self, attempt, elapsed, wait):
        """True when attempt ``attempt``, ``elapsed`` seconds in, may be followed after ``wait``."""
        return attempt < self.max_attempts and elapsed + wait <= self.max_elapsed

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


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def retry_wait(policy, request, attempt, elapsed, response=None, error=None):
    """Seconds to wait before sending ``request`` again, or None to stop here.

    Parameters
    ----------
    policy : RetryPolicy
    request : HTTPRequest
        What was sent.
    attempt : int
        Attempts made so far (1 after the first).
    elapsed : float
        Seconds since the first attempt started.
    response : HTTPResponse, optional
        The answer, when one came.
    error : CivisConnectionError, optional
        Why no answer came.

    Returns
    -------
    float or None
        None when the outcome is final: a success, a status not retried for
        the verb, an error a new attempt cannot fix, or the policy's bounds
        reached.
    """
    method = request.method
    if error is not None:
        reason = getattr(error, "reason", None)
        if reason in ("dns", "invalid"):
            return None
        if error.sent and method not in IDEMPOTENT:
            return None  # the server may have acted: never do it twice
        wait = policy.delay(attempt)
        if reason == "refused":
            if attempt >= REFUSED_ATTEMPTS:
                return None
            wait = min(wait, REFUSED_MAX_WAIT)
    else:
        status = response.status
        if status < 400 or not policy.retries_status(method, status):
            return None
        wait = policy.delay(attempt, parse_retry_after(response.headers.get("Retry-After")))
    if not policy.allows(attempt, elapsed, wait):
        return None
    return wait


# -- redirects --------------------------------------------------------------------
def _origin(url):
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def redirect_request(request, response, hops=0):
    """The request to send next when ``response`` is a redirect, else None.

    The Civis API does not redirect API calls, so only the harmless case is
    followed: a GET or HEAD redirected to the same origin (scheme, host and
    port), at most :data:`MAX_REDIRECTS` times. Anything else (another host,
    ``https`` to ``http``, a POST, PUT, PATCH or DELETE) raises, so a body or
    the key never goes where it was not sent.

    Raises
    ------
    RedirectError
        Naming the ``Location``.
    """
    if response.status not in REDIRECTS:
        return None
    location = response.headers.get("Location")
    if not location:
        return None  # nothing to follow: the answer stands (a 3xx is not JSON: decode says so)
    target = urljoin(request.url, location)
    where = f"{request.method} {request.path or urlsplit(request.url).path}"
    if _origin(target) != _origin(request.url):
        raise RedirectError(response.status, f"refused to follow a redirect to another origin: "
                            f"{_no_query(target)}", response, request.method, request.path,
                            location=_no_query(target))
    if request.method not in ("GET", "HEAD"):
        raise RedirectError(response.status, f"refused to follow a redirect of {where} "
                            f"(only GET is redirected): {_no_query(target)}", response,
                            request.method, request.path, location=_no_query(target))
    if hops >= MAX_REDIRECTS:
        raise RedirectError(response.status, f"more than {MAX_REDIRECTS} redirects, the last to "
                            f"{_no_query(target)}", response, request.method, request.path,
                            location=_no_query(target))
    parts = urlsplit(target)
    url = parts._replace(query="", fragment="").geturl()
    params = request.params if not parts.query else None
    base = request.url[: len(request.url) - len(request.path.lstrip("/"))] if request.path else ""
    path = "/" + url[len(base):] if base and url.startswith(base) else parts.path
    if parts.query:
        url = f"{url}?{parts.query}"
    return dataclasses.replace(request, url=url, path=path, params=params)


def _no_query(url):
    parts = urlsplit(url)
    return parts._replace(query="", fragment="").geturl()


# -- planning ---------------------------------------------------------------------
def key_fingerprint(api_key):
    """Return the hex sha256 of an API key: what schema caches are keyed by.

    The key itself is never kept by a cache; the fingerprint is hashed again
    (with the base URL) before it names a cache file, and is never written in one.
    """
    import hashlib

    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def usable_key(api_key):
    """Return ``(key, problem)``: the key without surrounding whitespace, or None and why.

    A key read from a file often ends with a newline: it is stripped. A key
    with spaces, control or non-ASCII characters inside cannot be a header
    value; sending it would fail in the HTTP library with an error that
    quotes the header, so it is refused (calls raise
    :class:`MissingAPIKeyError`, which never shows the key).
    """
    if api_key is None:
        return None, None
    if not isinstance(api_key, str):
        raise ArgumentTypeError(f"api_key must be a str, not {type(api_key).__name__}")
    key = api_key.strip()
    if key and not (key.isascii() and key.isprintable() and " " not in key):
        return None, ("The Civis API key is not usable: it contains spaces, control or non-ASCII "
                      "characters (check api_key= or the CIVIS_API_KEY environment variable)")
    return key or None, None


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        import ipaddress

        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _proxied(url, environ):
    """True when env proxy settings send requests for ``url`` through a proxy."""
    parts = urlsplit(url)
    proxies = {k.lower(): v for k, v in environ.items()
               if k.lower().endswith("_proxy") and v}
    scheme = parts.scheme.lower()
    if not (proxies.get(f"{scheme}_proxy") or proxies.get("all_proxy")):
        return False
    no_proxy = proxies.get("no_proxy", "")
    host = (parts.hostname or "").lower()
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry == "*" or (entry and (host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")))):
            return False
    return True


def _timeout(timeout):
    """``(connect, read)`` seconds of a :class:`ClientConfig`'s timeout (checked there)."""
    if timeout is None:
        return DEFAULT_TIMEOUT
    connect, read = timeout if isinstance(timeout, (tuple, list)) else (timeout, timeout)
    return float(connect), float(read)


@dataclass(frozen=True)
class RequestDefaults:
    """The parts of every request of one client, resolved once (read-only).

    Build it with :meth:`from_config`. The key is only inside :attr:`headers`
    and is never shown by ``repr``.

    Attributes
    ----------
    base_url : str
        The API's root URL, ending with ``/``.
    headers : dict
        Sent with every request: ``Accept``, ``Accept-Encoding``,
        ``User-Agent``, ``Authorization`` and the ``X-Civis-Job-ID`` /
        ``X-Civis-Run-ID`` of the job the client runs in.
    timeout : (float, float)
        Connect and read timeouts.
    refusal : Exception or None
        Why no request may be sent (no usable key, or the key would travel
        over plain http); raised by :func:`plan_request`.
    key_fingerprint : str or None
        :func:`key_fingerprint` of the key (computed on first use: building a
        client from a schema file imports no hash function).
    max_bytes : int
        The largest answer body accepted (see :func:`civis_dyn._limits.max_response_bytes`).
    """

    base_url: str
    headers: dict = field(repr=False)
    timeout: tuple = DEFAULT_TIMEOUT
    refusal: Exception | None = field(default=None, repr=False)
    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    _fingerprint: list = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def key_fingerprint(self):
        """:func:`key_fingerprint` of the key the requests carry, or None (made once)."""
        if not self._fingerprint:
            auth = self.headers.get("Authorization") or ""
            self._fingerprint.append(
                key_fingerprint(auth[len("Bearer "):]) if auth.startswith("Bearer ") else None)
        return self._fingerprint[0]

    @classmethod
    def from_config(cls, config, environ=None):
        """Resolve the request defaults of a :class:`~civis_dyn._config.ClientConfig`.

        Parameters
        ----------
        config : ClientConfig
        environ : mapping, optional
            Read for ``CIVIS_JOB_ID``, ``CIVIS_RUN_ID``,
            ``CIVIS_DYN_ALLOW_INSECURE_HTTP`` and the proxy variables
            (default :data:`os.environ`).
        """
        env = os.environ if environ is None else environ
        base_url = config.base_url
        key, problem = usable_key(config.api_key)
        agent = f"civis-dyn/{__version__} (Python {_PYTHON_VERSION})"
        if config.user_agent:
            agent = f"{config.user_agent} {agent}"
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip, deflate",
                   "User-Agent": agent}
        for name, header in (("CIVIS_JOB_ID", "X-Civis-Job-ID"), ("CIVIS_RUN_ID", "X-Civis-Run-ID")):
            if env.get(name):
                headers[header] = check_header_text(env[name], f"the {name} environment variable")
        refusal = None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        else:
            refusal = MissingAPIKeyError(problem or (
                "No Civis API key: pass api_key= to APIClient or set the CIVIS_API_KEY "
                "environment variable"))
        parts = urlsplit(base_url)
        host = parts.hostname or ""
        allowed = config.allow_insecure_http or env.get(INSECURE_ENV) == "1"
        if refusal is None and parts.scheme == "http" and not allowed:
            if not _is_loopback(host):
                refusal = InsecureTransportError(
                    f"Refusing to send the API key over plain http to {host}: use https, or "
                    f"pass allow_insecure_http=True (or set {INSECURE_ENV}=1)")
            elif _proxied(base_url, env):
                refusal = InsecureTransportError(
                    f"Refusing to send the API key over plain http to {host} through a proxy "
                    f"(HTTP_PROXY is set): use https, add {host} to NO_PROXY, or pass "
                    f"allow_insecure_http=True (or set {INSECURE_ENV}=1)")
        return cls(base_url=base_url, headers=headers, timeout=_timeout(config.timeout),
                   refusal=refusal,
                   max_bytes=max_response_bytes(getattr(config, "max_response_bytes", None)))

    def url(self, path):
        """The absolute URL of an API path (``/jobs/1`` -> ``{base}jobs/1``)."""
        return self.base_url + path.lstrip("/")

    def __reduce__(self):
        raise TypeError("RequestDefaults hold the API key: they are not picklable")


def plan_request(defaults, method, path, *, params=None, json_body=None, headers=None,
                 networked=True, max_bytes=None):
    """The :class:`HTTPRequest` for one call.

    Parameters
    ----------
    defaults : RequestDefaults
    method : str
        The verb, upper case.
    path : str
        The API path (``/jobs/1``), its values already quoted.
    params : dict or list of pairs, optional
        The query.
    json_body : object, optional
        Sent as JSON when not None.
    headers : dict, optional
        Extra headers (e.g. conditional ones).
    networked : bool
        False for a transport that sends nothing over a network (a test
        double): the key and plain-http rules do not apply.
    max_bytes : int, optional
        This request's body limit instead of the client's.

    Raises
    ------
    MissingAPIKeyError, InsecureTransportError
        When no request may be sent (see :attr:`RequestDefaults.refusal`).
    """
    refusal = defaults.refusal
    if refusal is not None and networked:
        raise type(refusal)(*refusal.args)
    all_headers = defaults.headers
    body = None
    if json_body is not None:
        body = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
        all_headers = {**all_headers, "Content-Type": "application/json"}
    if headers:
        all_headers = {**all_headers, **headers}
    return HTTPRequest(method, defaults.url(path), path, all_headers,
                       params or None, body, defaults.timeout, max_bytes or defaults.max_bytes)


# -- decoding ---------------------------------------------------------------------
def _snippet(body):
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…"


def _where(request):
    return request.path or urlsplit(request.url).path


def api_error(request, response):
    """The :class:`CivisAPIError` for an error answer (:class:`CivisAPIKeyError` for 401)."""
    status = response.status
    message = response.reason or "HTTP error"
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, RecursionError):
        body = None
        message = f"{message}: {_snippet(response.content)}"
    if isinstance(body, dict):
        described = body.get("errorDescription") or body.get("error")
        if described:
            message = described
    kind = CivisAPIKeyError if status == 401 else CivisAPIError
    return kind(status, str(message), response, request.method, _where(request))


def check_status(request, response):
    """Raise the mapped :class:`CivisAPIError` when ``response`` is an error (400 or more)."""
    if response.status >= 400:
        raise api_error(request, response)


def check_size(request, response):
    """Raise :class:`InvalidResponseError` when the body is over the request's ``max_bytes``.

    :class:`~civis_dyn.HTTPTransport` stops reading there already; this holds
    the limit for every other transport too.
    """
    limit = request.max_bytes
    if limit is not None and len(response.content) > limit:
        raise InvalidResponseError(response.status, str(BodyTooLarge(
            "the response body", limit, response_setting())), response, request.method,
            _where(request))


def decode_json(request, response):
    """The body decoded as JSON (None when empty), or :class:`InvalidResponseError`."""
    content = response.content
    if not content:
        return None
    check_size(request, response)
    try:
        return json.loads(content)
    except RecursionError:
        raise InvalidResponseError(response.status, "the response's JSON is nested too deeply to "
                                   "be decoded", response, request.method, _where(request)) from None
    except ValueError:
        pass
    raise InvalidResponseError(response.status, f"the response is not valid JSON: "
                               f"{_snippet(content)}", response, request.method, _where(request))


def decode_page(request, response):
    """The items of one page of a paginated list (a JSON array; empty body: no items)."""
    items = decode_json(request, response)
    if items is None:
        return []
    if not isinstance(items, list):
        raise InvalidResponseError(response.status, "a paginated endpoint returned a non-list "
                                   "body", response, request.method, _where(request))
    return items


def within(request, remaining):
    """``request`` with timeouts that end it within ``remaining`` seconds (the call's deadline).

    The request itself when its connect + read timeouts already fit (the usual
    case, at no cost).
    """
    connect, read = request.timeout
    if connect + read <= remaining:
        return request
    remaining = max(remaining, 0.001)
    connect = min(connect, remaining / 2)
    return dataclasses.replace(request, timeout=(connect, remaining - connect))


def give_up_error(request, error, attempts):
    """The error raised after the last attempt failed with ``error`` (no cause attached)."""
    what, sep, detail = str(error).partition(": ")  # "ReadTimeout: ..." as transports word it
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    kind = CivisTimeoutError if isinstance(error, CivisTimeoutError) else CivisConnectionError
    return kind(f"{request.method} {_where(request)}: {what}{tries}{sep}{detail}",
                reason=getattr(error, "reason", None), sent=getattr(error, "sent", True))


# -- the blocking driver ------------------------------------------------------------
class Wait:
    """A step of :func:`attempts`: wait this many seconds, then go on."""

    __slots__ = ("seconds",)

    def __init__(self, seconds):
        self.seconds = seconds

    def __repr__(self):
        return f"Wait(seconds={self.seconds!r})"

    def __eq__(self, other):
        return isinstance(other, Wait) and other.seconds == self.seconds

    __hash__ = None


def attempts(policy, request):
    """The send loop of one request as a generator, free of I/O: both drivers step through it.

    Yields the :class:`HTTPRequest` to send next (bounded by the call's deadline, see
    :func:`within`) and expects back ``(response, None)`` or ``(None, error)`` for it;
    yields a :class:`Wait` before a retry and expects back None. Returns the final
    :class:`HTTPResponse` (via ``StopIteration.value``), whatever its status; raises what
    :func:`give_up_error` gives when no answer came, and :class:`RedirectError` for a
    redirect that is not followed.
    """
    clock = policy.clock
    started = clock()
    attempt = hops = 0
    while True:
        attempt += 1
        response, error = yield within(request, policy.max_elapsed - (clock() - started))
        if response is not None and response.status in REDIRECTS:
            follow = redirect_request(request, response, hops)
            if follow is not None:
                request, hops, attempt = follow, hops + 1, attempt - 1
                continue
        wait = retry_wait(policy, request, attempt, clock() - started, response, error)
        if wait is None:
            if error is not None:
                raise give_up_error(request, error, attempt)
            return response
        import logging

        log = logging.getLogger(LOGGER)
        level = logging.INFO if wait >= LONG_WAIT else logging.DEBUG
        if log.isEnabledFor(level):
            outcome = f"HTTP {response.status}" if response is not None else str(error)
            log.log(level, "%s %s: %s; retrying in %.1f s (attempt %d of %d)",
                    request.method, _where(request), outcome, wait, attempt, policy.max_attempts)
        yield Wait(wait)


class Driver:
    """What both drivers share: the transport, request defaults and retry policy.

    :class:`SyncDriver` and :class:`~civis_dyn._async_driver.AsyncDriver` add only the loop
    that steps through :func:`attempts` with blocking or awaited sends.
    """

    __slots__ = ("transport", "defaults", "retry_policy", "_networked")

    def __init__(self, transport, defaults, policy):
        self.transport = transport
        self.defaults = defaults
        self.retry_policy = policy
        self._networked = getattr(transport, "networked", True) is not False

    def plan(self, method, path, *, params=None, json_body=None, headers=None, max_bytes=None):
        """:func:`plan_request` with this driver's defaults (see there)."""
        return plan_request(self.defaults, method, path, params=params, json_body=json_body,
                            headers=headers, networked=self._networked, max_bytes=max_bytes)

    @property
    def base_url(self):
        """The API's root URL."""
        return self.defaults.base_url

    @property
    def key_fingerprint(self):
        """sha256 of the key the requests carry, or None."""
        return self.defaults.key_fingerprint

    def url(self, path):
        """The absolute URL of an API path."""
        return self.defaults.url(path)


class SyncDriver(Driver):
    """Sends planned requests over a blocking :class:`~civis_dyn.Transport`, with retries.

    The loop of the module docstring; everything it decides is decided by the
    pure functions above.

    Parameters
    ----------
    transport : Transport
    defaults : RequestDefaults
    policy : RetryPolicy
        Also the call's deadline: no attempt runs past ``max_elapsed``
        seconds after the first started (see :func:`within`).
    """

    __slots__ = ()

    @classmethod
    def from_config(cls, config, transport=None, environ=None):
        """The driver of a :class:`~civis_dyn._config.ClientConfig`.

        Parameters
        ----------
        config : ClientConfig
            Its ``retries`` become the :class:`RetryPolicy`.
        transport : Transport, optional
            Default: a new :class:`~civis_dyn.HTTPTransport`.
        environ : mapping, optional
            See :meth:`RequestDefaults.from_config`.
        """
        defaults = RequestDefaults.from_config(config, environ)
        policy = RetryPolicy.coerce(config.retries)
        if transport is None:
            from ._transport import HTTPTransport

            transport = HTTPTransport()
        elif not callable(getattr(transport, "send", None)):
            raise ArgumentTypeError(f"transport must be a civis_dyn.Transport (with send() and "
                                    f"close()), not {type(transport).__name__}")
        return cls(transport, defaults, policy)

    def send(self, request, retries=None):
        """Send ``request``, following same-origin GET redirects and retrying per the policy.

        Returns the final :class:`HTTPResponse`, whatever its status.

        Raises
        ------
        CivisConnectionError, CivisTimeoutError
            When no answer came, after retries.
        RedirectError
            For a redirect that is not followed.
        """
        policy = self.retry_policy if retries is None else retries
        transport = self.transport
        steps = attempts(policy, request)
        step = next(steps)
        while True:
            if isinstance(step, Wait):
                policy.sleep(step.seconds)
                outcome = None
            else:
                try:
                    outcome = (transport.send(step), None)
                except CivisConnectionError as exc:
                    outcome = (None, exc)
            try:
                step = steps.send(outcome)
            except StopIteration as finished:
                return finished.value

    def request(self, method, path, *, params=None, json_body=None, headers=None, retries=None,
                max_bytes=None):
        """Plan, send and check one request; return the :class:`HTTPResponse` (status < 400).

        Raises
        ------
        MissingAPIKeyError, InsecureTransportError
            Before sending anything.
        CivisAPIError
            For error statuses (:class:`CivisAPIKeyError` for 401).
        CivisConnectionError, CivisTimeoutError
            When no answer came, after retries.
        """
        request = self.plan(method, path, params=params, json_body=json_body, headers=headers,
                            max_bytes=max_bytes)
        response = self.send(request, retries)
        check_status(request, response)
        return response

    def close(self):
        """Close the transport."""
        self.transport.close()

    def __repr__(self):
        return f"<SyncDriver {self.defaults.base_url} over {self.transport!r}>"
