"""``AsyncAPIClient``: the same client, with coroutine methods over an asyncio transport.

Nothing is generated twice: resource classes come from the same
:func:`~civis_dyn._resources.resource_class` factory, on an
:class:`AsyncResource` base whose methods are :class:`AsyncOperationMethod`
(the same signature, name, docstring and argument checks as the blocking
:class:`~civis_dyn._resources.OperationMethod`, but a coroutine). Each call
ends in :meth:`AsyncClientMeta.invoke`, which plans, checks and decodes with
the pure functions of :mod:`civis_dyn._pipeline` and sends through an
:class:`~civis_dyn._async_driver.AsyncDriver`.
"""

import inspect

from ._async_driver import AsyncDriver, as_async_transport
from ._async_pages import AsyncPaginatedResponse
from ._client import APIClient, settle
from ._config import ClientConfig
from ._lookups import ClientLookups
from ._meta import ClientMeta
from ._pipeline import SyncDriver, check_status, decode_page
from ._resources import OperationMethod, Resource, client_of
from .spec._source import load_api_spec_with_info

__all__ = ["AsyncAPIClient", "AsyncClientMeta", "AsyncOperationMethod", "AsyncResource"]


async def _coroutine_template(self, *args, **kwargs):  # its code object marks methods as coroutines
    pass


class AsyncOperationMethod(OperationMethod):
    # The coroutine twin of OperationMethod (no class docstring: ``__doc__`` stays the
    # operation's). ``inspect.iscoroutinefunction(client.jobs.get)`` is True; arguments
    # are checked when the coroutine runs (``await`` raises). With ``iterator=True`` the
    # call returns an AsyncPaginatedResponse at once (also awaitable), and takes ``prefetch=n``
    # (pages fetched ahead; see AsyncPaginatedResponse) besides the operation's parameters.

    __doc__ = OperationMethod.__dict__["__doc__"]

    # inspect.iscoroutinefunction reads the code flags of function-like objects
    __code__ = _coroutine_template.__code__
    __defaults__ = None
    __kwdefaults__ = None
    __annotations__ = {}

    def __call__(self, resource, *args, **kwargs):
        client = client_of(resource)
        if kwargs.get("iterator") is True and self.operation.paginated:
            # an async iterator at once (also awaitable): ``async for x in jobs.list(iterator=True)``
            prefetch = kwargs.pop("prefetch", 0)
            return client.meta.paginate(self.operation, self.prepare(client, args, kwargs),
                                        prefetch=prefetch)
        return self._invoke(client, args, kwargs)

    async def _invoke(self, client, args, kwargs):
        return await client.meta.invoke(self.operation, self.prepare(client, args, kwargs))


ASYNC_EXTENSIONS = {}  # conveniences offered on async resources (see _resources.register_extension)


def _register_runs():
    from ._async_runs import register  # imports civis_dyn.futures: only with the async client

    register(ASYNC_EXTENSIONS)


_register_runs()


class AsyncResource(Resource):
    """Base class of the async client's resources (``async_client.jobs``)."""

    __slots__ = ()
    _method_type = AsyncOperationMethod
    _extensions = ASYNC_EXTENSIONS


class AsyncClientMeta(ClientMeta):
    """``async_client.meta``: as :class:`~civis_dyn._meta.ClientMeta`, with coroutine calls.

    ``driver`` is an :class:`~civis_dyn._async_driver.AsyncDriver`;
    :meth:`invoke`, :meth:`call` and :meth:`request` are coroutines.
    """

    __slots__ = ()
    asynchronous = True

    def set_transport(self, transport, *, retries=None):
        """Send this client's requests through ``transport`` (async, or blocking: adapted).

        Returns the previous transport (not closed). See
        :meth:`ClientMeta.set_transport <civis_dyn._meta.ClientMeta.set_transport>`.
        """
        from ._pipeline import RetryPolicy

        driver = self.driver
        policy = driver.retry_policy if retries is None else RetryPolicy.coerce(retries)
        self.driver = AsyncDriver(as_async_transport(transport), driver.defaults, policy)
        return driver.transport

    async def call(self, resource, name, /, *args, **kwargs):
        """Await ``client.<resource>.<name>(*args, **kwargs)`` with civis_dyn responses."""
        method = getattr(type(self.resource(resource)), name)
        bind = getattr(method, "bind", None)
        if bind is None:
            return await getattr(self.resource(resource), name)(*args, **kwargs)
        return await self.invoke(method.operation, bind(args, kwargs), return_type="snake")

    async def invoke(self, operation, bound, return_type=None):
        """Send one bound call of ``operation``; return what the API method returns.

        As :meth:`ClientMeta.invoke <civis_dyn._meta.ClientMeta.invoke>`; with
        ``iterator=True`` the result is an :class:`AsyncPaginatedResponse`
        (no request is made before the first ``async for`` step).
        """
        path, query, body, iterator = bound
        if iterator:
            result = self._paginate(path, query, operation)
        else:
            request = self.driver.plan(operation.verb.upper(), path, params=query, json_body=body)
            result = self.result(operation, request, await self.driver.send(request), return_type)
        self.client.last_response = result
        return result

    def paginate(self, operation, bound, *, prefetch=0):
        """The :class:`AsyncPaginatedResponse` of a bound ``iterator=True`` call (no request yet).

        ``prefetch``: pages fetched ahead while the caller consumes one (default 0).
        """
        result = self._paginate(bound.path, bound.query, operation, prefetch)
        self.client.last_response = result
        return result

    def _paginate(self, path, query, operation=None, prefetch=0):
        driver = self.driver

        async def fetch_page(page_num):
            request = driver.plan("GET", path, params={**query, "page_num": page_num})
            response = await driver.send(request)
            check_status(request, response)
            return decode_page(request, response), response.headers

        item_schema = operation.item_schema if operation is not None else None
        return AsyncPaginatedResponse(fetch_page, item_schema=item_schema, prefetch=prefetch)

    async def request(self, method, path, *, params=None, json=None, headers=None, retries=None):
        """Send one request through the client's pipeline; return the answer (status < 400)."""
        return await self.driver.request(method.upper(), path, params=params, json_body=json,
                                         headers=headers, retries=retries)


class AsyncAPIClient(ClientLookups):
    """The Civis API client for asyncio: the same resources and methods, as coroutines.

    Takes exactly :class:`~civis_dyn.APIClient`'s arguments and loads the
    schema the same way (file, dict, cache, download, bundle). Every method
    has the blocking client's name, signature and docstring and is a
    coroutine function::

        async with civis_dyn.AsyncAPIClient() as client:
            jobs = await asyncio.gather(*(client.jobs.get(i) for i in ids))
            async for run in client.jobs.list_runs(1, iterator=True):
                ...

    Parameters
    ----------
    api_key, return_type, api_version, local_api_spec, force_refresh_api_spec, retries, \
user_agent, base_url, timeout, allow_insecure_http, parameter_validation, max_schema_bytes, \
max_response_bytes
        As for :class:`~civis_dyn.APIClient`.
    transport : AsyncTransport or civis_dyn.Transport, optional
        What sends the requests. Default: a new
        :class:`~civis_dyn._async_transport.AiohttpTransport` (needs
        ``pip install civis-dyn[async]``). A blocking transport (the
        Stubber's, ``LocalCivisAPI.transport()``) is wrapped in
        :class:`~civis_dyn._async_driver.SyncTransportAdapter`.

    Notes
    -----
    The schema is loaded **at construction, synchronously**, exactly as
    :class:`~civis_dyn.APIClient` loads it: a file, dict, cached or bundled
    schema costs no request; a download goes through a short-lived blocking
    :class:`~civis_dyn.HTTPTransport` (or through ``transport`` when that
    one is blocking). To keep a running event loop free, build the client
    with ``await AsyncAPIClient.create(...)``, which does the same in a
    worker thread (:func:`asyncio.to_thread`).

    ``async with`` (or ``await client.aclose()``) closes the transport's
    connections.

    Resources are class attributes of a per-schema subclass, exactly as for
    :class:`~civis_dyn.APIClient` (the same :func:`~civis_dyn._client.client_class`):
    ``dir()`` and tab completion list them, and one client's resource can be
    replaced (``client.jobs = mock``). civis-python's helpers are awaited
    (``await client.username``, ``await client.get_table_id("s.t", "db")``;
    see :class:`~civis_dyn._lookups.ClientLookups`).
    """

    _resource_base = AsyncResource  # what client_class's resources are made of

    def __init__(self, api_key=None, return_type="snake", api_version="1.0", local_api_spec=None,
                 force_refresh_api_spec=False, retries=None, user_agent=None, *, base_url=None,
                 timeout=None, transport=None, allow_insecure_http=False,
                 parameter_validation=True, max_schema_bytes=None, max_response_bytes=None):
        config = ClientConfig.resolve(
            api_key=api_key, base_url=base_url, return_type=return_type, api_version=api_version,
            local_api_spec=local_api_spec, force_refresh_api_spec=force_refresh_api_spec,
            retries=retries, user_agent=user_agent, timeout=timeout,
            allow_insecure_http=allow_insecure_http, parameter_validation=parameter_validation,
            max_schema_bytes=max_schema_bytes, max_response_bytes=max_response_bytes)
        driver = AsyncDriver.from_config(config, transport)
        blocking = transport is not None and not inspect.iscoroutinefunction(transport.send)
        loader = None
        if local_api_spec is None and driver.key_fingerprint:
            if blocking:
                loader = SyncDriver(transport, driver.defaults, driver.retry_policy)
            else:
                from ._transport import HTTPTransport

                loader = SyncDriver(HTTPTransport(pool_size=1), driver.defaults,
                                    driver.retry_policy)
        try:
            spec, spec_info = load_api_spec_with_info(
                local_api_spec, transport=loader, api_version=api_version,
                force_refresh=force_refresh_api_spec, key_fingerprint=driver.key_fingerprint,
                max_schema_bytes=config.max_schema_bytes)
        finally:
            if loader is not None and not blocking:
                loader.close()
        settle(self, AsyncClientMeta(self, config, spec,
                                     spec_info if spec_info is not None else spec.info, driver))

    @classmethod
    async def create(cls, *args, **kwargs):
        """Build a client in a worker thread (the schema load never blocks the event loop)."""
        import asyncio

        return await asyncio.to_thread(cls, *args, **kwargs)

    # -- exploration (as APIClient) ----------------------------------------
    __dir__ = APIClient.__dir__
    spec_info = APIClient.spec_info
    base_url = APIClient.base_url

    def __repr__(self):
        return (f"<civis_dyn.AsyncAPIClient {self.base_url} "
                f"api_version={self.meta.config.api_version!r} "
                f"resources={len(self.meta.spec.index)} schema={self.spec_info.source}>")

    def __reduce__(self):
        raise TypeError("an AsyncAPIClient is bound to its event loop's connections: "
                        "it is not picklable (build one per process)")

    # -- connections --------------------------------------------------------
    async def aclose(self):
        """Close the transport's pooled connections."""
        await self.meta.driver.aclose()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        await self.aclose()


