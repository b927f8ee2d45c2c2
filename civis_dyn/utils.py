"""civis-python's ``civis.utils``: ``run_job``, ``run_template`` and ``job_logs``.

They live in :mod:`civis_dyn.futures` and are imported from there on first
use, so ``import civis_dyn.utils`` stays cheap.
"""

from ._lazy import lazy_exports

__all__ = ["job_logs", "run_job", "run_template"]

__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(__all__, "..futures"), globals())
