"""The SQL engine behind the local Civis API: :mod:`sqlite3` from the standard library.

Each Civis database (``/databases/{id}``) is one SQLite connection.  A schema
is an attached SQLite database, attached the first time a statement names it
(``create table scratch.people (...)`` attaches ``scratch``) or by
``create schema [if not exists] NAME``.  Unqualified names live in SQLite's
``main`` database, listed as the ``public`` schema when no ``public`` schema
was attached.

Why SQLite: it ships with Python (no dependency), runs in-process, and speaks
enough standard SQL (``select``/``insert``/``create table ... as``/``with``/
window functions) for the scripts a local test runs.  Its types are loose
(declared types are kept as written, values keep their own type), which is
close enough to what an import into Redshift keeps for a round trip.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

__all__ = ["SqlEngine", "SqlError", "split_statements"]

_UNKNOWN_DB = re.compile(r"unknown database (\S+)")
_CREATE_SCHEMA = re.compile(r"^\s*create\s+schema\s+(if\s+not\s+exists\s+)?\"?(\w+)\"?\s*;?\s*$",
                            re.I)
_IDENT = re.compile(r"^\w+$")
_MAX_ATTACH_TRIES = 8


class SqlError(Exception):
    """A statement failed; the message is the engine's error text."""


def split_statements(sql: str) -> list[str]:
    """Split ``sql`` into complete statements (semicolons in strings are kept)."""
    out, start = [], 0
    for i, ch in enumerate(sql):
        if ch == ";" and sqlite3.complete_statement(sql[start:i + 1]):
            stmt = sql[start:i + 1].strip()
            if stmt.strip(";").strip():
                out.append(stmt)
            start = i + 1
    rest = sql[start:].strip()
    if rest:
        out.append(rest)
    return out


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


class SqlEngine:
    """One SQLite connection per database id.

    Parameters
    ----------
    root : path-like, optional
        Keep databases in files under this folder (``db<ID>/<schema>.sqlite``);
        in memory by default.
    """

    def __init__(self, root=None):
        self.root = Path(root) if root is not None else None
        self._conns: dict[int, sqlite3.Connection] = {}
        self._lock = threading.RLock()

    def _file(self, db_id: int, schema: str) -> str:
        if self.root is None:
            return ":memory:"
        folder = self.root / f"db{db_id}"
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder / f"{schema}.sqlite")

    def is_open(self, db_id: int) -> bool:
        """True when database ``db_id`` has been used (its connection is open)."""
        return db_id in self._conns

    def connection(self, db_id: int) -> sqlite3.Connection:
        """The connection of database ``db_id`` (opened on first use)."""
        conn = self._conns.get(db_id)
        if conn is None:
            conn = sqlite3.connect(self._file(db_id, "main"), isolation_level=None,
                                   check_same_thread=False)
            if self.root is not None:
                for f in sorted((self.root / f"db{db_id}").glob("*.sqlite")):
                    if f.stem != "main":
                        conn.execute("attach database ? as " + quote_ident(f.stem), (str(f),))
            self._conns[db_id] = conn
        return conn

    def attach(self, db_id: int, schema: str) -> None:
        """Create schema ``schema`` in database ``db_id`` (no-op when it exists)."""
        if not _IDENT.match(schema):
            raise SqlError(f"invalid schema name {schema!r}")
        conn = self.connection(db_id)
        if schema in self.schemas(db_id, raw=True):
            return
        conn.execute("attach database ? as " + quote_ident(schema), (self._file(db_id, schema),))

    def schemas(self, db_id: int, raw=False) -> list[str]:
        """Schema names of database ``db_id``."""
        rows = self.connection(db_id).execute("pragma database_list").fetchall()
        names = [r[1] for r in rows if r[1] != "temp"]
        if raw:
            return names
        out = [n for n in names if n != "main"]
        if "public" not in out and self.tables(db_id, "public"):
            out.insert(0, "public")
        return out

    def _db_name(self, db_id, schema):
        names = self.schemas(db_id, raw=True)
        if schema in names:
            return schema
        if schema == "public":
            return "main"
        return None

    def execute(self, db_id: int, sql: str):
        """Run every statement of ``sql``; return the cursor of the last one.

        Raises
        ------
        SqlError
            With the engine's message, naming the failing statement's number
            when there are several.
        """
        statements = split_statements(sql)
        if not statements:
            raise SqlError("the SQL is empty")
        conn = self.connection(db_id)
        cursor = None
        with self._lock:
            for n, stmt in enumerate(statements, 1):
                m = _CREATE_SCHEMA.match(stmt)
                if m:
                    if m.group(2) in self.schemas(db_id, raw=True) and not m.group(1):
                        raise SqlError(f'schema "{m.group(2)}" already exists')
                    self.attach(db_id, m.group(2))
                    cursor = None
                    continue
                cursor = self._run(conn, db_id, stmt, n if len(statements) > 1 else None)
        return cursor

    def _run(self, conn, db_id, stmt, number):
        for _ in range(_MAX_ATTACH_TRIES):
            try:
                return conn.execute(stmt)
            except sqlite3.Error as e:
                m = _UNKNOWN_DB.search(str(e))
                if m and _IDENT.match(m.group(1)) and re.match(r"\s*(create|drop|alter)\b",
                                                               stmt, re.I):
                    self.attach(db_id, m.group(1))
                    continue
                if m:
                    raise SqlError(f'schema "{m.group(1)}" does not exist') from None
                where = f" (statement {number})" if number else ""
                raise SqlError(f"{e}{where}") from None
        raise SqlError("too many schemas")

    # -- catalog ------------------------------------------------------------
    def tables(self, db_id: int, schema: str | None = None) -> list[tuple[str, str, bool]]:
        """``(schema, table, is_view)`` of every table (of one schema)."""
        conn = self.connection(db_id)
        raw = self.schemas(db_id, raw=True)
        out = []
        for db in raw:
            label = "public" if db == "main" and "public" not in raw else db
            if schema is not None and label != schema:
                continue
            rows = conn.execute(f"select name, type from {quote_ident(db)}.sqlite_master "
                                "where type in ('table', 'view') and name not like 'sqlite_%' "
                                "order by name").fetchall()
            out += [(label, r[0], r[1] == "view") for r in rows]
        return out

    def columns(self, db_id: int, schema: str, table: str) -> list[dict] | None:
        """``[{name, sqlType, ordinal}]`` of a table, None when it does not exist."""
        db = self._db_name(db_id, schema)
        if db is None:
            return None
        rows = self.connection(db_id).execute(
            f"pragma {quote_ident(db)}.table_info({quote_ident(table)})").fetchall()
        if not rows:
            return None
        return [{"name": r[1], "sqlType": (r[2] or "VARCHAR").upper(), "ordinal": r[0] + 1,
                 "isNullable": not r[3]} for r in rows]

    def row_count(self, db_id: int, schema: str, table: str) -> int:
        db = self._db_name(db_id, schema)
        return self.connection(db_id).execute(
            f"select count(*) from {quote_ident(db)}.{quote_ident(table)}").fetchone()[0]

    def qualified(self, db_id: int, schema: str, table: str) -> str:
        """The SQL name of ``schema.table`` (``public`` may be SQLite's ``main``)."""
        db = self._db_name(db_id, schema) or schema
        return f"{quote_ident(db)}.{quote_ident(table)}"

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()
