"""civis-python's ``APIClient`` helpers: names to ids, the current user, default credentials.

:class:`ClientLookups` is a base class of :class:`civis_dyn.APIClient`. Its
helpers have civis-python 2.10.1's names, arguments, results, errors and
warnings, and like civis-python they remember their answers per client (an
``lru_cache`` there, a dict on the client here): ``get_database_id("db")``
asks the API once per client.

On an :class:`~civis_dyn.AsyncAPIClient` each helper is awaited
(``await client.username``, ``await client.get_database_id("db")``): each is
written once, as steps (:mod:`civis_dyn._effects`) that the blocking client
runs and the async client awaits, with the same per-client memory.

They call the client's resources as a user would (``self.databases.list()``),
so a resource method replaced on the client (``client.tables.list = Mock()``)
is what they use; their results are read with ``obj["id"]``, which works for
:class:`~civis_dyn.Response` objects and plain dicts.
"""

from ._effects import Call, is_async_client, run_async, run_blocking
from ._errors import ArgumentValueError
from ._warnings import warn_user

__all__ = ["ClientLookups", "split_schema_tablename"]

# csv, logging and civis_dyn._response are imported by the helpers that use them:
# building a client imports none of them

_CACHE_ATTR = "_lookup_cache"


def split_schema_tablename(table):
    """Split ``"schema.table"`` into ``(schema, table)``; ``(None, table)`` without a schema.

    A part may be double-quoted to hold dots (``'"my.schema".t'``), with
    ``""`` for a literal quote, as in SQL.

    Raises
    ------
    ValueError
        When ``table`` has more than two parts.
    """
    import csv
    import io

    parts = next(csv.reader(io.StringIO(str(table)), delimiter=".", quotechar='"',
                            doublequote=True))
    if len(parts) == 1:
        return None, parts[0]
    if len(parts) != 2:
        raise ArgumentValueError(f"Cannot parse schema and table. Does {table!r} follow the pattern "
                         f"'schema.table'?")
    return parts[0], parts[1]


class ClientLookups:
    """The lookup helpers of civis-python's ``APIClient`` (see the module docstring)."""

    def _remembered(self, key, steps):
        """What ``steps()`` returns, computed once per client and ``key``.

        Awaitable on the async client (run there with :func:`~civis_dyn._effects.run_async`).
        """
        cache = self.__dict__.setdefault(_CACHE_ATTR, {})
        if is_async_client(self):
            return _remembered_async(cache, key, steps)
        try:
            return cache[key]
        except KeyError:
            pass
        value = cache[key] = run_blocking(steps())
        return value

    def _given(self, value):
        """An id given as such: itself (awaitable on the async client)."""
        return _ready(value) if is_async_client(self) else value

    @property
    def username(self):
        """The current user's username (``users.get_me().username``), asked once per client."""
        def username():
            me = yield Call(self.users.get_me)
            return me["username"]
        return self._remembered(("username",), username)

    @property
    def feature_flags(self):
        """The names of the current user's feature flags that are on, as a tuple.

        .. deprecated:: civis-python 2.6.0
            Use ``client.users.get_me()["feature_flags"]``.
        """
        warn_user("The property `feature_flags` is deprecated and will be removed at "
                  "civis-python v3.0.0 (scheduled for February 2027). Please use "
                  "client.users.get_me()['feature_flags'] instead.")

        def flags():
            me = yield Call(self.users.get_me)
            return tuple(name for name, on in me["feature_flags"].items() if on)
        return self._remembered(("feature_flags",), flags)

    @property
    def default_credential(self):
        """The id of the current user's default credential, or None.

        .. deprecated:: civis-python 2.4.0
            Use :attr:`default_database_credential_id`.
        """
        warn_user("The property `default_credential` is deprecated and will be removed at "
                  "civis-python v3.0.0 (scheduled for February 2027). Please use "
                  "`default_database_credential_id` instead.")

        def first():
            creds = yield Call(self.credentials.list, default=True)
            return creds[0]["id"] if len(creds) > 0 else None
        return self._remembered(("default_credential",), first)

    @property
    def default_database_credential_id(self):
        """The id of the current user's default database credential, or None."""
        def first():
            creds = yield Call(self.credentials.list, default=True, type="Database",
                               remote_host_id=None)
            return creds[0]["id"] if len(creds) > 0 else None
        return self._remembered(("default_database_credential_id",), first)

    def get_database_id(self, database):
        """Return the id of a database given its name (an int id passes through).

        Parameters
        ----------
        database : str or int

        Returns
        -------
        int

        Raises
        ------
        ValueError
            When no database has that name.
        """
        if isinstance(database, int):
            return self._given(database)

        def lookup():
            from ._response import find_one

            found = find_one((yield Call(self.databases.list)), name=database)
            if not found:
                raise ArgumentValueError(f"Database {database} not found.")
            return found["id"]
        return self._remembered(("get_database_id", database), lookup)

    def get_database_credential_id(self, username, database_name):
        """Return the id of the database credential of ``username`` on a database.

        .. deprecated:: civis-python 2.4.0
            There is no reliable way to find it; consider
            :attr:`default_database_credential_id`.

        Parameters
        ----------
        username : str or int
            A username, or a credential id (passes through).
        database_name : str or int
            The database's name or id.

        Raises
        ------
        ValueError
            When no such credential is found.
        """
        warn_user("The method `get_database_credential_id` is deprecated and will be removed at "
                  "civis-python v3.0.0 (scheduled for February 2027). Its continued usage is "
                  "strongly discouraged. Given the way Civis Platform has evolved over the "
                  "years, there's currently no reliable way to get a database credential ID "
                  "from a username and database name. No replacement for this method is being "
                  "planned. If you need to programmatically access a database credential ID "
                  "that is or may likely be the default credential, consider the property "
                  "`default_database_credential_id`.")
        if isinstance(username, int):
            return self._given(username)

        def lookup():
            from ._response import find_one

            creds = yield Call(self.credentials.list, type="Database")
            where = ({"remote_host_id": database_name} if isinstance(database_name, int)
                     else {"remote_host_name": database_name})
            found = find_one(creds, username=username, **where)
            if found is None:
                raise ArgumentValueError(f"Credential ID for {username} on {database_name} not found.")
            return found["id"]
        return self._remembered(("get_database_credential_id", username, database_name), lookup)

    def get_aws_credential_id(self, cred_name, owner=None):
        """Return the id of an AWS (S3) credential given its name (an int id passes through).

        Parameters
        ----------
        cred_name : str or int
        owner : str, optional
            The credential's owner. Without it, several credentials of that
            name are narrowed to those of the current user.

        Raises
        ------
        ValueError
            When no such credential is found. Several matches log a warning
            and the first is returned.
        """
        if isinstance(cred_name, int):
            return self._given(cred_name)

        def lookup():
            from ._response import find

            creds = find((yield Call(self.credentials.list, type="Amazon Web Services S3")),
                         name=cred_name)
            wanted_owner = owner
            if wanted_owner is not None:
                creds = find(creds, owner=wanted_owner)
            if not creds:
                owned = "" if wanted_owner is None else f" owned by {wanted_owner}"
                raise ArgumentValueError(f"AWS credential ID for {cred_name}{owned} cannot be found")
            if len(creds) > 1:
                if wanted_owner is None:
                    wanted_owner = yield Call(getattr, self, "username")
                    creds = find(creds, owner=wanted_owner)
                if len(creds) > 1:
                    import logging

                    logging.getLogger("civis_dyn").warning(
                        "Found %d AWS credentials with name %s and owner %s. "
                        "Returning the first.", len(creds), cred_name, wanted_owner)
            return creds[0]["id"]
        return self._remembered(("get_aws_credential_id", cred_name, owner), lookup)

    def get_table_id(self, table, database):
        """Return the id of a table given ``"schema.table"`` and its database's name or id.

        Raises
        ------
        ValueError
            When no table matches (or ``table`` cannot be parsed).
        """
        def lookup():
            database_id = yield Call(self.get_database_id, database)
            schema, name = split_schema_tablename(table)
            tables = yield Call(self.tables.list, database_id=database_id, schema=schema,
                                name=name)
            if not tables:
                raise ArgumentValueError(f"No tables found for {table} in database {database}")
            return tables[0].id
        return self._remembered(("get_table_id", table, database), lookup)

    def get_storage_host_id(self, storage_host):
        """Return the id of a storage host given its name (an int id passes through).

        Raises
        ------
        ValueError
            When no storage host has that name.
        """
        if isinstance(storage_host, int):
            return self._given(storage_host)

        def lookup():
            from ._response import find_one

            found = find_one((yield Call(self.storage_hosts.list)), name=storage_host)
            if not found:
                raise ArgumentValueError(f"Storage Host {storage_host} not found.")
            return found["id"]
        return self._remembered(("get_storage_host_id", storage_host), lookup)


async def _remembered_async(cache, key, steps):
    try:
        return cache[key]
    except KeyError:
        pass
    value = cache[key] = await run_async(steps())
    return value


async def _ready(value):
    return value
