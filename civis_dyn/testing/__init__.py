"""Test doubles for code that uses civis_dyn.

* :class:`LocalCivisAPI` — a stateful fake of the Civis API serving real HTTP
  on 127.0.0.1 (also ``civis-dyn serve``);
* :func:`create_client_mock` — a ``unittest.mock`` client spec'd from the
  schema: wrong names and wrong arguments fail;
* :class:`Stubber` — canned responses checked against the schema, no HTTP.

Names are imported on first use.
"""

from .._lazy import lazy_exports as _lazy_exports

_LAZY = {
    "Fault": "._faults",
    "Faults": "._faults",
    "InvalidStubResponseError": "._stubber",
    "LocalCivisAPI": "._local_api",
    "RequestRecord": "._local_api",
    "Stubber": "._stubber",
    "StubberError": "._stubber",
    "create_client_mock": "._mock",
    "create_client_mock_for_container_tests": "._mock",
    "serve": "._local_api",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals())
