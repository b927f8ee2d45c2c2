"""``client.meta``: the public seam of a client, for code built on top of the core.

Features (runs, conveniences, the CLI, the test doubles, user extensions) read
the schema model, the settings and the transport here, and send requests
through :meth:`ClientMeta.request` or :meth:`ClientMeta.call`, never through
a client's private attributes. botocore's ``client.meta`` is the model.

Every API method of a client ends in :meth:`ClientMeta.invoke`: the one place
where a request is planned, sent (through the pipeline's driver, with retries)
and where ``return_type`` shapes what the method returns.
"""

from ._pipeline import SyncDriver, check_status, decode_json, decode_page

# civis_dyn._response is imported by the first call (``result``), not by building a client

__all__ = ["ClientMeta"]


class ClientMeta:
    """The schema model, settings and transport of one :class:`~civis_dyn.APIClient`.

    Attributes
    ----------
    client : APIClient
        The client this describes.
    config : ClientConfig
        The resolved settings (the key is in ``config.api_key``, never shown).
    spec : civis_dyn.spec.ApiSpec
        The schema model the client was built from.
    spec_info : civis_dyn.spec.SpecInfo
        Where that schema came from.
    transport : civis_dyn.Transport
        What sends the client's requests (see :meth:`set_transport`).
    retry_policy : civis_dyn.RetryPolicy
        When failed requests are sent again.
    driver : SyncDriver
        The pipeline's blocking driver: plans, sends and retries requests.
    """

    __slots__ = ("client", "config", "spec", "spec_info", "driver")
    #: True for the async client's meta (its calls are coroutines); see civis_dyn._effects.
    asynchronous = False

    def __init__(self, client, config, spec, spec_info, driver):
        self.client = client
        self.config = config
        self.spec = spec
        self.spec_info = spec_info
        self.driver = driver

    @property
    def transport(self):
        """The :class:`~civis_dyn.Transport` that sends this client's requests."""
        return self.driver.transport

    @property
    def retry_policy(self):
        """The client's :class:`~civis_dyn.RetryPolicy`."""
        return self.driver.retry_policy

    def set_transport(self, transport, *, retries=None):
        """Send this client's requests through ``transport`` from now on; return the previous one.

        How test doubles plug into an existing client (``Stubber(client)``);
        a new client takes ``APIClient(transport=...)`` instead. The previous
        transport is not closed.

        Parameters
        ----------
        transport : civis_dyn.Transport
        retries : RetryPolicy, optional
            A new retry policy too (default: keep the client's).
        """
        from ._pipeline import RetryPolicy

        driver = self.driver
        policy = driver.retry_policy if retries is None else RetryPolicy.coerce(retries)
        self.driver = SyncDriver(transport, driver.defaults, policy)
        return driver.transport

    # -- lookups ----------------------------------------------------------------
    def resource(self, name):
        """The client's resource ``name`` (``meta.resource("jobs")`` is ``client.jobs``)."""
        return getattr(self.client, name)

    def operation(self, resource, name):
        """The :class:`~civis_dyn.spec.Operation` behind ``client.<resource>.<name>``."""
        return self.spec.operation(resource, name)

    # -- calls ------------------------------------------------------------------
    def call(self, resource, name, /, *args, **kwargs):
        """Call ``client.<resource>.<name>(*args, **kwargs)`` and return civis_dyn responses.

        Unlike the method itself, the result does not depend on the client's
        ``return_type``: it is a :class:`~civis_dyn.Response`,
        :class:`~civis_dyn.ListResponse`, :class:`~civis_dyn.PaginatedResponse`
        or None. Features use this so a ``return_type="raw"`` client works with them.
        """
        method = getattr(type(self.resource(resource)), name)
        bind = getattr(method, "bind", None)
        if bind is None:  # a convenience method: it calls through meta itself
            return getattr(self.resource(resource), name)(*args, **kwargs)
        return self.invoke(method.operation, bind(args, kwargs), return_type="snake")

    def invoke(self, operation, bound, return_type=None):
        """Send one bound call of ``operation`` and return what the API method returns.

        Parameters
        ----------
        operation : civis_dyn.spec.Operation
        bound : BoundArguments
            ``(path, query, body, iterator)`` from ``OperationMethod.bind``.
        return_type : str, optional
            ``"snake"`` or ``"raw"``; default the client's.

        Returns
        -------
        Response, ListResponse, PaginatedResponse, HTTPResponse or None
            Also stored as ``client.last_response``.
        """
        path, query, body, iterator = bound
        if iterator:
            result = self._paginate(path, query, operation)
        else:
            request = self.driver.plan(operation.verb.upper(), path, params=query, json_body=body)
            result = self.result(operation, request, self.driver.send(request), return_type)
        self.client.last_response = result
        return result

    def result(self, operation, request, response, return_type=None):
        """What a method of ``operation`` returns for ``response`` (pure: no I/O).

        Raises the mapped :class:`~civis_dyn.CivisAPIError` for an error status; returns
        the :class:`HTTPResponse` itself for ``return_type="raw"``, else the decoded JSON
        wrapped as :class:`Response`/:class:`ListResponse`. Both the blocking and the
        asyncio clients decide here.
        """
        check_status(request, response)
        if (return_type or self.config.return_type) == "raw":
            return response
        data = decode_json(request, response)
        from ._response import wrap_json

        return wrap_json(data, response.headers, json_value=operation.resource == "json_values",
                         item_schema=operation.item_schema if isinstance(data, list) else None)

    def _paginate(self, path, query, operation=None):
        driver = self.driver

        def fetch_page(page_num):
            request = driver.plan("GET", path, params={**query, "page_num": page_num})
            response = driver.send(request)
            check_status(request, response)
            return decode_page(request, response), response.headers

        item_schema = operation.item_schema if operation is not None else None
        json_value = operation is not None and operation.resource == "json_values"
        from ._response import PaginatedResponse

        return PaginatedResponse(fetch_page, json_value=json_value, item_schema=item_schema)

    def request(self, method, path, *, params=None, json=None, headers=None, retries=None):
        """Send one request to the API through the client's pipeline; return the answer.

        For endpoints the schema does not describe, or code that wants the
        bytes. The key, User-Agent, timeouts, retries and error mapping are
        the client's.

        Parameters
        ----------
        method : str
            The verb (``"GET"``).
        path : str
            The API path (``"/jobs/1"``), relative to the base URL.
        params : dict, optional
            The query.
        json : object, optional
            Sent as the JSON body.
        headers : dict, optional
            Extra headers.
        retries : RetryPolicy, optional
            This request's policy instead of the client's.

        Returns
        -------
        civis_dyn.HTTPResponse
            An answer with a status below 400.

        Raises
        ------
        CivisAPIError
            For error statuses.
        CivisConnectionError
            When no answer came, after retries.
        """
        return self.driver.request(method.upper(), path, params=params, json_body=json,
                                   headers=headers, retries=retries)

    def __repr__(self):
        return f"<ClientMeta {self.config.base_url} schema={self.spec_info.source}>"
