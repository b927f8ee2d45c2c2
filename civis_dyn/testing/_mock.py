"""``create_client_mock``: a :mod:`unittest.mock` stand-in for :class:`civis_dyn.APIClient`.

The mock is spec'd from the API schema, so code under test fails on the mock
where it would fail on the real client:

* every resource and method of the schema exists (``mock.jobs.get``) and
  :func:`dir` lists them;
* a wrong resource or method name raises :class:`AttributeError` (with the
  real client's message and its close-name suggestions);
* a call whose arguments do not fit the method's signature raises
  :class:`TypeError` *before* it is recorded: the real client's own binding
  step (:meth:`Binder.arguments <civis_dyn._resources.Binder.arguments>`)
  checks it, so the messages are the client's; the values' types are not
  checked, since in tests they are often mocks;
* ``mock.jobs.get.return_value`` and ``side_effect`` are settable per method,
  and ``assert_called_once_with(1)`` matches a call made as ``get(id=1)``.

Nothing is synthesized up front. The client mock knows only the names of the
resources; a resource's mock is made on first access and knows only its
method names; a method's mock (with its :class:`inspect.Signature`) is made on
first access too. Building a mock therefore costs one schema load (shared
with every client of the process) and one :class:`~unittest.mock.NonCallableMagicMock`.
"""

import inspect
import logging
import os
from unittest import mock

from .._client import APIClient
from .._errors import SpecError
from .._resources import Binder, resource_class, suggest
from .._response import Response
from .._config import DEFAULT_BASE_URL
from ..spec._cache import DiskCache
from ..spec._model import SpecInfo
from ..spec._source import load_api_spec_with_info, spec_from_bytes

__all__ = ["create_client_mock", "create_client_mock_for_container_tests"]

log = logging.getLogger("civis_dyn.testing")


def create_client_mock(cache=None, *, spec=None, asynchronous=False):
    """Return a mock of :class:`civis_dyn.APIClient` spec'd from an API schema.

    Parameters
    ----------
    cache : str, PathLike or dict, optional
        The schema to build from: a file, or a parsed schema (civis-python's
        name for it). Default: the freshest schema available, which is the
        live schema this machine last downloaded (from the disk cache, for
        the API at ``CIVIS_API_ENDPOINT`` or the default one), else the
        schema bundled with civis_dyn. ``mock.spec_info.source`` says which
        (``"disk-cache"``, ``"bundle"``, ``"file"`` or ``"dict"``).
    spec : str, PathLike or dict, optional
        The same as ``cache`` (civis_dyn's earlier name).
    asynchronous : bool, optional
        True: a mock of :class:`civis_dyn.AsyncAPIClient`, whose API methods
        are :class:`~unittest.mock.AsyncMock` objects (``await
        client.jobs.get(1)`` gives their ``return_value``).

    Returns
    -------
    unittest.mock.NonCallableMagicMock
        ``isinstance(mock, civis_dyn.APIClient)`` is true. Resources are
        non-callable mocks, methods are :class:`~unittest.mock.MagicMock`
        objects that check their call signature. The client's own helpers
        (``username``, ``get_database_id`` …) are mocks too, settable like
        any attribute.

    Raises
    ------
    civis_dyn.SpecError
        When the schema is missing or malformed.

    Examples
    --------
    >>> from civis_dyn import Response
    >>> from civis_dyn.testing import create_client_mock
    >>> client = create_client_mock()                        # doctest: +SKIP
    >>> client.jobs.get.return_value = Response({"id": 1, "state": "idle"})  # doctest: +SKIP
    >>> client.jobs.get(1).state                             # doctest: +SKIP
    'idle'
    >>> client.jobs.get.assert_called_once_with(id=1)        # doctest: +SKIP
    """
    if cache is not None and spec is not None:
        raise TypeError("create_client_mock() takes cache= or spec=, not both")
    source = cache if cache is not None else spec
    if source is None:
        api_spec, info = _freshest_spec()
    else:
        api_spec, info = load_api_spec_with_info(source)
    client_class = _async_client_class() if asynchronous else APIClient
    names = sorted({*api_spec.index, *_client_attributes(client_class)})
    client = ClientMock(spec_set=names, name="client")
    client.__dict__["_spec_class"] = client_class  # isinstance() and repr, as autospec does
    client.__dict__["_civis_spec"] = api_spec
    client.spec_info = info if info is not None else api_spec.info
    log.debug("create_client_mock: schema from %s (%s)", client.spec_info.source,
              client.spec_info.location)
    return client


def _freshest_spec():
    """The most recently downloaded live schema in the disk cache, else the bundled one."""
    base_url = os.environ.get("CIVIS_API_ENDPOINT") or DEFAULT_BASE_URL
    if not base_url.endswith("/"):
        base_url += "/"
    cache = DiskCache()
    newest = None
    try:
        names = [p.name for p in cache.directory.glob("schema-v1-*.json")]
    except OSError:
        names = []
    for name in names:
        entry = cache.read_schema(name)
        if entry is None or entry.base_url.rstrip("/") != base_url.rstrip("/"):
            continue
        if newest is None or entry.fetched_at > newest[1].fetched_at:
            newest = (name, entry)
    if newest is not None:
        name, entry = newest
        try:
            api_spec = spec_from_bytes(entry.raw, source="disk-cache",
                                       location=str(cache.path(name)),
                                       fetched_at=entry.fetched_at, sha256=entry.sha256)
        except SpecError:
            api_spec = None
        if api_spec is not None:
            return api_spec, SpecInfo("disk-cache", str(cache.path(name)), entry.fetched_at,
                                      entry.sha256)
    return load_api_spec_with_info(None)


def create_client_mock_for_container_tests(script_id=-10, run_id=100, state="succeeded",
                                           run_outputs=None, log_outputs=None):
    """Return a client mock set up for code that runs container scripts (as civis-python's).

    ``scripts.post_containers`` returns ``Response({"id": script_id})``;
    ``scripts.post_containers_runs`` a queued run ``run_id``;
    ``scripts.get_containers_runs`` the run in ``state`` (with an ``error``
    when ``state`` is ``"failed"``); ``scripts.list_containers_runs_outputs``
    and ``jobs.list_runs_outputs`` return ``run_outputs``;
    ``jobs.list_runs_logs`` returns ``log_outputs``; ``scripts.post_cancel``
    returns the run as cancelled.

    Parameters
    ----------
    script_id, run_id : int, optional
    state : str, optional
        The state ``get_containers_runs`` reports (default ``"succeeded"``).
    run_outputs, log_outputs : list, optional
        Lists of :class:`~civis_dyn.Response` (default empty).

    Returns
    -------
    unittest.mock.NonCallableMagicMock
    """
    client = create_client_mock()
    client.scripts.post_containers.return_value = Response({"id": script_id})
    client.scripts.post_containers_runs.return_value = Response(
        {"id": run_id, "container_id": script_id, "state": "queued"})
    final = {"id": run_id, "container_id": script_id, "state": state}
    if state == "failed":
        final["error"] = "None"
    client.scripts.get_containers_runs.return_value = Response(final)
    client.scripts.list_containers_runs_outputs.return_value = run_outputs or []
    client.jobs.list_runs_outputs.return_value = run_outputs or []
    client.jobs.list_runs_logs.return_value = log_outputs or []

    def cancelled(*args, **kwargs):
        return Response({**final, "state": "cancelled"})

    client.scripts.post_cancel.side_effect = cancelled
    return client


def _async_client_class():
    from .._async_client import AsyncAPIClient

    return AsyncAPIClient


def _client_attributes(client_class=APIClient):
    """Public attributes of :class:`APIClient` itself (they win over resources, as on a client)."""
    names = {name for name in dir(client_class) if not name.startswith("_")}
    names.update(("last_response", "meta"))  # instance attributes
    return names


class _SpecMock(mock.NonCallableMagicMock):
    """A mock whose public attributes are only the names the schema gives it."""

    def __getattr__(self, name):
        allowed = self.__dict__.get("_mock_methods")
        if allowed is not None and not name.startswith("_") and name not in allowed:
            raise AttributeError(self._unknown_name(name, allowed))
        return super().__getattr__(name)

    def _unknown_name(self, name, allowed):
        """The AttributeError message for a name the schema does not give this mock."""
        raise NotImplementedError


class ClientMock(_SpecMock):
    """The mock client: one attribute per resource, each made on first access."""

    def _unknown_name(self, name, allowed):
        resources = self.__dict__["_civis_spec"].resources()
        return f"APIClient has no resource {name!r}.{suggest(name, resources)}"

    def _get_child_mock(self, /, **kw):
        name = kw.get("_new_name")
        api_spec = self.__dict__.get("_civis_spec")
        if api_spec is None or name not in self.__dict__["_mock_methods"]:
            return super()._get_child_mock(**kw)
        client_class = self.__dict__["_spec_class"]
        asynchronous = client_class is not APIClient
        if name in _client_attributes(client_class):
            attribute = inspect.getattr_static(client_class, name, None)
            if inspect.isfunction(attribute):
                signature = inspect.signature(attribute)
                signature = signature.replace(parameters=list(signature.parameters.values())[1:])
                # on the async client, aclose() and civis-python's helpers are awaited
                awaited = asynchronous and (inspect.iscoroutinefunction(attribute)
                                            or attribute.__module__ == "civis_dyn._lookups")
                return method_mock(signature, f"{client_class.__name__}.{name}()", name,
                                   asynchronous=awaited, **kw)
            return mock.NonCallableMagicMock(**kw)
        base = None
        if asynchronous:
            from .._async_client import AsyncResource as base
        cls = resource_class(api_spec, name, base)
        resource = ResourceMock(spec_set=cls.method_names(), **kw)
        resource.__dict__["_spec_class"] = cls
        resource.__dict__["_civis_spec"] = api_spec
        resource.__dict__["_civis_resource"] = name
        resource.__dict__["_civis_async"] = asynchronous
        return resource


class ResourceMock(_SpecMock):
    """The mock of one resource: one signature-checked method mock per operation."""

    def _unknown_name(self, name, allowed):
        resource = self.__dict__["_civis_resource"]
        return f"{resource!r} has no method {name!r}.{suggest(name, allowed)}"

    def _get_child_mock(self, /, **kw):
        name = kw.get("_new_name")
        api_spec = self.__dict__.get("_civis_spec")
        if api_spec is None or name not in self.__dict__["_mock_methods"]:
            return super()._get_child_mock(**kw)
        resource = self.__dict__["_civis_resource"]
        label = f"{resource}.{name}()"
        if name in api_spec.index[resource]:
            operation = api_spec.operation(resource, name)
            return method_mock(operation.signature, label, name, binder=Binder(operation, label),
                               asynchronous=self.__dict__.get("_civis_async", False), **kw)
        # a convenience method offered by the package (an extension): f(resource, ...)
        function = getattr(self.__dict__["_spec_class"], name)
        signature = inspect.signature(function)
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
        # on the async client, the run methods and conveniences are awaited (follow_logs
        # returns an async iterator: a plain mock)
        awaited = self.__dict__.get("_civis_async", False) and (
            inspect.iscoroutinefunction(function)
            or function.__module__ == "civis_dyn.conveniences")
        return method_mock(signature, label, name, asynchronous=awaited, **kw)


def method_mock(signature, label, method_name, *, binder=None, asynchronous=False, **kw):
    """Return a :class:`~unittest.mock.MagicMock` that accepts only calls fitting ``signature``.

    Parameters
    ----------
    signature : inspect.Signature
        The method's signature, without ``self``.
    label : str
        ``"jobs.get()"``: how error messages name the method.
    method_name : str
        The method's name (``__name__`` of the spec).
    binder : civis_dyn._resources.Binder, optional
        For an API method: the client's binder, whose first step checks the
        call exactly as the client does (``None`` for a required argument
        counts as missing). Other methods are checked against ``signature``.
    asynchronous : bool, optional
        An :class:`~unittest.mock.AsyncMock` (for the async client's methods).
    **kw
        Passed to :class:`~unittest.mock.MagicMock` (parent and names).
    """
    def method(*args, **kwargs):  # the spec: carries the name and the signature
        raise NotImplementedError  # pragma: no cover - never called

    method.__name__ = method_name
    method.__qualname__ = label[:-2]
    method.__signature__ = signature
    kind = mock.AsyncMock if asynchronous else mock.MagicMock
    child = kind(spec=method, _eat_self=False, **kw)  # the signature has no self

    def check_call(_mock_self, /, *args, **kwargs):
        if binder is not None:
            binder.arguments(args, kwargs)
            return
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{label}: {exc}") from None

    # as create_autospec does: each mock has a class of its own, whose call checks first
    type(child)._mock_check_sig = check_call
    type(child).__signature__ = signature
    return child
