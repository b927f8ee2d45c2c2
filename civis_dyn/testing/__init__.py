"""Test doubles for code that uses civis_dyn.

* :class:`LocalCivisAPI` — a stateful fake of the Civis API serving real HTTP
  on 127.0.0.1 (also ``civis-dyn serve``);
* :func:`create_client_mock` — a ``unittest.mock`` client spec'd from the
  schema: wrong names and wrong arguments fail;
* :class:`Stubber` — canned responses checked against the schema, no HTTP.

Names are imported on first use.
"""

_LAZY = {
    "Fault": "._faults",
    "Faults": "._faults",
    "InvalidStubResponseError": "._stubber",
    "LocalCivisAPI": "._local_api",
    "RequestRecord": "._local_api",
    "Stubber": "._stubber",
    "StubberError": "._stubber",
    "create_client_mock": "._mock",
    "serve": "._local_api",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'civis_dyn.testing' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
