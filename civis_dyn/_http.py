"""The transport seam: :class:`HTTPRequest`, :class:`HTTPResponse` and the :class:`Transport` protocol.

A transport turns one :class:`HTTPRequest` into one :class:`HTTPResponse`,
and does nothing else: no retries, no authentication rules, no error mapping
(those are the pure functions of :mod:`civis_dyn._pipeline`). httpx's
``BaseTransport.handle_request`` is the model. civis_dyn ships three:

* :class:`civis_dyn.HTTPTransport`: one pooled :class:`requests.Session`;
* ``civis_dyn.testing.Stubber().transport``: canned answers checked against the schema;
* ``civis_dyn.testing.LocalCivisAPI().transport()``: the local fake API, in process.

Any object with ``send(request) -> HTTPResponse`` and ``close()`` can be
passed as ``APIClient(transport=...)``.

No I/O happens in this module, and it imports nothing heavier than the
standard library.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from urllib.parse import urlencode

#: Connect and read timeouts in seconds when none are given.
DEFAULT_TIMEOUT = (10.0, 300.0)

__all__ = ["DEFAULT_TIMEOUT", "HTTPRequest", "HTTPResponse", "Headers", "SECRET_HEADERS",
           "Transport", "encode_query"]

# request headers that carry credentials: never shown (repr) nor kept (the local API's records)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


class Headers(Mapping):
    """A read-only, case-insensitive mapping of HTTP header names to values.

    Parameters
    ----------
    items : mapping or iterable of (str, str), optional

    Examples
    --------
    >>> h = Headers({"Content-Type": "application/json"})
    >>> h["content-type"], "CONTENT-TYPE" in h
    ('application/json', True)
    """

    __slots__ = ("_items",)

    def __init__(self, items=()):
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items = {str(k).lower(): (str(k), str(v)) for k, v in pairs}

    def __getitem__(self, name):
        return self._items[name.lower()][1]

    def __contains__(self, name):
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self):
        return (original for original, _ in self._items.values())

    def __len__(self):
        return len(self._items)

    def __eq__(self, other):
        if not isinstance(other, Mapping):
            return NotImplemented
        return {k.lower(): v for k, v in self.items()} == {
            str(k).lower(): v for k, v in other.items()}

    __hash__ = None

    def __repr__(self):
        return f"Headers({dict(self.items())!r})"


def _shown_headers(headers):
    return {k: ("<hidden>" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


@dataclass(frozen=True, slots=True, eq=False)
class HTTPRequest:
    """One HTTP request, as the pipeline planned it (immutable).

    Parameters
    ----------
    method : str
        The verb, upper case (``"GET"``).
    url : str
        The absolute URL, without the query string.
    path : str
        The API path the URL was made from (``"/jobs/1"``): shown in errors and
        used by test doubles to route the request.
    headers : mapping of str to str
        Every header to send (authentication included: never shown by ``repr``).
    params : dict or list of (str, value), optional
        The query; list values repeat the parameter (``ids[]=1&ids[]=2``).
    body : bytes, optional
        The request body (JSON, with ``Content-Type: application/json``).
    timeout : (float, float)
        Connect and read timeouts in seconds.
    max_bytes : int, optional
        The largest (decoded) answer body accepted; a transport stops reading
        past it (see :class:`~civis_dyn.HTTPTransport`). None: no limit.
    """

    method: str
    url: str
    path: str = ""
    headers: Mapping = field(default_factory=dict)
    params: object = None
    body: bytes | None = None
    timeout: tuple = DEFAULT_TIMEOUT
    max_bytes: int | None = None

    def json(self):
        """The body decoded as JSON (None without a body)."""
        return None if self.body is None else json.loads(self.body)

    def __repr__(self):
        return (f"HTTPRequest({self.method} {self.url}, headers={_shown_headers(self.headers)!r}, "
                f"params={self.params!r}, body={len(self.body or b'')} bytes)")

    def __reduce__(self):
        raise TypeError("an HTTPRequest carries the API key: it is not picklable")


@dataclass(frozen=True, slots=True, eq=False)
class HTTPResponse:
    """One HTTP response, as a transport received it (immutable).

    Offers the parts of :class:`requests.Response` that scripts use
    (``status_code``, ``headers``, ``content``, ``text``, ``json()``, ``ok``,
    ``reason``, ``url``, ``raise_for_status()``), so ``return_type="raw"``
    code written for civis-python keeps working.

    Parameters
    ----------
    status : int
        The HTTP status code.
    headers : mapping
        Case-insensitive response headers.
    content : bytes
        The body, decompressed.
    url : str
        The URL that answered.
    reason : str
        The reason phrase (``"Not Found"``).
    """

    status: int
    headers: Mapping = field(default_factory=Headers)
    content: bytes = b""
    url: str = ""
    reason: str = ""

    @property
    def status_code(self):
        """The HTTP status code (as :attr:`requests.Response.status_code`)."""
        return self.status

    @property
    def ok(self):
        """True for a status below 400."""
        return self.status < 400

    @property
    def text(self):
        """The body as text (the charset of ``Content-Type``, else UTF-8)."""
        charset = "utf-8"
        ctype = self.headers.get("Content-Type") or ""
        for part in ctype.split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.lower() == "charset" and value:
                charset = value.strip('"')
        try:
            return self.content.decode(charset, "replace")
        except LookupError:
            return self.content.decode("utf-8", "replace")

    def json(self, **kwargs):
        """The body decoded as JSON (raises :class:`ValueError` when it is not JSON)."""
        return json.loads(self.content, **kwargs)

    def raise_for_status(self):
        """Raise :class:`civis_dyn.CivisAPIError` for a status of 400 or more."""
        if self.status >= 400:
            from ._errors import CivisAPIError

            raise CivisAPIError(self.status, self.reason or "HTTP error", self)

    def __repr__(self):
        return f"<HTTPResponse [{self.status}] {len(self.content)} bytes>"


@runtime_checkable
class Transport(Protocol):
    """What sends requests for a client: ``send(request) -> response`` and ``close()``.

    A transport does the wire only. It raises :class:`civis_dyn.CivisConnectionError`
    (with ``reason`` and ``sent`` set, see there) when no answer came, and
    returns every answer, whatever its status: retries, redirects and error
    statuses are decided by the client's pipeline.

    A test double that sends nothing over a network may set a class
    attribute ``networked = False``: the client then plans requests without
    refusing a missing key or a plain-http base URL.
    """

    def send(self, request: HTTPRequest) -> HTTPResponse:
        """Send ``request`` and return the answer."""

    def close(self) -> None:
        """Release pooled connections (the transport may not be used afterwards)."""


def encode_query(params):
    """``params`` as requests encodes them into a query (None values dropped, lists repeated).

    The one query encoding of every transport, so all of them send the same URL.
    """
    if not params:
        return ""
    if isinstance(params, (str, bytes)):
        return params if isinstance(params, str) else params.decode("utf-8")
    pairs = []
    for key, values in (params.items() if isinstance(params, dict) else params):
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        for value in values:
            if value is not None:
                pairs.append((key.encode("utf-8") if isinstance(key, str) else key,
                              value.encode("utf-8") if isinstance(value, str) else value))
    return urlencode(pairs, doseq=True)
