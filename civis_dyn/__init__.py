"""civis_dyn: a Civis Analytics API client that builds itself from the API's schema.

>>> import civis_dyn
>>> client = civis_dyn.APIClient()          # doctest: +SKIP
>>> client.jobs.list_runs(42, limit=5)      # doctest: +SKIP

The public surface is what ``__all__`` lists; every other module is private.
Every public name is imported when first used (the convenience methods offered
on resources are registered by ``civis_dyn._extensions``), so ``import
civis_dyn`` loads no other module and costs about a millisecond.
"""

from ._lazy import lazy_exports as _lazy_exports
from ._version import __version__

# name -> module it lives in: every public name is imported on first use, so
# ``import civis_dyn`` loads no other module (``tests/test_public_api.py`` checks it)
_ERRORS = (
    "AmbiguousNameError", "ArgumentTypeError", "ArgumentValueError", "CivisAPIError",
    "CivisAPIKeyError", "CivisConnectionError", "CivisDynError", "CivisImmutableResponseError",
    "CivisImportError", "CivisJobFailure", "CivisRunTimeoutError", "CivisTimeoutError",
    "EmptyResultError", "InsecureTransportError", "InvalidResponseError", "MissingAPIKeyError",
    "NotFoundError", "RedirectError", "SpecError", "UnsupportedOperationError", "UsageError",
)
_LAZY = {
    **dict.fromkeys(_ERRORS, "._errors"),
    "APIClient": "._client",
    "AsyncAPIClient": "._async_client",
    "AsyncRunFuture": "._async_runs",
    "CivisFuture": ".futures",
    "ContainerFuture": ".futures",
    "HTTPRequest": "._http",
    "HTTPResponse": "._http",
    "HTTPTransport": "._transport",
    "ListResponse": "._response",
    "PaginatedResponse": "._response",
    "Response": "._response",
    "RetryPolicy": "._pipeline",
    "SchemaDriftWarning": ".spec._validate",
    "Transport": "._http",
    "cache_api_spec": ".spec._source",
    "civis_logger": ".loggers",
    "find": "._response",
    "find_one": "._response",
    "follow_logs": ".futures",
    "job_logs": ".futures",
    "run_job": ".futures",
    "run_template": ".futures",
}

# Submodules reachable as attributes without an import, as civis-python's are
# (``civis.utils.run_job``, ``civis.response.Response``).
_SUBMODULES = ("base", "futures", "io", "loggers", "response", "testing", "tests", "utils")

__all__ = [
    "APIClient",
    "AmbiguousNameError",
    "ArgumentTypeError",
    "ArgumentValueError",
    "AsyncAPIClient",
    "AsyncRunFuture",
    "CivisAPIError",
    "CivisAPIKeyError",
    "CivisConnectionError",
    "CivisDynError",
    "CivisFuture",
    "CivisImmutableResponseError",
    "CivisImportError",
    "CivisJobFailure",
    "CivisRunTimeoutError",
    "CivisTimeoutError",
    "ContainerFuture",
    "EmptyResultError",
    "HTTPRequest",
    "HTTPResponse",
    "HTTPTransport",
    "InsecureTransportError",
    "InvalidResponseError",
    "ListResponse",
    "MissingAPIKeyError",
    "NotFoundError",
    "PaginatedResponse",
    "RedirectError",
    "Response",
    "RetryPolicy",
    "SchemaDriftWarning",
    "SpecError",
    "Transport",
    "UnsupportedOperationError",
    "UsageError",
    "__version__",
    "cache_api_spec",
    "civis_logger",
    "find",
    "find_one",
    "follow_logs",
    "futures",
    "job_logs",
    "run_job",
    "run_template",
    "utils",
]


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals(), _SUBMODULES)
