"""What the :mod:`civis_dyn.io` functions share: errors, the client, databases, futures.

Every API call goes through ``client.meta.call(resource, method, ...)``, so the
functions work with any client ``return_type``.
"""

from __future__ import annotations

import os
import uuid

from .._errors import CivisDynError, CivisImportError, EmptyResultError

__all__ = ["CivisImportError", "EmptyResultError", "TypePathLike"]

TypePathLike = (str, bytes, os.PathLike)


def client_or_default(client):
    if client is None:
        import civis_dyn

        client = civis_dyn.APIClient()
    return client


def call(client, resource, method, *args, **kwargs):
    """``client.<resource>.<method>(...)`` as civis_dyn responses."""
    return client.meta.call(resource, method, *args, **kwargs)


def random_name(name):
    return name or uuid.uuid4().hex


def database_id(client, database, label):
    """The id of ``database`` (an id or a name); ValueError names the candidates."""
    if isinstance(database, int) and not isinstance(database, bool):
        return database
    if not isinstance(database, str) or not database:
        raise TypeError(f"{label} argument 'database' must be a database name or id, "
                        f"not {database!r}")
    dbs = list(call(client, "databases", "list"))
    for db in dbs:
        if db.get("name") == database:
            return db["id"]
    names = ", ".join(repr(db.get("name")) for db in dbs) or "none"
    raise ValueError(f"{label}: database {database!r} not found; databases: {names}")


def default_credential_id(client):
    """The user's default database credential id, or None (as civis-python)."""
    try:
        creds = call(client, "credentials", "list", default=True, type="Database")
    except CivisDynError:
        return None
    creds = list(creds)
    return creds[0]["id"] if creds else None


def future(client, poller_name, resource, args, polling_interval):
    """A :class:`~civis_dyn.CivisFuture` polling ``client.<resource>.<poller_name>(*args)``."""
    from ..futures import CivisFuture

    return CivisFuture(getattr(getattr(client, resource), poller_name), tuple(args),
                       polling_interval=polling_interval, client=client)


def pandas(what):
    """Import pandas, or say how to install it."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(f"{what} needs pandas: pip install 'civis-dyn[pandas]' "
                          "(or pip install pandas)") from None
    return pd
