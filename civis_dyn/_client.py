"""``APIClient``: the entry point that ties schema, resources, transport and responses together."""

import itertools

from ._config import ClientConfig
from ._lookups import ClientLookups
from ._meta import ClientMeta
from ._pipeline import SyncDriver
from ._resources import resource_class
from ._stub_check import note_spec_in_use
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
        attributes; ``"raw"``: the :class:`~civis_dyn.HTTPResponse` (it has
        ``status_code``, ``headers``, ``content``, ``text`` and ``json()``
        like a ``requests.Response``).
    api_version : str, optional
        The API version ("1.0").
    local_api_spec : str, PathLike or dict, optional
        A schema file or a parsed schema to build from.
    force_refresh_api_spec : bool, optional
        Ignore cached schemas and fetch the live one.
    retries : RetryPolicy, int or urllib3.util.Retry, optional
        Retry policy (default :class:`civis_dyn.RetryPolicy`); an int is
        the number of retries.
    user_agent : str, optional
        Prepended to the User-Agent header.
    base_url : str, optional
        The API's root URL. Default: env ``CIVIS_API_ENDPOINT``, else
        ``https://api.civisanalytics.com/``.
    timeout : float or (float, float), optional
        Connect and read timeouts (default 10 s and 300 s).
    transport : civis_dyn.Transport, optional
        What sends the requests (default: a new :class:`~civis_dyn.HTTPTransport`).
        Anything with ``send(request) -> HTTPResponse`` and ``close()``: the
        test doubles (``Stubber``, ``LocalCivisAPI.transport()``) plug in
        here. The key, base URL, retries and timeouts still come from the
        arguments above: a transport only carries requests.
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
    last_response : Response, ListResponse, PaginatedResponse or HTTPResponse
        What the last call returned.
    meta : ClientMeta
        The public seam: the schema model, settings, transport and request
        pipeline the client is made of (for code built on top of the client).

    Notes
    -----
    ``with APIClient() as client:`` closes the pooled connections at the end
    of the block, as :meth:`close` does.

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
        driver = SyncDriver.from_config(config, transport)
        spec, spec_info = load_api_spec_with_info(
            local_api_spec, transport=driver, api_version=api_version,
            force_refresh=force_refresh_api_spec,
            key_fingerprint=driver.key_fingerprint if local_api_spec is None else None,
            max_schema_bytes=config.max_schema_bytes)
        settle(self, ClientMeta(self, config, spec,
                                spec_info if spec_info is not None else spec.info, driver))

    # -- exploration ------------------------------------------------------
    def __dir__(self):
        meta = self.__dict__.get("meta")
        resources = set(meta.spec.resources()) if meta is not None else set()
        return sorted(set(object.__dir__(self)) | resources)

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
                f"resources={len(self.meta.spec.index)} schema={self.spec_info.source}>")

    # -- pickling: the key is never stored --------------------------------
    def __getstate__(self):
        settings = self.meta.config.as_arguments()
        local = settings["local_api_spec"]
        return {"settings": {**settings, "local_api_spec": None if isinstance(local, dict) else local},
                "spec_document": self.meta.spec.document if isinstance(local, dict) else None}

    def __reduce__(self):
        # pickle the class users know (APIClient or their subclass), not the per-schema one
        return (_restore, (getattr(type(self), "_client_base", type(self)), self.__getstate__()))

    def __setstate__(self, state):
        settings = dict(state["settings"])
        if state["spec_document"] is not None:
            settings["local_api_spec"] = state["spec_document"]
        self.__init__(api_key=None, **settings)

    # -- connections --------------------------------------------------------
    def close(self):
        """Close the transport's pooled connections (a later call opens new ones)."""
        self.meta.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _restore(cls, state):
    client = cls.__new__(cls)
    client.__setstate__(state)
    return client


def settle(client, meta):
    """Give a freshly built ``client`` its ``meta`` and its schema's class (both clients),
    and note the schema in use (:mod:`civis_dyn.types`, the stale-stubs check).

    The per-schema subclass of :func:`client_class` has the resources as class
    attributes, so ``dir()``, ``help()`` and completion see them all.
    """
    client.meta = meta
    client.last_response = None
    schema_class = client_class(type(client), meta.spec)
    if type(client) is not schema_class:
        client.__class__ = schema_class
    note_spec_in_use(meta.spec)  # civis_dyn.types' schema; warns if installed stubs are stale


class _ResourceAttribute(tuple):
    # A resource of the schema as a class attribute of the client. A data descriptor
    # (so help() lists it, with a one-line description) that keeps the built resource in
    # the instance's __dict__: the first access builds it, assignment replaces it for that
    # client (``client.jobs = Mock()``), ``del`` brings the schema's back. Because resources
    # are class attributes and the client has no ``__getattr__``, completers that only
    # evaluate attribute access they know is safe (IPython's default
    # ``evaluation='limited'``) complete ``client.jobs.`` too.
    # A ``(name, spec)`` tuple: made without a Python-level __init__, so attaching the
    # resources of a large schema costs little (see client_class).

    __slots__ = ()

    @property
    def name(self):
        return self[0]

    @property
    def spec(self):
        return self[1]

    @property
    def __doc__(self):
        names = self.spec.methods(self.name)
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        plural = "" if len(names) == 1 else "s"
        return f"The {self.name!r} resource: {len(names)} API method{plural} ({shown})."

    def __get__(self, client, owner=None):
        if client is None:
            return self
        name = self[0]
        found = client.__dict__.get(name)
        if found is None:
            found = client.__dict__[name] = resource_class(
                client.meta.spec, name, getattr(type(client), "_resource_base", None))(client)
        return found

    def __set__(self, client, value):
        client.__dict__[self[0]] = value

    def __delete__(self, client):
        client.__dict__.pop(self[0], None)

    def __repr__(self):
        return f"<resource {self.name!r}>"


_CLIENT_CLASSES = ("client_classes",)  # key of ApiSpec.derived: {user class: schema class}


def client_class(cls, spec):
    """The subclass of ``cls`` whose class attributes are ``spec``'s resources (cached per spec).

    Names ``cls`` already defines (``meta``, ``username``, ...) are not shadowed. The
    resources' base class is ``cls._resource_base`` when it has one (the async client's
    :class:`~civis_dyn._async_client.AsyncResource`), else :class:`~civis_dyn._resources.Resource`.
    """
    if "_client_base" in vars(cls):
        cls = cls._client_base
    classes = spec.derived(_CLIENT_CLASSES, dict)
    made = classes.get(cls)
    if made is None:
        resources = spec.resources()
        namespace = dict(zip(resources, map(_ResourceAttribute,
                                            zip(resources, itertools.repeat(spec)))))
        for name in {*dir(cls), *dir(type(cls))}:  # what hasattr(cls, name) finds stays
            namespace.pop(name, None)
        namespace.update({"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                          "__doc__": cls.__doc__, "_client_base": cls})
        made = type(cls.__name__, (cls,), namespace)
        made = classes.setdefault(cls, made)
    return made
