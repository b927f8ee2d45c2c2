"""civis-python's ``civis.response`` names: what API calls return, and filtering.

>>> from civis_dyn.response import Response, ListResponse, PaginatedResponse, find, find_one

civis-python's private converters (``convert_response_data_type``,
``_response_to_json``, ``CivisClientError``) have no counterpart: the client
wraps its answers itself, and a body that is not JSON raises
:class:`civis_dyn.InvalidResponseError`.
"""

from ._errors import CivisImmutableResponseError
from ._response import ListResponse, PaginatedResponse, Response, find, find_one

__all__ = [
    "CivisImmutableResponseError",
    "ListResponse",
    "PaginatedResponse",
    "Response",
    "find",
    "find_one",
]
