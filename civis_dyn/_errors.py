"""The exceptions civis_dyn raises.

Every exception derives from :class:`CivisDynError`; where a built-in exception
has the same meaning, the class subclasses it too, so ``except TypeError`` or
``except ConnectionError`` keeps working::

    CivisDynError
    ├── SpecError (ValueError)               the schema is malformed
    ├── ArgumentTypeError (TypeError)        an argument has the wrong type
    ├── ArgumentValueError (ValueError)      an argument has a wrong value
    ├── UnsupportedOperationError (NotImplementedError)  the API offers no way to do it
    ├── UsageError (RuntimeError)            a call made where it cannot work
    ├── MissingAPIKeyError (ValueError)      no API key to send
    ├── InsecureTransportError (ValueError)  the key would travel over plain http
    ├── CivisImmutableResponseError (TypeError)  a Response was written to
    ├── NotFoundError (LookupError)          no object has the name looked up
    ├── AmbiguousNameError (LookupError)     several objects have that name
    ├── CivisConnectionError (ConnectionError)   no usable answer from the server
    │   └── CivisTimeoutError (TimeoutError)     … because it took too long
    ├── CivisAPIError                        the API answered with an error
    │   ├── CivisAPIKeyError                 … 401: the key was refused
    │   ├── InvalidResponseError             … or with a body that is not JSON
    │   └── RedirectError                    … or with a redirect that is not followed
    ├── CivisJobFailure                      a run ended in a failed state
    ├── EmptyResultError (LookupError)       a file or query result is not there (civis_dyn.io)
    ├── CivisImportError                     files imported into a table disagree (civis_dyn.io)
    └── CivisRunTimeoutError (TimeoutError)  waiting for a run took too long

No exception text ever contains the API key.
"""

__all__ = [
    "AmbiguousNameError",
    "ArgumentTypeError",
    "ArgumentValueError",
    "CivisAPIError",
    "CivisAPIKeyError",
    "CivisConnectionError",
    "CivisDynError",
    "CivisImmutableResponseError",
    "CivisImportError",
    "CivisJobFailure",
    "CivisRunTimeoutError",
    "CivisTimeoutError",
    "EmptyResultError",
    "InsecureTransportError",
    "InvalidResponseError",
    "MissingAPIKeyError",
    "NotFoundError",
    "RedirectError",
    "SpecError",
    "UnsupportedOperationError",
    "UsageError",
]


class CivisDynError(Exception):
    """Base class of every exception raised by civis_dyn."""


class SpecError(CivisDynError, ValueError):
    """The API schema is malformed; the message names the location."""


class ArgumentTypeError(CivisDynError, TypeError):
    """An argument has the wrong type: of an API method (for the schema), the client or a helper.

    Also raised for a call's missing, unexpected or repeated arguments, as
    Python raises :class:`TypeError` for them.
    """


class ArgumentValueError(CivisDynError, ValueError):
    """An argument has a value that is not allowed (by the schema, or by the client)."""


class UnsupportedOperationError(CivisDynError, NotImplementedError):
    """What was asked has no endpoint in the API's schema (e.g. a run kind without outputs)."""


class UsageError(CivisDynError, RuntimeError):
    """A call was made where it cannot work (e.g. waiting for a run from a poller's own thread)."""


class MissingAPIKeyError(CivisDynError, ValueError):
    """No API key was given and ``CIVIS_API_KEY`` is not set."""


class InsecureTransportError(CivisDynError, ValueError):
    """Sending the API key over plain ``http://`` to a remote host was refused."""


class CivisImmutableResponseError(CivisDynError, TypeError):
    """A :class:`civis_dyn.Response` is read-only."""


class _NameLookupError(CivisDynError, LookupError):
    """Shared shape of :class:`NotFoundError` and :class:`AmbiguousNameError`.

    Parameters
    ----------
    message : str
        The full explanation (it lists the candidates).
    resource : str, optional
        The resource searched (``"projects"``).
    name : str, optional
        The name looked up.
    candidates : list of (id, name), optional
        The objects worth showing: close names, or the objects sharing the name.
    """

    def __init__(self, message, resource=None, name=None, candidates=()):
        self.message = message
        self.resource = resource
        self.name = name
        self.candidates = [tuple(c) for c in candidates]
        super().__init__(message)

    def __str__(self):
        return self.message

    def __reduce__(self):
        return (type(self), (self.message, self.resource, self.name, self.candidates))


class NotFoundError(_NameLookupError):
    """No object of the resource has the name looked up.

    ``candidates`` lists ``(id, name)`` of objects with close names, if any.
    """


class AmbiguousNameError(_NameLookupError):
    """Several objects of the resource have the name looked up.

    ``candidates`` lists ``(id, name)`` of every object with that name.
    """


class CivisConnectionError(CivisDynError, ConnectionError):
    """The request got no usable answer (connection refused, reset, …).

    Transports raise it (see :class:`civis_dyn.Transport`); the client's
    retry decision reads its attributes.

    Parameters
    ----------
    message : str
        What happened (never the key, never the query string).
    reason : str, optional
        One of ``"dns"`` (the host name does not resolve), ``"refused"``,
        ``"connect-timeout"``, ``"timeout"`` (no answer in time), ``"reset"``,
        ``"incomplete"`` (the answer was cut), ``"invalid"`` (the request
        cannot be sent: a bad URL or header) or ``"other"``.
    sent : bool
        False when the request surely never reached the server, so any verb
        may be sent again.

    Attributes
    ----------
    reason, sent
    """

    def __init__(self, message="", *, reason=None, sent=True):
        self.reason = reason
        self.sent = sent
        super().__init__(message)


class CivisTimeoutError(CivisConnectionError, TimeoutError):
    """The server took longer than the client's timeout to answer."""


class CivisAPIError(CivisDynError):
    """The API answered with an HTTP error status.

    Built two ways: ``CivisAPIError(status_code, error_message, response,
    method, path)`` (how civis_dyn raises it) or, as in civis-python,
    ``CivisAPIError(requests_response)``: the status, the message (the body's
    ``errorDescription``) and the request's verb and path are then read from
    the response.

    Parameters
    ----------
    status_code : int or requests.Response
        The HTTP status code, or the whole response (civis-python's form).
    error_message : str, optional
        The body's ``errorDescription``, else the HTTP reason phrase.
    response : civis_dyn.HTTPResponse, optional
        The HTTP response (it holds no request, so no key).
    method, path : str, optional
        The request's verb and path, shown in ``str()``.

    Attributes
    ----------
    status_code, error_message, response, method, path
    """

    def __init__(self, status_code, error_message=None, response=None, method=None, path=None):
        if error_message is None and response is None and not isinstance(status_code, int):
            response = status_code
            status_code, error_message, method, path = _read_error_response(response)
        self.status_code = status_code
        self.error_message = error_message
        self.response = response
        self.method = method
        self.path = path
        super().__init__(str(self))

    @property
    def _response(self):
        """civis-python's name of :attr:`response`."""
        return self.response

    def __str__(self):
        if not self.status_code:
            return str(self.error_message)
        where = f" ({self.method} {self.path})" if self.method else ""
        return f"({self.status_code}) {self.error_message}{where}"

    def __reduce__(self):
        return (type(self), (self.status_code, self.error_message, None, self.method, self.path))


def _read_error_response(response):
    """``(status, message, method, path)`` of an error response, read as civis-python reads it."""
    content = getattr(response, "content", None)
    if content:
        try:
            body = response.json()
        except ValueError as exc:  # json.JSONDecodeError and requests' own subclass
            if "Expecting value: line 1 column 1 (char 0)" in str(exc):
                message = "No Response Content from Civis API"
            else:
                text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
                message = f"Response Content: {text}"
        else:
            described = body.get("errorDescription") if hasattr(body, "get") else None
            message = described or "No Error Message Available"
    else:
        message = getattr(response, "reason", None)
    request = getattr(response, "request", None)
    method = getattr(request, "method", None) if request is not None else None
    path = getattr(request, "path_url", None) if request is not None else None
    return getattr(response, "status_code", None), message, method, path


class CivisAPIKeyError(CivisAPIError):
    """The API refused the key (HTTP 401)."""


class InvalidResponseError(CivisAPIError):
    """The API answered with a body that is not the JSON it promised.

    ``error_message`` holds a short snippet of the body.
    """


class RedirectError(CivisAPIError):
    """The API answered with a redirect that is not followed.

    Only a GET redirected to the same origin (scheme, host, port) is followed;
    a redirect to another host or to plain ``http``, or of a POST, PUT, PATCH
    or DELETE, would send the body or the key somewhere it was not meant to go.

    Attributes
    ----------
    location : str or None
        Where the redirect pointed (without its query string).
    """

    def __init__(self, status_code, error_message, response=None, method=None, path=None, *,
                 location=None):
        self.location = location
        super().__init__(status_code, error_message, response, method, path)

    def __reduce__(self):
        return (_rebuild_redirect, (self.status_code, self.error_message, self.method, self.path,
                                    self.location))


def _rebuild_redirect(status_code, error_message, method, path, location):
    return RedirectError(status_code, error_message, None, method, path, location=location)


class CivisJobFailure(CivisDynError):
    """A run ended in a failed state.

    ``str()`` and :attr:`error_message` read as civis-python's: the message,
    preceded by ``(From job J / run R)`` when the ids are known, then the
    last log lines when there are any.

    Parameters
    ----------
    err_msg : str
        The run's error message.
    response : civis_dyn.Response, optional
        The final state of the run.
    job_id, run_id : int, optional
        Which run failed.
    log_lines : list of str, optional
        The last lines of the run's log.

    Attributes
    ----------
    error_message : str
        The message with the job and run ids (as civis-python's).
    response, job_id, run_id, log_lines
    """

    def __init__(self, err_msg, response=None, job_id=None, run_id=None, log_lines=()):
        self.job_id = job_id
        self.run_id = run_id
        self._original_err_msg = err_msg
        self.error_message = _with_job_and_run(err_msg, job_id, run_id)
        self.response = response
        self.log_lines = list(log_lines)
        super().__init__(str(self))

    def __str__(self):
        text = self.error_message
        if self.log_lines:
            text += "\nLast log lines:\n" + "\n".join(self.log_lines)
        return text

    def __reduce__(self):
        return (type(self), (self._original_err_msg, self.response, self.job_id, self.run_id,
                             self.log_lines))


def _with_job_and_run(err_msg, job_id, run_id):
    if job_id is None and run_id is None:
        return str(err_msg)
    if run_id is None:
        return f"(From job {job_id}) {err_msg}"
    return f"(From job {job_id} / run {run_id}) {err_msg}"


class EmptyResultError(CivisDynError, LookupError):
    """A file or a query result that should be there is not (civis-python's name; civis_dyn.io)."""


class CivisImportError(CivisDynError):
    """Files to import into one table disagree: columns, delimiter, header (civis-python's name)."""


class CivisRunTimeoutError(CivisDynError, TimeoutError):
    """Waiting for a run took longer than the timeout; the run itself goes on.

    Parameters
    ----------
    message : str
        What timed out.
    response : civis_dyn.Response, optional
        The last known state of the run (None when it was never polled).
    job_id, run_id : int, optional
        Which run was waited for.
    timeout : float, optional
        The timeout in seconds.

    Attributes
    ----------
    response, job_id, run_id, timeout
    state : str or None
        The run's last known state (``response.state``).
    """

    def __init__(self, message, response=None, job_id=None, run_id=None, timeout=None):
        self.response = response
        self.job_id = job_id
        self.run_id = run_id
        self.timeout = timeout
        super().__init__(message)

    @property
    def state(self):
        """The run's last known state, or None."""
        response = self.response
        if response is None:
            return None
        getter = getattr(response, "get", None)
        return getter("state") if getter else None

    def __reduce__(self):
        return (type(self), (self.args[0] if self.args else "", self.response, self.job_id,
                             self.run_id, self.timeout))
