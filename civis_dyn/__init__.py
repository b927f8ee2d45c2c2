"""civis_dyn: a Civis Analytics API client that builds itself from the API's schema.

>>> import civis_dyn
>>> client = civis_dyn.APIClient()          # doctest: +SKIP
>>> client.jobs.list_runs(42, limit=5)      # doctest: +SKIP

The public surface is what ``__all__`` lists; every other module is private.
Features above the core (runs and futures, testing doubles) are imported only
when first used, so ``import civis_dyn`` stays cheap.
"""

from ._client import APIClient
from ._errors import (
    AmbiguousNameError,
    ArgumentTypeError,
    ArgumentValueError,
    CivisAPIError,
    CivisAPIKeyError,
    CivisConnectionError,
    CivisDynError,
    CivisImmutableResponseError,
    CivisImportError,
    CivisJobFailure,
    CivisRunTimeoutError,
    CivisTimeoutError,
    EmptyResultError,
    InsecureTransportError,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    RedirectError,
    SpecError,
    UnsupportedOperationError,
    UsageError,
)
from ._http import HTTPRequest, HTTPResponse, Transport
from ._lazy import lazy_exports as _lazy_exports
from ._resources import register_extension as _register_extension
from ._response import ListResponse, PaginatedResponse, Response, find, find_one
from ._pipeline import RetryPolicy
from ._transport import HTTPTransport
from .spec._runs import offers_runs as _offers_runs
from ._version import __version__
from .spec._validate import SchemaDriftWarning

# name -> module of the features loaded on first use
_LAZY = {
    "AsyncAPIClient": "._async_client",
    "AsyncRunFuture": "._async_runs",
    "CivisFuture": ".futures",
    "ContainerFuture": ".futures",
    "cache_api_spec": ".spec._source",
    "civis_logger": ".loggers",
    "follow_logs": ".futures",
    "job_logs": ".futures",
    "run_job": ".futures",
    "run_template": ".futures",
}

# Submodules reachable as attributes without an import, as civis-python's are
# (``civis.utils.run_job``, ``civis.response.Response``).
_SUBMODULES = ("base", "futures", "io", "loggers", "response", "testing", "tests", "utils")

# Convenience methods offered on resources (``client.jobs.run_and_wait``), imported on
# first use: (name, "module:function", alternatives of required API methods, or a
# predicate on the schema's run model).
_EXTENSIONS = (
    # civis_dyn.conveniences: find by name, create-or-update, export/import, housekeeping
    ("archive_stale", "civis_dyn.conveniences:archive_stale",
     (("list", "put_archive"), ("list", "put_*_archive"))),
    ("cancel_runs", "civis_dyn.conveniences:cancel_runs", _offers_runs("list", "cancel")),
    ("count_runs_by_state", "civis_dyn.conveniences:count_runs_by_state", _offers_runs("list")),
    ("create_or_update", "civis_dyn.conveniences:create_or_update", (("list", "post"),)),
    ("export_definition", "civis_dyn.conveniences:export_definition", (("get",),)),
    ("find_by_name", "civis_dyn.conveniences:find_by_name", (("list",),)),
    ("get_id", "civis_dyn.conveniences:get_id", (("list",),)),
    ("import_definition", "civis_dyn.conveniences:import_definition", (("post",),)),
    # civis_dyn.io: client.files.upload / download
    ("download", "civis_dyn.io._files:download", (("get", "post_multipart"),)),
    ("upload", "civis_dyn.io._files:upload", (("post", "post_multipart"),)),
    # civis_dyn.futures: start, wait for, watch and follow runs of every runnable kind
    ("follow_logs", "civis_dyn.futures:follow_resource_logs", _offers_runs("get", "logs")),
    ("run", "civis_dyn.futures:run", _offers_runs("start", "get")),
    ("run_and_wait", "civis_dyn.futures:run_and_wait", _offers_runs("start", "get")),
    ("watch_run", "civis_dyn.futures:watch_run", _offers_runs("get")),
)
for _name, _target, _requires in _EXTENSIONS:
    _register_extension(_name, _target, _requires)

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
