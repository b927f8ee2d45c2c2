"""civis-python's ``civis.base`` names: the exceptions and run states scripts import.

>>> from civis_dyn.base import CivisAPIError, CivisJobFailure, EmptyResultError

The exceptions are civis_dyn's own (see :mod:`civis_dyn._errors`), which can
also be built the civis-python way (``CivisAPIError(requests_response)``).
civis-python's request plumbing (``Endpoint``, ``open_session``,
``get_headers``) has no counterpart: civis_dyn's transport is
:attr:`APIClient.meta.transport <civis_dyn.APIClient.meta>`.
"""

import os
from concurrent.futures import _base as _futures_state
from posixpath import join as _join

from ._errors import (
    CivisAPIError,
    CivisAPIKeyError,
    CivisImportError,
    CivisJobFailure,
    EmptyResultError,
)
from ._config import DEFAULT_BASE_URL

__all__ = [
    "CANCELLED",
    "DEFAULT_API_ENDPOINT",
    "DONE",
    "FAILED",
    "FINISHED",
    "NOT_FINISHED",
    "STATE_TRANS",
    "CivisAPIError",
    "CivisAPIKeyError",
    "CivisImportError",
    "CivisJobFailure",
    "EmptyResultError",
    "get_base_url",
    "tostr_urljoin",
]

#: Run states, as civis-python names them.
FINISHED = ["success", "succeeded"]
FAILED = ["failed"]
NOT_FINISHED = ["queued", "running"]
CANCELLED = ["cancelled"]
DONE = FINISHED + FAILED + CANCELLED

#: A run state -> the matching :mod:`concurrent.futures` state.
STATE_TRANS = {
    **{state: _futures_state.FINISHED for state in FINISHED + FAILED},
    **{state: _futures_state.RUNNING for state in NOT_FINISHED},
    **{state: _futures_state.CANCELLED_AND_NOTIFIED for state in CANCELLED},
}

DEFAULT_API_ENDPOINT = DEFAULT_BASE_URL


def get_base_url():
    """The API's root URL: env ``CIVIS_API_ENDPOINT``, else the default, ending in ``/``."""
    base_url = os.environ.get("CIVIS_API_ENDPOINT", DEFAULT_API_ENDPOINT)
    return base_url if base_url.endswith("/") else base_url + "/"


def tostr_urljoin(*parts):
    """Join URL parts with ``/`` after turning each into a string."""
    return _join(*map(str, parts))
