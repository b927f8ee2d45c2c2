"""Where the resource classes of a client live: ``client.jobs`` is a ``civis_dyn.resources.Jobs``.

The classes are made at run time from the API's schema, one per resource and
schema, the first time a client touches the resource (see
:class:`civis_dyn.APIClient`): this module names them but cannot hold them,
since two clients may be built from different schemas. Get one with
``type(client.jobs)``. Every one derives from :class:`Resource`.

A resource instance pickles as its client and name: ``pickle.loads`` gives
``client.jobs`` of a client rebuilt from the pickled settings (never the key).
"""

from ._resources import Resource

__all__ = ["Resource"]


def __getattr__(name):
    if name[:1].isupper():
        raise AttributeError(f"civis_dyn.resources.{name} is made from the API's schema for each "
                             f"client: use type(client.<resource>) (e.g. type(client.jobs))")
    raise AttributeError(f"module 'civis_dyn.resources' has no attribute {name!r}")
