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
    SpecError,
)
from ._lazy import lazy_exports as _lazy_exports
from ._resources import register_extension as _register_extension
from ._response import ListResponse, PaginatedResponse, Response, find, find_one
from ._transport import RetryPolicy
from ._version import __version__

# name -> module of the features loaded on first use
_LAZY = {
    "CivisFuture": ".futures",
    "cache_api_spec": ".spec._source",
    "civis_logger": ".loggers",
    "follow_logs": ".futures",
    "run_job": ".futures",
}

# Submodules reachable as attributes without an import, as civis-python's are
# (``civis.utils.run_job``, ``civis.response.Response``).
_SUBMODULES = ("base", "futures", "io", "loggers", "response", "testing", "tests", "utils")

# Convenience methods offered on resources (``client.jobs.run_and_wait``), imported on
# first use: (name, "module:function", alternatives of required API methods).
_EXTENSIONS = (
    # civis_dyn.conveniences: find by name, create-or-update, export/import, housekeeping
    ("archive_stale", "civis_dyn.conveniences:archive_stale",
     (("list", "put_archive"), ("list", "put_*_archive"))),
    ("cancel_runs", "civis_dyn.conveniences:cancel_runs",
     (("list_runs", "delete_runs"), ("list_*_runs", "delete_*_runs"),
      ("list_executions", "post_executions_cancel"))),
    ("count_runs_by_state", "civis_dyn.conveniences:count_runs_by_state",
     (("list_runs",), ("list_*_runs",), ("list_executions",))),
    ("create_or_update", "civis_dyn.conveniences:create_or_update", (("list", "post"),)),
    ("export_definition", "civis_dyn.conveniences:export_definition", (("get",),)),
    ("find_by_name", "civis_dyn.conveniences:find_by_name", (("list",),)),
    ("get_id", "civis_dyn.conveniences:get_id", (("list",),)),
    ("import_definition", "civis_dyn.conveniences:import_definition", (("post",),)),
    # civis_dyn.futures: start, wait for, watch and follow runs of every runnable kind
    ("follow_logs", "civis_dyn.futures:follow_resource_logs",
     (("list_*runs_logs",), ("list_*builds_logs",), ("list_deployments_logs",))),
    ("run", "civis_dyn.futures:run",
     (("post_*runs", "get_*runs"), ("post_executions", "get_executions"),
      ("post_deployments", "get_deployments"))),
    ("run_and_wait", "civis_dyn.futures:run_and_wait",
     (("post_*runs", "get_*runs"), ("post_executions", "get_executions"),
      ("post_deployments", "get_deployments"))),
    ("watch_run", "civis_dyn.futures:watch_run",
     (("get_*runs",), ("get_*builds",), ("get_executions",), ("get_deployments",))),
)
for _name, _target, _requires in _EXTENSIONS:
    _register_extension(_name, _target, _requires)

__all__ = [
    "APIClient",
    "AmbiguousNameError",
    "ArgumentTypeError",
    "ArgumentValueError",
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
    "EmptyResultError",
    "InsecureTransportError",
    "InvalidResponseError",
    "ListResponse",
    "MissingAPIKeyError",
    "NotFoundError",
    "PaginatedResponse",
    "Response",
    "RetryPolicy",
    "SpecError",
    "__version__",
    "cache_api_spec",
    "civis_logger",
    "find",
    "find_one",
    "follow_logs",
    "futures",
    "run_job",
    "utils",
]


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals(), _SUBMODULES)
