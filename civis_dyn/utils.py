"""civis-python's ``civis.utils``: ``run_job``, ``run_template`` and ``job_logs``.

They live in :mod:`civis_dyn.futures` and are imported from there on first
use, so ``import civis_dyn.utils`` stays cheap.
"""

import importlib

__all__ = ["job_logs", "run_job", "run_template"]


def __getattr__(name):
    if name not in __all__:
        raise AttributeError(f"module 'civis_dyn.utils' has no attribute {name!r}")
    futures = importlib.import_module("civis_dyn.futures")
    try:
        value = getattr(futures, name)
    except AttributeError:
        raise AttributeError(f"civis_dyn.utils.{name} is not available: civis_dyn.futures has "
                             f"no {name!r} in this version") from None
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
