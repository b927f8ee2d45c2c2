"""``APIClient``: the entry point that ties schema, resources, transport and responses together."""

from ._config import ClientConfig
from ._errors import InvalidResponseError
from ._lookups import ClientLookups
from ._meta import ClientMeta
from ._resources import OperationMethod, client_rules, resource_class, suggest
from ._response import ListResponse, PaginatedResponse, Response
from ._stubs import note_spec_in_use
from ._transport import Transport, decode_json
from .spec._source import load_api_spec_with_info

__all__ = ["APIClient"]


class APIClient(ClientLookups):
    """The Civis API client, synthesized from the API's schema.

    Every resource of the schema is an attribute (``client.jobs``,
    ``client.git_repos``) and every operation a method of it
    (``client.jobs.list_runs``), made on first access.

    Parameters
    ----------
    api_key : str, optional
        Your Civis API key. Default: env ``CIVIS_API_KEY``. Without one the
        client can be explored (``dir``, ``help``) but calls fail clearly.
    return_type : str, optional
        ``"snake"`` (default): :class:`Response` objects with snake_case
        attributes; ``"raw"``: the :class:`requests.Response`.
    api_version : str, optional
        The API version ("1.0").
    local_api_spec : str, PathLike or dict, optional
        A schema file or a parsed schema to build from.
    force_refresh_api_spec : bool, optional
        Ignore cached schemas and fetch the live one.
    retries : RetryPolicy, int or urllib3.util.Retry, optional
        Retry policy (default :class:`civis_dyn.RetryPolicy`).
    user_agent : str, optional
        Prepended to the User-Agent header.
    base_url : str, optional
        The API's root URL. Default: env ``CIVIS_API_ENDPOINT``, else
        ``https://api.civisanalytics.com/``.
    timeout : float or (float, float), optional
        Connect and read timeouts (default 10 s and 300 s).
    transport : Transport, optional
        Injected transport (tests, custom sessions); overrides the above
        connection settings.
    allow_insecure_http : bool, optional
        Allow sending the key over plain ``http://`` to a host that is not
        loopback.
    parameter_validation : bool, optional
        Check arguments against the schema before sending (default True).
        False sends them as given (only made JSON), as botocore's option of
        the same name does: for when the schema lags behind the API.
    max_schema_bytes, max_response_bytes : int, optional
        Largest schema and response body accepted, decoded (default: env
        ``CIVIS_DYN_MAX_SCHEMA_BYTES`` and ``CIVIS_DYN_MAX_RESPONSE_BYTES``,
        else 64 MiB and 256 MiB).

    Attributes
    ----------
    last_response : Response, ListResponse or requests.Response
        What the last call returned.
    meta : ClientMeta
        The schema model, settings and transport the client is made of (for
        code built on top of the client).

    Notes
    -----
    civis-python's helpers are here too (see :class:`~civis_dyn._lookups.ClientLookups`):
    ``username``, ``feature_flags``, ``default_credential``,
    ``default_database_credential_id``, ``get_database_id``,
    ``get_database_credential_id``, ``get_table_id``, ``get_storage_host_id``
    and ``get_aws_credential_id``.
    """

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
        if transport is None:
            transport = Transport(config.base_url, config.api_key, user_agent=user_agent,
                                  retries=retries, timeout=timeout,
                                  allow_insecure_http=allow_insecure_http,
                                  max_response_bytes=max_response_bytes)
        config = config.replace(base_url=transport.base_url)
        spec, spec_info = load_api_spec_with_info(
            local_api_spec, transport=transport, api_version=api_version,
            force_refresh=force_refresh_api_spec,
            key_fingerprint=getattr(transport, "key_fingerprint", None),
            max_schema_bytes=max_schema_bytes)
        self.meta = ClientMeta(self, config, spec, spec_info if spec_info is not None else spec.info,
                               transport)
        self._spec = spec
        self._transport = transport
        self._return_type = config.return_type
        self.last_response = None
        note_spec_in_use(spec)  # civis_dyn.types' schema; warns if installed stubs are stale

    # -- exploration ------------------------------------------------------
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        spec = self.__dict__.get("_spec")
        if spec is None:
            raise AttributeError(name)
        try:
            cls = resource_class(spec, name)
        except AttributeError:
            raise AttributeError(f"APIClient has no resource {name!r}."
                                 f"{suggest(name, spec.resources())}") from None
        resource = cls(self)
        self.__dict__[name] = resource  # later lookups skip __getattr__
        return resource

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._spec.resources()))

    @property
    def spec_info(self):
        """Where the schema came from: a :class:`~civis_dyn.spec.SpecInfo`.

        Its ``source`` is ``"file"``, ``"dict"``, ``"bundle"``, ``"download"``,
        ``"memory"``, ``"disk-cache"`` or ``"stale-cache"``; ``location`` the
        file or URL; ``age`` seconds since the schema was downloaded or last
        revalidated; ``sha256`` the hash of its bytes.
        """
        return self.meta.spec_info

    @property
    def base_url(self):
        """The API's root URL."""
        return self.meta.config.base_url

    def __repr__(self):
        return (f"<civis_dyn.APIClient {self.base_url} api_version={self.meta.config.api_version!r} "
                f"resources={len(self._spec.index)} schema={self.spec_info.source}>")

    # -- pickling: the key is never stored --------------------------------
    def __getstate__(self):
        settings = self.meta.config.as_arguments()
        local = settings["local_api_spec"]
        return {"settings": {**settings, "local_api_spec": None if isinstance(local, dict) else local},
                "spec_document": self._spec.document if isinstance(local, dict) else None}

    def __setstate__(self, state):
        settings = dict(state["settings"])
        if state["spec_document"] is not None:
            settings["local_api_spec"] = state["spec_document"]
        self.__init__(api_key=None, **settings)

    # -- calls --------------------------------------------------------------
    def _invoke(self, method, args, kwargs, return_type):
        """Call a bound resource method with ``return_type`` instead of the client's."""
        function = getattr(method, "__func__", None)
        if isinstance(function, OperationMethod):
            path, query, body, iterator = function.bind(args, kwargs, client_rules(self))
            return self._call(function.operation, path, query, body, iterator, return_type)
        return method(*args, **kwargs)

    def _call(self, op, path, query, body, iterator, return_type=None):
        verb = op.verb.upper()
        if iterator:
            result = self.last_response = self._paginate(op, path, query)
            return result
        response = self._transport.request(verb, path, params=query or None, json_body=body)
        if (return_type or self._return_type) == "raw":
            self.last_response = response
            return response
        result = self._wrap(op, decode_json(response, verb, path), response)
        self.last_response = result
        return result

    @staticmethod
    def _wrap(op, data, response):
        """Wrap decoded JSON ``data`` of ``op`` as the client's response objects."""
        json_value = op.resource == "json_values"
        if isinstance(data, list):
            return ListResponse(data, headers=response.headers, json_value=json_value)
        if data is None or isinstance(data, dict):
            return Response(data, headers=response.headers, json_value=json_value)
        return data  # a bare JSON scalar

    def _paginate(self, op, path, query):
        transport = self._transport

        def fetch_page(page_num):
            params = {**query, "page_num": page_num}
            response = transport.request("GET", path, params=params)
            items = decode_json(response, "GET", path)
            if items is None:
                items = []
            if not isinstance(items, list):
                raise InvalidResponseError(response.status_code,
                                           "a paginated endpoint returned a non-list body",
                                           response, "GET", path)
            return items, response.headers

        return PaginatedResponse(fetch_page)
