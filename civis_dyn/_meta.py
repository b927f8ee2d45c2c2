"""``client.meta``: the public view of what a client is made of.

Code built on top of the core (runs, conveniences, the CLI, the test doubles,
user extensions) reads the schema model, the settings and the transport here,
never through a client's private attributes. botocore's ``client.meta`` is the
model.
"""

__all__ = ["ClientMeta"]


class ClientMeta:
    """The schema model, settings and transport of one :class:`~civis_dyn.APIClient`.

    Attributes
    ----------
    client : APIClient
        The client this describes.
    config : ClientConfig
        The resolved settings.
    spec : civis_dyn.spec.ApiSpec
        The schema model the client was built from.
    spec_info : civis_dyn.spec.SpecInfo
        Where that schema came from.
    transport : object
        What sends the client's requests.
    """

    __slots__ = ("client", "config", "spec", "spec_info", "transport")

    def __init__(self, client, config, spec, spec_info, transport):
        self.client = client
        self.config = config
        self.spec = spec
        self.spec_info = spec_info
        self.transport = transport

    def resource(self, name):
        """The client's resource ``name`` (``meta.resource("jobs")`` is ``client.jobs``)."""
        return getattr(self.client, name)

    def operation(self, resource, name):
        """The :class:`~civis_dyn.spec.Operation` behind ``client.<resource>.<name>``."""
        return self.spec.operation(resource, name)

    def call(self, resource, name, /, *args, **kwargs):
        """Call ``client.<resource>.<name>(*args, **kwargs)`` and return civis_dyn responses.

        Unlike the method itself, the result does not depend on the client's
        ``return_type``: it is a :class:`~civis_dyn.Response`,
        :class:`~civis_dyn.ListResponse`, :class:`~civis_dyn.PaginatedResponse`
        or None. Features use this so a ``return_type="raw"`` client works with them.
        """
        method = getattr(self.resource(resource), name)
        return self.client._invoke(method, args, kwargs, return_type="snake")

    def __repr__(self):
        return f"<ClientMeta {self.config.base_url} schema={self.spec_info.source}>"
