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
    CivisJobFailure,
    CivisTimeoutError,
    InsecureTransportError,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    SpecError,
)
from ._resources import register_extension as _register_extension
from ._response import ListResponse, PaginatedResponse, Response, find, find_one
from ._transport import RetryPolicy
from ._version import __version__

# name -> module of the features loaded on first use
_LAZY = {
    "CivisFuture": ".futures",
    "cache_api_spec": ".spec._source",
    "follow_logs": ".futures",
    "run_job": ".futures",
}

# Convenience methods offered on resources (``client.jobs.run_and_wait``), imported on
# first use: (name, "module:function", alternatives of required API methods).
_EXTENSIONS = (
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
    "CivisImmutableResponseError",
    "CivisJobFailure",
    "CivisTimeoutError",
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
    "find",
    "find_one",
]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'civis_dyn' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
