"""``Stubber``: canned API answers for a real :class:`civis_dyn.APIClient`, with no HTTP.

A :class:`Stubber` owns a :class:`StubTransport` (``stubber.transport``), a
:class:`civis_dyn.Transport` that answers each request with the next queued
response. While the stubber is active (``with Stubber(client):``) the client
sends through it (``client.meta.set_transport``); any other client built on the
same schema can use it too: ``APIClient(transport=stubber.transport)``.
Everything above the transport runs for real: the method's argument checks,
the request's path, query and body, the wrapping of the answer into a
:class:`~civis_dyn.Response` (or the :class:`~civis_dyn.HTTPResponse` for
``return_type="raw"``), pagination, and the mapping of error statuses to
:class:`~civis_dyn.CivisAPIError`.

Checks, each failing with a :class:`StubberError` that says what went wrong:

* when a response is added, it is checked against the operation's response
  schema by the package's validator (:mod:`civis_dyn.spec._validate`, rules
  :data:`~civis_dyn.spec._validate.RESPONSES`): keys snake_case or as the
  schema spells them, exactly the schema's types, no field the schema does
  not list (unless ``additionalProperties``), ``null`` anywhere, required
  fields optional, free-form objects kept as given;
* when a request arrives, it must be for the operation queued next, and, if
  the response was added with ``expected_params``, with exactly those
  arguments.

Requests are matched to operations by HTTP verb and path, so a deprecated
alias (``list_runs_inputs``) and its preferred name (``get_runs_inputs``)
answer the same queued response.
"""

import json
import threading
from collections import deque
from http import HTTPStatus
from unittest import mock

from .._errors import CivisDynError
from .._http import Headers, HTTPResponse
from .._meta import ClientMeta
from .._pipeline import RetryPolicy
from .._resources import argument_error, query_items, suggest
from ..spec._routing import NoRoute, operation_router
from ..spec._validate import ARGUMENTS, RESPONSES, Mismatch, check, format_path, plain_json

__all__ = ["InvalidStubResponseError", "StubTransport", "Stubber", "StubberError"]

_NO_BODY = object()


class StubberError(CivisDynError, AssertionError):
    """A :class:`Stubber` check failed: an unexpected call, wrong parameters, unused responses.

    An :class:`AssertionError`, so test runners report it as a failed check.
    """


class InvalidStubResponseError(StubberError, ValueError):
    """A canned response does not fit the operation's response schema."""


class Stubber:
    """Answer a client's API calls with canned responses, checked against the schema.

    Parameters
    ----------
    client : civis_dyn.APIClient
        The client that sends through :attr:`transport` while the stubber is
        active (its schema is the one responses are checked against). It
        needs no API key: nothing is sent.

    Attributes
    ----------
    transport : StubTransport
        The :class:`civis_dyn.Transport` that answers from the queue; pass it
        as ``APIClient(transport=stubber.transport)`` to stub another client
        of the same schema (that client's retry policy then applies, so a
        queued 503 followed by a 200 exercises its retries).

    Examples
    --------
    >>> from civis_dyn.testing import Stubber
    >>> client = civis_dyn.APIClient(api_key="unused")            # doctest: +SKIP
    >>> with Stubber(client) as stubber:                           # doctest: +SKIP
    ...     stubber.add_response("jobs.get", {"id": 1, "state": "idle"},
    ...                          expected_params={"id": 1})
    ...     assert client.jobs.get(1).state == "idle"
    ...     stubber.assert_no_pending_responses()

    Notes
    -----
    The stubber answers once per request: with ``iterator=True`` each page is
    a request of its own (expect ``page_num``). As the API does, pages carry
    ``X-Pagination-Per-Page`` (the request's ``limit``) and
    ``X-Pagination-Current-Page``, so iteration stops after a short page;
    otherwise queue an empty last page, or pass
    ``headers={"X-Pagination-Total-Pages": "2"}``. While the stubber is
    active, its client does not retry (one queued error is one raised error).
    """

    def __init__(self, client):
        meta = getattr(client, "__dict__", {}).get("meta")
        if not isinstance(meta, ClientMeta):
            raise TypeError(f"Stubber needs a civis_dyn.APIClient, not {type(client).__name__}")
        self.client = client
        self.transport = StubTransport(self)
        self._spec = meta.spec
        self._queue = deque()
        self._lock = threading.Lock()
        self._original = None
        self._active = False

    def __repr__(self):
        return f"<Stubber active={self._active} pending={len(self._queue)}>"

    # -- activation ---------------------------------------------------------
    def activate(self):
        """Make the client send through :attr:`transport`, without retries (done by ``with``)."""
        if self._active:
            raise StubberError("Stubber: already active")
        meta = self.client.meta
        policy = meta.retry_policy
        previous = meta.set_transport(self.transport, retries=RetryPolicy(max_attempts=1))
        self._original = (previous, policy)
        self._active = True

    def deactivate(self):
        """Give the client its transport and retry policy back (done at the end of ``with``)."""
        if not self._active:
            return
        transport, policy = self._original
        self.client.meta.set_transport(transport, retries=policy)
        self._original = None
        self._active = False

    def __enter__(self):
        self.activate()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.deactivate()
        return False

    # -- queueing -------------------------------------------------------------
    def add_response(self, method, service_response=None, expected_params=None, *,
                     status_code=None, headers=None):
        """Queue the answer to the next call.

        Parameters
        ----------
        method : str
            ``"resource.method"``, e.g. ``"jobs.get"``.
        service_response : dict, list or None
            The body the API answers with, snake_case or camelCase keys
            (a :class:`~civis_dyn.Response` works too). Checked now against
            the operation's response schema. None for operations that answer
            with no content (204).
        expected_params : dict, optional
            The call's arguments by their Python names (``{"id": 1}``); when
            given, the call must have exactly these (``unittest.mock.ANY``
            matches any value).
        status_code : int, optional
            Default: the status the schema documents (200, 201, 202 or 204).
        headers : dict, optional
            Response headers, e.g. ``{"X-Pagination-Total-Pages": "3"}``.

        Raises
        ------
        InvalidStubResponseError
            When the response does not fit the schema, naming the field.
        StubberError
            For an unknown method or unusable ``expected_params``.
        """
        operation, label = self._operation(method)
        expected = self._expected_arguments(operation, label, expected_params)
        code, _, schema = operation.response
        if status_code is None:
            status_code = int(code) if str(code).isdigit() else 200
        if not isinstance(status_code, int) or not 200 <= status_code < 400:
            raise ValueError(f"Stubber: status_code of a response must be 200-399, got "
                             f"{status_code!r}; use add_client_error() for errors")
        body = self._response_body(operation, label, service_response, status_code, schema)
        self._queue.append(_Answer(operation, label, expected, status_code, body, _headers(headers)))

    def add_client_error(self, method, status_code=400, message=None, expected_params=None, *,
                         headers=None):
        """Queue an API error as the answer to the next call.

        The call raises :class:`civis_dyn.CivisAPIError` (``CivisAPIKeyError``
        for 401) with ``status_code`` and ``error_message``, as the client
        does for a real error answer.

        Parameters
        ----------
        method : str
            ``"resource.method"``, e.g. ``"jobs.get"``.
        status_code : int, optional
            400-599 (default 400).
        message : str, optional
            The API's ``errorDescription`` (default: the HTTP reason phrase).
        expected_params : dict, optional
            As for :meth:`add_response`.
        headers : dict, optional
            Response headers.
        """
        operation, label = self._operation(method)
        expected = self._expected_arguments(operation, label, expected_params)
        if not isinstance(status_code, int) or not 400 <= status_code < 600:
            raise ValueError(f"Stubber: status_code of a client error must be 400-599, got "
                             f"{status_code!r}")
        reason = _reason(status_code)
        if message is None:
            message = reason or "HTTP error"
        slug = (reason or "error").lower().replace(" ", "_")
        body = {"error": slug, "errorDescription": str(message), "code": status_code}
        self._queue.append(_Answer(operation, label, expected, status_code, body, _headers(headers)))

    def assert_no_pending_responses(self):
        """Raise :class:`StubberError` if queued responses were not used."""
        with self._lock:
            pending = [answer.label for answer in self._queue]
        if pending:
            raise StubberError(f"Stubber: {len(pending)} queued response(s) not used: "
                               f"{', '.join(pending)}")

    @property
    def pending(self):
        """Labels (``"jobs.get"``) of the responses not used yet, in order."""
        with self._lock:
            return [answer.label for answer in self._queue]

    # -- checks when adding -------------------------------------------------
    def _operation(self, method):
        if not isinstance(method, str):
            raise TypeError(f"Stubber: method must be a 'resource.method' string such as "
                            f"'jobs.get', not {type(method).__name__}")
        resource, dot, name = method.partition(".")
        index = self._spec.index
        if not dot or resource not in index:
            if not dot:
                raise StubberError(f"Stubber: method must look like 'resource.method' "
                                   f"(e.g. 'jobs.get'), got {method!r}")
            raise StubberError(f"Stubber: the API has no resource {resource!r}."
                               f"{suggest(resource, index)}")
        if name not in index[resource]:
            hint = suggest(name, index[resource], prefix=f"{resource}.")
            raise StubberError(f"Stubber: the API has no method {method!r}.{hint}")
        return self._spec.operation(resource, name), method

    @staticmethod
    def _expected_arguments(operation, label, expected_params):
        if expected_params is None:
            return None
        if not isinstance(expected_params, dict):
            raise TypeError(f"Stubber: expected_params must be a dict, not "
                            f"{type(expected_params).__name__}")
        params = {p.name: p for p in operation.parameters}
        out = {}
        for name, value in expected_params.items():
            if name == "iterator" and operation.paginated:
                raise StubberError(f"Stubber: expected_params for {label} cannot include "
                                   f"'iterator': with iterator=True each page is a call of its "
                                   f"own; expect 'page_num' instead")
            param = params.get(name)
            if param is None:
                raise StubberError(f"Stubber: {label} has no parameter {name!r}."
                                   f"{suggest(name, params)}")
            if value is None:
                continue
            if value is mock.ANY:
                out[name] = value
                continue
            try:
                value = check(value, param.schema, operation.spec, ARGUMENTS, (name,))
            except Mismatch as exc:
                raise StubberError(str(argument_error(f"Stubber: expected_params for {label}:",
                                                      exc))) from None
            out[name] = _encode(param, value)
        missing = [p.name for p in operation.parameters if p.required and p.name not in out]
        if missing:
            raise StubberError(f"Stubber: expected_params for {label} lack the required "
                               f"parameter(s): {', '.join(map(repr, missing))}")
        return out

    @staticmethod
    def _response_body(operation, label, value, status_code, schema):
        spec = operation.spec
        try:
            if status_code == 204 or (schema is None and operation.response[0] == "204"):
                if value is not None:
                    raise Mismatch((), f"the API answers {status_code} No Content: pass "
                                       f"None, not {type(value).__name__}")
                return _NO_BODY
            if schema is None:
                return _NO_BODY if value is None else plain_json(value)
            if operation.returns_array and schema.get("type") != "array":
                # the API sends an array of what the schema describes (see spec._naming)
                if isinstance(value, (list, tuple)):
                    return [check(v, schema, spec, RESPONSES, (i,)) if isinstance(v, dict)
                            else plain_json(v, (i,)) for i, v in enumerate(value)]
                if not isinstance(value, dict):
                    raise Mismatch((), f"must be a list, not {type(value).__name__}")
            if value is None:
                expected = "a list" if schema.get("type") == "array" else "a dict"
                raise Mismatch((), f"must be {expected}, not None")
            return check(value, schema, spec, RESPONSES)
        except Mismatch as exc:
            raise InvalidStubResponseError(f"{label} response: {_problem(exc)}") from None

    # -- answering ------------------------------------------------------------
    def _answer(self, request):
        verb, path, params = request.method, request.path, request.params
        try:
            (resource, name), path_values = operation_router(self._spec).match(verb, path)
            actual = f"{resource}.{name}"
        except NoRoute:
            resource = name = path_values = None
            actual = f"{verb} {path}"
        with self._lock:
            if not self._queue:
                raise StubberError(f"Stubber: unexpected call to {actual}: no responses are queued")
            answer = self._queue[0]
            op = answer.operation
            if resource is None or self._spec.operation(resource, name).path != op.path \
                    or verb != op.verb.upper():
                raise StubberError(f"Stubber: expected a call to {answer.label}, got {actual}")
            if answer.expected is not None:
                arguments = _actual_arguments(op, path_values, params, request.json())
                problems = _differences(op, answer.expected, arguments)
                if problems:
                    raise StubberError(f"Stubber: {answer.label} called with unexpected "
                                       f"parameters: {'; '.join(problems)}")
            self._queue.popleft()
        headers = answer.headers
        if op.paginated and params:
            headers = _pagination_headers(params, headers)
        return _http_response(answer.status_code, answer.body, headers, request.url)


class _Answer:
    """One queued answer."""

    __slots__ = ("operation", "label", "expected", "status_code", "body", "headers")

    def __init__(self, operation, label, expected, status_code, body, headers):
        self.operation = operation
        self.label = label
        self.expected = expected
        self.status_code = status_code
        self.body = body
        self.headers = headers


class StubTransport:
    """A :class:`civis_dyn.Transport` that answers from a :class:`Stubber`'s queue.

    Sends nothing anywhere. Requests are routed by verb and API path
    (``request.path``), so any client of the stubber's schema can use it.
    """

    networked = False  # nothing leaves the process: no key needed

    def __init__(self, stubber):
        self._stubber = stubber

    def __repr__(self):
        return f"<StubTransport of {self._stubber!r}>"

    def send(self, request):
        """Answer one :class:`~civis_dyn.HTTPRequest` with the next queued response.

        Raises
        ------
        StubberError
            When the request is not the one queued next, or has other arguments.
        """
        return self._stubber._answer(request)

    def close(self):
        """Nothing to close."""


# -- parameters ---------------------------------------------------------------

def _encode(param, value):
    """A checked value as the client puts it in the request (for comparison)."""
    if param.location == "path":
        return str(value)
    if param.location == "query":
        return next(iter(query_items(param.wire_name, value).values()))
    return value


def _actual_arguments(op, path_values, params, body):
    """The request's arguments by Python name, as the client encoded them."""
    by_wire = {(p.location, p.wire_name): p.name for p in op.parameters}
    out = {}
    for wire, value in path_values.items():
        out[by_wire.get(("path", wire), wire)] = value
    for key, value in dict(params or {}).items():
        wire = key[:-2] if key.endswith("[]") else key
        out[by_wire.get(("query", wire), key)] = value
    if isinstance(body, dict):
        for key, value in body.items():
            out[by_wire.get(("body", key), key)] = value
    return out


def _shown(param, value):
    """A request value as the caller would have written it (for messages)."""
    if value is mock.ANY:
        return "<ANY>"
    if param is not None:
        kind = param.schema.get("type")
        if kind == "integer" and isinstance(value, str) and value.isdigit():
            value = int(value)
        elif kind == "boolean" and value in ("true", "false"):
            value = value == "true"
    return repr(value)


def _differences(op, expected, actual):
    params = {p.name: p for p in op.parameters}
    order = [p.name for p in op.parameters]
    names = order + sorted((set(expected) | set(actual)) - set(order))
    problems = []
    for name in names:
        param = params.get(name)
        if name in expected and name in actual:
            if expected[name] != actual[name]:
                problems.append(f"{name}={_shown(param, actual[name])} "
                                f"(expected {_shown(param, expected[name])})")
        elif name in actual:
            problems.append(f"{name}={_shown(param, actual[name])} (not expected)")
        elif name in expected:
            problems.append(f"{name} not given (expected {_shown(param, expected[name])})")
    return problems


# -- responses ----------------------------------------------------------------

def _problem(mismatch):
    """A response :class:`Mismatch` in the Stubber's words (``field 'runs[0].id' must be ...``)."""
    if mismatch.kind == "unknown":
        where = (*mismatch.path, mismatch.field)
        text = f"unknown field {format_path(where)!r}"
        close = mismatch.suggestion()
        if close:
            text += " (did you mean " + " or ".join(
                repr(format_path((*mismatch.path, c))) for c in close) + "?)"
        return text
    if mismatch.path:
        return f"field {format_path(mismatch.path)!r} {mismatch.problem}"
    return mismatch.problem


def _reason(status_code):
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""


def _headers(headers):
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise TypeError(f"Stubber: headers must be a dict, not {type(headers).__name__}")
    return {str(k): str(v) for k, v in headers.items()}


def _pagination_headers(params, headers):
    """Add the page headers the API sends with every page, unless the test gave its own."""
    given = {k.lower() for k in headers}
    headers = dict(headers)
    for name, header in (("limit", "X-Pagination-Per-Page"), ("page_num", "X-Pagination-Current-Page")):
        if params.get(name) is not None and header.lower() not in given:
            headers[header] = str(params[name])
    return headers


def _http_response(status_code, body, headers, url):
    """The :class:`~civis_dyn.HTTPResponse` the API would have sent."""
    content = b"" if body is _NO_BODY else json.dumps(body, separators=(",", ":")).encode()
    all_headers = {"Content-Type": "application/json"} if content else {}
    all_headers["Content-Length"] = str(len(content))
    all_headers.update(headers)
    return HTTPResponse(status_code, Headers(all_headers), content, url, _reason(status_code))
