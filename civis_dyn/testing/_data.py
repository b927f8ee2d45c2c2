"""Data behind the local Civis API: file contents, SQL, imports, exports, tables.

The generic store (:mod:`._store`) gives every route of the schema its CRUD
behaviour.  This module adds what moves data, as route hooks the store calls
instead of its own handler (a hook may call that handler first):

* **files** — ``POST /files`` answers an ``uploadUrl`` and ``uploadFields``
  served by the local API itself (:mod:`._blobs`); ``POST /files/multipart``
  answers ``uploadUrls`` and ``.../complete`` joins the parts; ``GET
  /files/{id}`` carries ``fileUrl``, ``fileSize`` and, after a CSV
  preprocess, ``detectedInfo``;
* **jobs that run SQL or move data** — a run of one of the kinds in
  :attr:`DataFeatures.executors` does its work when it starts, on the
  embedded SQL engine (:mod:`._sql`); the run's state still follows the
  store's clock, and its outputs and results show once it has succeeded
  (or its ``error`` once it has failed):

  - ``/queries``: ``POST /queries`` starts a run; ``resultColumns`` and
    ``resultRows`` (at most ``previewRows``) of the last statement;
  - ``/scripts/sql``: the result as a CSV file (``csvSettings``: header,
    gzip/zip/none, comma/tab/pipe, unquoted) in the run's ``output``;
  - ``/exports/files/csv``: the same, from ``source.sql``;
  - ``/imports/files/csv``: CSV files into a table (``existingTableRows``
    fail/truncate/append/drop/upsert, ``firstRowIsHeader``, delimiter,
    gzip, ``tableColumns``, ``maxErrors``);
  - ``/imports`` of ``syncType`` ``Dbsync``: its ``syncs`` copy tables between
    databases (``/imports/files/{id}/runs/{run_id}`` reaches these runs);
  - ``/files/preprocess/csv``: detects header, delimiter, compression and
    column types; the cleaned file is the run's output;

* **tables** — ``/tables``, ``/tables/{id}/columns`` and ``/databases/{id}/
  schemas...`` list what the SQL engine holds;
* **logs** — ``civis-max-id`` and ``civis-cache-control`` (``no-store``
  while the run can still log, ``store`` after) as the real API sends;
* **run outputs** — named after their object (the file's or table's name);
* **projects** — ``GET /projects/{id}`` lists the objects put in it.

Request bodies are accepted with snake_case keys as well as camelCase, at any
depth, as the real API does (:func:`camel_body`); free-form values
(``arguments``, ``environmentVariables``, ``value``, ``input``, ``metadata``)
keep their keys.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
import zlib
from datetime import datetime

from ..spec._naming import KEEP_CASE_KEYS
from ._blobs import BlobError, CHUNK
from ._schema import camel
from ._sql import SqlError, quote_ident

__all__ = ["DataFeatures", "camel_body"]

#: Keys whose values are free-form: their own keys are kept as sent.
FREE_FORM = KEEP_CASE_KEYS | {"value", "input", "metadata"}
#: Wire names of the CSV column delimiters.
DELIMITERS = {"comma": ",", "tab": "\t", "pipe": "|"}
#: Seconds a file lives when ``expiresAt`` is not given (30 days).
FILE_LIFETIME = 30 * 24 * 3600
#: The database every local API starts with.
DEFAULT_DATABASE = {"id": 1, "name": "local", "adapter": "sqlite", "databaseName": "local",
                    "host": "127.0.0.1", "port": 0, "managed": True}
#: The user's default credential for it.
DEFAULT_CREDENTIAL = {"id": 1, "name": "local", "type": "Database", "username": "local",
                      "remoteHostId": 1, "remoteHostName": "local", "default": True}
#: Project fields listing objects of a collection (by path prefix).
PROJECT_FIELDS = (("/scripts", "scripts"), ("/imports", "imports"), ("/exports", "exports"),
                  ("/files", "files"), ("/tables", "tables"), ("/models", "models"),
                  ("/notebooks", "notebooks"), ("/services", "services"),
                  ("/workflows", "workflows"), ("/reports", "reports"),
                  ("/templates/scripts", "scriptTemplates"), ("/enhancements", "enhancements"),
                  ("/surveys", "surveys"))
#: Where the object of a run output lives, by its ``objectType``.
OUTPUT_TOPS = {"File": "/files", "Table": "/tables", "Project": "/projects",
               "Report": "/reports", "JSONValue": "/json_values", "Credential": "/credentials",
               "Script": "/scripts"}
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_BOOLS = frozenset({"true", "false", "t", "f"})
_FINAL = ("succeeded", "failed", "cancelled")


def camel_body(value, free=False):
    """``value`` with every dict key in camelCase, except inside free-form fields."""
    if isinstance(value, dict):
        if free:
            return value
        return {camel(k) if isinstance(k, str) else k:
                camel_body(v, isinstance(k, str) and (k in FREE_FORM or camel(k) in FREE_FORM))
                for k, v in value.items()}
    if isinstance(value, list) and not free:
        return [camel_body(v) for v in value]
    return value


class DataError(Exception):
    """A run's work failed; the message becomes the run's ``error``."""


class DataFeatures:
    """The data hooks of one :class:`~._store.Store`.

    Parameters
    ----------
    store : Store
    blobs : BlobStore
        File contents and URL signing.
    sql : SqlEngine
        The embedded SQL engine.
    base_url : callable
        Returns the API's base URL (``http://127.0.0.1:PORT/``).
    """

    def __init__(self, store, blobs, sql, base_url):
        self.store = store
        self.blobs = blobs
        self.sql = sql
        self.base_url = base_url
        self.files: dict[int, dict] = {}      # file id -> {"key", "parts", "detected"}
        self.table_ids: dict[tuple, int] = {}  # (db id, schema, table) -> /tables id
        self.executors = {
            "/queries": self._run_query,
            "/scripts/sql": self._run_sql_script,
            "/exports/files/csv": self._run_export,
            "/imports/files/csv": self._run_csv_import,
            "/imports": self._run_sync,
            "/files/preprocess/csv": self._run_preprocess,
        }
        self._hooks = {
            ("POST", "/files"): self._post_file,
            ("GET", "/files/{id}"): self._get_file,
            ("POST", "/files/multipart"): self._post_multipart,
            ("POST", "/files/multipart/{id}/complete"): self._complete_multipart,
            ("POST", "/queries"): self._post_query,
            ("GET", "/queries/{id}"): self._get_query,
            ("GET", "/queries"): self._list_queries,
            ("GET", "/databases/{id}/schemas"): self._list_schemas,
            ("GET", "/databases/{id}/schemas/{schema_name}/tables"): self._list_schema_tables,
            ("GET", "/databases/{id}/schemas/{schema_name}/tables/{table_name}"):
                self._get_schema_table,
            ("GET", "/databases/{id}/tables"): self._list_db_tables,
            ("GET", "/tables/{id}/columns"): self._table_columns,
            ("GET", "/projects/{project_id}"): self._get_project,
        }
        if "/databases" in store.tops and not store.top.get("/databases"):
            store.seed("/databases", dict(DEFAULT_DATABASE))
        if "/credentials" in store.tops and not store.top.get("/credentials"):
            store.seed("/credentials", dict(DEFAULT_CREDENTIAL))

    # -- dispatch -------------------------------------------------------------
    def hook(self, route):
        """The hook serving ``route`` instead of the store's handler, or None."""
        found = self._hooks.get((route.method, route.key))
        if found is not None:
            return found
        kind = route.plan[0]
        if kind == "run_create":
            return self._run_create
        if kind in ("run_list", "obj_get") and route.method == "GET":
            return self._run_read
        if kind == "logs_get":
            return self._logs_get
        if kind == "outputs_add":
            return self._outputs_add
        return None

    def url(self, path: str, query: str = "") -> str:
        return self.base_url().rstrip("/") + path + ("?" + query if query else "")

    # -- files ----------------------------------------------------------------
    def _file_node(self, file_id):
        node = self.store.top.get("/files", {}).get(file_id)
        if node is None:
            raise BlobError(404, "NoSuchKey", "The specified key does not exist.")
        return node

    def file_key(self, file_id: int) -> str:
        """The storage key of file ``file_id`` (BlobError 404 when unknown)."""
        self._file_node(file_id)
        return self.files.setdefault(file_id, {"key": f"files/{file_id}"})["key"]

    def file_name(self, file_id: int) -> str | None:
        node = self.store.top.get("/files", {}).get(file_id)
        return node.data.get("name") if node is not None else None

    def file_uploaded(self, file_id: int, size: int) -> None:
        node = self._file_node(file_id)
        node.data["fileSize"] = size
        node.data["updatedAt"] = self.store.stamp(self.store.clock())

    def _new_file(self, body, now):
        body = dict(body or {})
        if "expiresAt" not in body:
            body["expiresAt"] = self.store.stamp(now + FILE_LIFETIME)
        body.setdefault("fileSize", None)
        node = self.store.create("/files", None, None, body, now)
        self.store.creations["/files"] += 1
        name = node.data.get("name") or f"file_{node.key}"
        self.files[node.key] = {"key": f"files/{node.key}/{name}"}
        return node

    def _post_file(self, route, params, query, body, info, now, default):
        node = self._new_file(body, now)
        path, fields = self.blobs.upload_form(node.key, self.files[node.key]["key"])
        reply = self.store.reply(route, node, now)
        reply.body["uploadUrl"] = self.url(path)
        reply.body["uploadFields"] = fields
        return reply

    def _post_multipart(self, route, params, query, body, info, now, default):
        body = dict(body or {})
        parts = body.pop("numParts", 1)
        if not isinstance(parts, int) or isinstance(parts, bool) or not 1 <= parts <= 10000:
            raise _bad("numParts must be an integer from 1 to 10000")
        node = self._new_file(body, now)
        self.files[node.key]["parts"] = parts
        reply = self.store.reply(route, node, now)
        reply.body["uploadUrls"] = [
            self.url(p, self.blobs.signed_query("PUT", p))
            for p in (self.blobs.part_path(node.key, i) for i in range(parts))]
        return reply

    def _complete_multipart(self, route, params, query, body, info, now, default):
        file_id = params[0]
        meta = self.files.get(file_id)
        if meta is None or "parts" not in meta:
            raise _not_found(f"Multipart upload of file {file_id}")
        try:
            size = self.blobs.complete(file_id, meta.pop("parts"))
        except ValueError as e:
            meta["parts"] = meta.get("parts")
            raise _bad(f"Cannot complete the upload of file {file_id}: {e}") from None
        self.file_uploaded(file_id, size)
        return _reply_class()(route.status)

    def _file_fields(self, file_id):
        extra = {"fileSize": self.blobs.size(file_id)}
        if extra["fileSize"] is not None:
            path = self.blobs.download_path(file_id)
            extra["fileUrl"] = self.url(path, self.blobs.signed_query("GET", path))
            extra["downloadUrl"] = extra["fileUrl"]
        detected = self.files.get(file_id, {}).get("detected")
        if detected is not None:
            extra["detectedInfo"] = detected
        return extra

    def _get_file(self, route, params, query, body, info, now, default):
        reply = default(body)
        if isinstance(reply.body, dict):
            reply.body.update(self._file_fields(params[0]))
        return reply

    def _read_file(self, file_id):
        """The bytes of file ``file_id`` as a binary stream (gzip undone)."""
        if self.store.top.get("/files", {}).get(file_id) is None:
            raise DataError(f"File {file_id} was not found")
        if self.blobs.size(file_id) is None:
            raise DataError(f"File {file_id} has no contents (was it uploaded?)")
        f = self.blobs.open(file_id)
        head = f.read(2)
        f.seek(0)
        if head == b"\x1f\x8b":
            return gzip.GzipFile(fileobj=f, mode="rb"), "gzip"
        return f, "none"

    def _write_output_file(self, name, rows_iter, columns, settings, now):
        """Write a query result as a CSV file; return its file node."""
        delimiter = DELIMITERS.get(settings.get("columnDelimiter") or "comma", ",")
        compression = settings.get("compression") or "gzip"
        header = settings.get("includeHeader", True) is not False
        quoting = csv.QUOTE_NONE if settings.get("unquoted") else csv.QUOTE_MINIMAL
        suffix = {"gzip": ".csv.gz", "zip": ".csv.zip"}.get(compression, ".csv")
        node = self._new_file({"name": name + suffix}, now)

        def lines():
            text = io.StringIO()
            writer = csv.writer(text, delimiter=delimiter, quoting=quoting,
                                escapechar="\\" if quoting == csv.QUOTE_NONE else None,
                                lineterminator="\n")
            if header:
                writer.writerow(columns)
            for row in rows_iter:
                writer.writerow(["" if v is None else v for v in row])
                if text.tell() >= CHUNK:
                    yield text.getvalue().encode()
                    text.seek(0)
                    text.truncate()
            yield text.getvalue().encode()

        if compression == "gzip":
            def gz():
                z = zlib.compressobj(6, zlib.DEFLATED, 31)
                for block in lines():
                    out = z.compress(block)
                    if out:
                        yield out
                yield z.flush()
            self.blobs.write_from(node.key, gz())
        elif compression == "zip":
            with zipfile.ZipFile(self.blobs.path(node.key), "w", zipfile.ZIP_DEFLATED) as zf:
                with zf.open(name + ".csv", "w") as out:
                    for block in lines():
                        out.write(block)
        else:
            self.blobs.write_from(node.key, lines())
        self.file_uploaded(node.key, self.blobs.size(node.key))
        return node

    # -- runs ---------------------------------------------------------------------
    def _run_create(self, route, params, query, body, info, now, default):
        reply = default(body)
        owner = self.store.resolve_owner(route, params, info["chain"])
        runs = owner.children.get(info["sub"]) or {}
        if runs:
            self.start(owner, next(reversed(runs.values())), now)
        return reply

    def start(self, owner, run, now):
        """Do the work of a new run of ``owner`` (a no-op for other kinds)."""
        executor = self.executors.get(owner.coll)
        if executor is None or run.run is None:
            return
        try:
            executor(owner, run, now)
        except (DataError, SqlError) as e:
            run.run.error = str(e)
        except BlobError as e:
            run.run.error = e.message

    def _run_read(self, route, params, query, body, info, now, default):
        """Hide results of unfinished runs: outputs show once the run succeeded."""
        reply = default(body)
        rows = reply.body if isinstance(reply.body, list) else [reply.body]
        for row in rows:
            if isinstance(row, dict) and "output" in row and row.get("state") != "succeeded":
                row["output"] = []
        return reply

    def _add_output(self, run, kind, object_id, name, now, value=None):
        top = OUTPUT_TOPS.get(kind, "/" + camel(kind).lower() + "s")
        run.run.outputs.append({"objectType": kind, "objectId": object_id, "name": name,
                                "link": f"{top}/{object_id}", "value": value,
                                "id": len(run.run.outputs) + 1,
                                "createdAt": self.store.stamp(now)})

    def _database(self, db_id, what):
        if db_id is None:
            raise DataError(f"{what} is required")
        if self.store.top_node("/databases", db_id) is None:
            names = ", ".join(f"{n.data.get('name')!r} ({n.key})"
                              for n in self.store.top.get("/databases", {}).values())
            raise DataError(f"Database {db_id} was not found; databases: {names or 'none'}")
        return db_id

    def _run_query(self, owner, run, now):
        d = owner.data
        if not d.get("sql"):
            return  # nothing to run (a bare object, as the generic store makes)
        db = self._database(d.get("database"), "database")
        cursor = self.sql.execute(db, d.get("sql") or "")
        self.sync_tables(now)
        limit = d.get("previewRows")
        limit = 100 if not isinstance(limit, int) else max(0, min(limit, 1000))
        if cursor is not None and cursor.description:
            columns = [c[0] for c in cursor.description]
            rows = [["" if v is None else str(v) for v in r] for r in cursor.fetchmany(limit)]
        else:
            columns, rows = [], []
        owner.data = {**d, "resultColumns": columns, "resultRows": rows}

    def _sql_output(self, owner, run, now, sql, db, settings, prefix):
        cursor = self.sql.execute(db, sql)
        self.sync_tables(now)
        run.data["output"] = []
        if cursor is None or not cursor.description:
            return
        columns = [c[0] for c in cursor.description]
        name = prefix or f"{owner.coll.strip('/').replace('/', '_')}_{owner.key}_run_{run.key}"
        node = self._write_output_file(name, iter(cursor), columns, settings, now)
        path = self.blobs.download_path(node.key)
        run.data["output"] = [{"outputName": node.data["name"], "fileId": node.key,
                               "path": self.url(path, self.blobs.signed_query("GET", path)),
                               "fileUrl": None, "fileSize": node.data.get("fileSize")}]
        self._add_output(run, "File", node.key, node.data["name"], now)

    def _run_sql_script(self, owner, run, now):
        d = owner.data
        if not d.get("sql"):
            return
        db = self._database(d.get("remoteHostId"), "remoteHostId")
        settings = d.get("csvSettings") or {}
        self._sql_output(owner, run, now, d.get("sql") or "", db, settings,
                         settings.get("filenamePrefix"))

    def _run_export(self, owner, run, now):
        d = owner.data
        source = d.get("source") or {}
        if not source.get("sql"):
            return
        db = self._database(source.get("remoteHostId"), "source.remoteHostId")
        settings = {"includeHeader": d.get("includeHeader", True),
                    "compression": d.get("compression") or "gzip",
                    "columnDelimiter": d.get("columnDelimiter") or "comma"}
        prefix = (d.get("destination") or {}).get("filenamePrefix")
        self._sql_output(owner, run, now, source.get("sql") or "", db, settings, prefix)

    # -- imports --------------------------------------------------------------------
    def _run_csv_import(self, owner, run, now):
        d = owner.data
        if not d.get("source") and not d.get("destination"):
            return
        dest = d.get("destination") or {}
        db = self._database(dest.get("remoteHostId"), "destination.remoteHostId")
        schema, table = dest.get("schema"), dest.get("table")
        if not schema or not table:
            raise DataError("destination.schema and destination.table are required")
        file_ids = (d.get("source") or {}).get("fileIds") or []
        if not file_ids:
            raise DataError("source.fileIds is required")
        delimiter = DELIMITERS.get(d.get("columnDelimiter") or "comma")
        if delimiter is None:
            raise DataError("columnDelimiter must be one of comma, tab, pipe")
        header = bool(d.get("firstRowIsHeader"))
        max_errors = d.get("maxErrors") or 0
        declared = d.get("tableColumns") or []
        rows, names, errors = [], None, 0
        for fid in file_ids:
            stream, _ = self._read_file(fid)
            with stream:
                text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="")
                reader = csv.reader(text, delimiter=delimiter,
                                    escapechar="\\" if d.get("escaped") else None)
                first = True
                for rec in reader:
                    if first and header:
                        names = names or rec
                        first = False
                        continue
                    first = False
                    rows.append(rec)
        width = len(declared) or (len(names) if names else (len(rows[0]) if rows else 0))
        good = []
        for rec in rows:
            if len(rec) != width:
                errors += 1
                continue
            good.append([None if v == "" else v for v in rec])
        if errors > max_errors:
            raise DataError(f"{errors} rows did not have {width} columns "
                            f"(maxErrors is {max_errors})")
        if declared:
            columns = [(c.get("name") or f"column_{i}", c.get("sqlType") or "VARCHAR")
                       for i, c in enumerate(declared, 1)]
        else:
            types = detect_types(good, width)
            columns = [((names[i] if names and i < len(names) else f"column_{i + 1}"), t)
                       for i, t in enumerate(types)]
        self._load_table(db, schema, table, columns, good,
                         d.get("existingTableRows") or "fail", dest.get("primaryKeys") or [])
        self.sync_tables(now)
        tid = self.table_ids.get((db, schema, table))
        if tid is not None:
            self._add_output(run, "Table", tid, f"{schema}.{table}", now)

    def _load_table(self, db, schema, table, columns, rows, mode, primary_keys):
        if mode not in ("fail", "truncate", "append", "drop", "upsert"):
            raise DataError("existingTableRows must be one of fail, truncate, append, drop, "
                            f"upsert, not {mode!r}")
        self.sql.attach(db, schema) if schema != "public" else None
        exists = self.sql.columns(db, schema, table) is not None
        name = self.sql.qualified(db, schema, table)
        conn = self.sql.connection(db)
        if exists and mode == "fail":
            raise DataError(f"Table {schema}.{table} already exists "
                            "(existingTableRows is 'fail')")
        conn.execute("begin")
        try:
            if exists and mode == "drop":
                conn.execute(f"drop table {name}")
                exists = False
            if not exists:
                cols = ", ".join(f"{quote_ident(n)} {t}" for n, t in columns)
                conn.execute(f"create table {name} ({cols})")
            elif mode == "truncate":
                conn.execute(f"delete from {name}")
            have = self.sql.columns(db, schema, table)
            width = len(have)
            if rows and len(rows[0]) != width:
                raise DataError(f"The file has {len(rows[0])} columns; table {schema}.{table} "
                                f"has {width}")
            if exists and mode == "upsert":
                if not primary_keys:
                    raise DataError("upsert needs destination.primaryKeys")
                index = [c["name"] for c in have]
                pos = [index.index(k) for k in primary_keys if k in index]
                where = " and ".join(f"{quote_ident(index[p])} = ?" for p in pos)
                conn.executemany(f"delete from {name} where {where}",
                                 ([r[p] for p in pos] for r in rows))
            marks = ", ".join("?" * width)
            conn.executemany(f"insert into {name} values ({marks})", rows)
            conn.execute("commit")
        except Exception as e:
            conn.execute("rollback")
            if isinstance(e, (DataError, SqlError)):
                raise
            raise DataError(str(e)) from None

    def _run_sync(self, owner, run, now):
        d = owner.data
        if d.get("syncType") != "Dbsync":
            return
        src = self._database((d.get("source") or {}).get("remoteHostId"), "source.remoteHostId")
        dst = self._database((d.get("destination") or {}).get("remoteHostId"),
                             "destination.remoteHostId")
        syncs = list((owner.children.get("syncs") or {}).values())
        if not syncs:
            raise DataError(f"Import {owner.key} has no syncs")
        for sync in syncs:
            s = sync.data
            src_path = (s.get("source") or {}).get("path") or ""
            dst_path = (s.get("destination") or {}).get("path") or ""
            options = s.get("advancedOptions") or {}
            s_schema, s_table = _split(src_path, "source.path")
            d_schema, d_table = _split(dst_path, "destination.path")
            columns = self.sql.columns(src, s_schema, s_table)
            if columns is None:
                raise DataError(f"Table {src_path} does not exist in database {src}")
            rows = self.sql.connection(src).execute(
                f"select * from {self.sql.qualified(src, s_schema, s_table)}").fetchall()
            self._load_table(dst, d_schema, d_table, [(c["name"], c["sqlType"]) for c in columns],
                             rows, options.get("existingTableRows") or "fail",
                             options.get("primaryKeys") or [])
        self.sync_tables(now)

    def _run_preprocess(self, owner, run, now):
        d = owner.data
        fid = d.get("fileId")
        if fid is None:
            return
        stream, compression = self._read_file(fid)
        with stream:
            sample = stream.read(256 * 1024)
        text = sample.decode("utf-8", errors="replace")
        if len(sample) == 256 * 1024 and "\n" in text:
            text = text[:text.rindex("\n")]
        delimiter = d.get("columnDelimiter")
        if delimiter not in DELIMITERS:
            try:
                found = csv.Sniffer().sniff(text[:65536], delimiters=",\t|").delimiter
            except csv.Error:
                found = ","
            delimiter = {v: k for k, v in DELIMITERS.items()}[found]
        rows = list(csv.reader(io.StringIO(text), delimiter=DELIMITERS[delimiter]))
        header = d.get("includeHeader")
        if not isinstance(header, bool):
            header = detect_header(rows)
        data_rows = rows[1:] if header and rows else rows
        width = max((len(r) for r in rows), default=0)
        table_columns = []
        if d.get("detectTableColumns"):
            types = detect_types([[None if v == "" else v for v in r] for r in data_rows], width)
            names = rows[0] if header and rows else []
            table_columns = [{"name": names[i] if i < len(names) else f"column_{i + 1}",
                              "sqlType": t} for i, t in enumerate(types)]
        detected = {"includeHeader": header, "columnDelimiter": delimiter,
                    "compression": compression, "tableColumns": table_columns}
        if d.get("inPlace", True) is False:
            src = self.store.top["/files"][fid]
            node = self._new_file({"name": src.data.get("name")}, now)
            with self.blobs.open(fid) as f:
                self.blobs.write_from(node.key, iter(lambda: f.read(CHUNK), b""))
            self.file_uploaded(node.key, self.blobs.size(node.key))
            target = node
        else:
            target = self.store.top["/files"][fid]
        self.files.setdefault(target.key, {"key": f"files/{target.key}"})["detected"] = detected
        self._add_output(run, "File", target.key, target.data.get("name"), now)

    # -- queries ----------------------------------------------------------------------
    def _post_query(self, route, params, query, body, info, now, default):
        reply = default(body)
        node = self.store.top["/queries"][reply.body["id"]]
        run = self.store.create(None, node, "runs", {}, now)
        self.start(node, run, now)
        return self._query_reply(route, node, now)

    def _query_fields(self, node, now, data):
        runs = node.children.get("runs") or {}
        if not runs:
            return {**data, "resultRows": None, "resultColumns": None}
        run = next(reversed(runs.values()))
        view = self.store.run_view(run, now)
        done = view["state"] == "succeeded"
        return {**data, "state": view["state"], "error": view.get("error"),
                "startedAt": view.get("startedAt"), "finishedAt": view.get("finishedAt"),
                "lastRunId": run.key,
                "resultRows": data.get("resultRows") if done else None,
                "resultColumns": data.get("resultColumns") if done else None}

    def _query_reply(self, route, node, now):
        data = self._query_fields(node, now, self.store.view(node, now))
        return _reply_class()(route.status, self.store.index.fill(route.response, data))

    def _get_query(self, route, params, query, body, info, now, default):
        default(body)  # 404s and the like
        return self._query_reply(route, self.store.top_node("/queries", params[0]), now)

    def _list_queries(self, route, params, query, body, info, now, default):
        nodes = list(self.store.top.get("/queries", {}).values())
        rows = [(self._query_fields(n, now, self.store.view(n, now)), n) for n in nodes]
        return self.store.list_reply(route, query, rows)

    # -- logs and outputs -------------------------------------------------------------
    def _logs_get(self, route, params, query, body, info, now, default):
        reply = default(body)
        node = self.store.resolve_owner(route, params, info["chain"])
        headers = dict(reply.headers or {})
        if node.run is not None:
            logs = node.run.logs
            if logs:
                headers["civis-max-id"] = str(max(x["id"] for x in logs))
            state = node.run.at(now)[0]
            done = state in _FINAL and len(logs) == len(node.run.events())
            headers["civis-cache-control"] = "store" if done else "no-store"
        else:
            headers["civis-cache-control"] = "no-store"
        reply.headers = headers
        return reply

    def _outputs_add(self, route, params, query, body, info, now, default):
        reply = default(body)
        node = self.store.resolve_owner(route, params, info["chain"])
        if node.run is not None and node.run.outputs:
            out = node.run.outputs[-1]
            top = OUTPUT_TOPS.get(out["objectType"])
            target = self.store.top_node(top, out["objectId"]) if top else None
            if target is not None:
                name = target.data.get("name")
                if out["objectType"] == "Table" and target.data.get("schema"):
                    name = f"{target.data['schema']}.{name}"
                if name:
                    out["name"] = name
                if out["objectType"] == "JSONValue":
                    out["value"] = target.data.get("value")
                out["link"] = f"{top}/{out['objectId']}"
            if isinstance(reply.body, dict):
                reply.body.update({k: out[k] for k in ("name", "value", "link")
                                   if k in reply.body})
        return reply

    # -- projects -------------------------------------------------------------------------
    def _get_project(self, route, params, query, body, info, now, default):
        reply = default(body)
        if not isinstance(reply.body, dict):
            return reply
        key = str(params[0])
        props = self.store.index.properties(route.response)
        found = {}
        for top, items in self.store.top.items():
            field = next((f for p, f in PROJECT_FIELDS
                          if top == p or top.startswith(p + "/")), None)
            if field is None or field not in props:
                continue
            for node in items.values():
                if key in {str(k) for k in node.links.get("projects", {})}:
                    data = dict(self.store.view(node, now))
                    data.setdefault("type", _type_of(top))
                    if top == "/files":
                        data.setdefault("fileName", data.get("name"))
                    found.setdefault(field, []).append(data)
        for field, rows in found.items():
            item = self.store.index.resolve(props[field]).get("items")
            reply.body[field] = [self.store.index.fill(item, r) if item else r for r in rows]
        return reply

    # -- tables -----------------------------------------------------------------------------
    def sync_tables(self, now):
        """Make ``/tables`` hold exactly the tables the SQL engine has."""
        tables = self.store.top.setdefault("/tables", {})
        seen = set()
        for db_node in list(self.store.top.get("/databases", {}).values()):
            db = db_node.key
            if not self.sql.is_open(db):
                continue
            for schema, name, is_view in self.sql.tables(db):
                key = (db, schema, name)
                columns = self.sql.columns(db, schema, name) or []
                fields = {"databaseId": db, "schema": schema, "name": name, "isView": is_view,
                          "columnCount": len(columns),
                          "rowCount": self.sql.row_count(db, schema, name),
                          "columns": [dict(c, nullCount=None) for c in columns]}
                tid = self.table_ids.get(key)
                node = tables.get(tid) if tid is not None else None
                if node is None:
                    node = self.store.create("/tables", None, None, fields, now)
                    self.table_ids[key] = node.key
                else:
                    node.data.update(fields, updatedAt=self.store.stamp(now))
                seen.add(node.key)
        for tid in [t for t in tables if t not in seen]:
            del tables[tid]
        self.table_ids = {k: v for k, v in self.table_ids.items() if v in seen}

    def _table_nodes(self, db, schema=None):
        return [n for n in self.store.top.get("/tables", {}).values()
                if n.data.get("databaseId") == db
                and (schema is None or n.data.get("schema") == schema)]

    def _check_db(self, db):
        if self.store.top_node("/databases", db) is None:
            raise _not_found(f"Database {db}")

    def _list_schemas(self, route, params, query, body, info, now, default):
        self._check_db(params[0])
        names = self.sql.schemas(params[0]) if self.sql.is_open(params[0]) else []
        rows = [({"schema": n}, _node_of(n)) for n in names]
        return self.store.list_reply(route, query, rows)

    def _list_schema_tables(self, route, params, query, body, info, now, default):
        self._check_db(params[0])
        nodes = self._table_nodes(params[0], params[1])
        return self.store.list_reply(route, query, [(self.store.view(n, now), n) for n in nodes])

    def _list_db_tables(self, route, params, query, body, info, now, default):
        self._check_db(params[0])
        nodes = self._table_nodes(params[0])
        return self.store.list_reply(route, query, [(self.store.view(n, now), n) for n in nodes])

    def _get_schema_table(self, route, params, query, body, info, now, default):
        self._check_db(params[0])
        db, schema, table = params[0], params[1], params[2]
        tid = self.table_ids.get((db, schema, table))
        node = self.store.top.get("/tables", {}).get(tid) if tid is not None else None
        if node is None:
            raise _not_found(f"Table {schema}.{table}")
        return self.store.reply(route, node, now)

    def _table_columns(self, route, params, query, body, info, now, default):
        node = self.store.top_node("/tables", params[0])
        if node is None:
            raise _not_found(f"Table {params[0]}")
        rows = [(c, _node_of(c)) for c in node.data.get("columns") or []]
        return self.store.list_reply(route, query, rows)


# -- detection ---------------------------------------------------------------------
def _type_of_value(v: str) -> str:
    if _INT.match(v):
        return "BIGINT" if abs(int(v)) >= 2 ** 31 else "INTEGER"
    if _FLOAT.match(v):
        return "DOUBLE PRECISION"
    if v.lower() in _BOOLS:
        return "BOOLEAN"
    if _DATE.match(v):
        try:
            datetime.strptime(v, "%Y-%m-%d")
            return "DATE"
        except ValueError:
            return "VARCHAR"
    if _TIMESTAMP.match(v):
        return "TIMESTAMP"
    return "VARCHAR"


_WIDEN = {("INTEGER", "BIGINT"): "BIGINT", ("INTEGER", "DOUBLE PRECISION"): "DOUBLE PRECISION",
          ("BIGINT", "DOUBLE PRECISION"): "DOUBLE PRECISION", ("DATE", "TIMESTAMP"): "TIMESTAMP"}


def detect_types(rows, width) -> list[str]:
    """Redshift-style SQL types of the columns of ``rows`` (None cells ignored)."""
    types, lengths = [None] * width, [1] * width
    for row in rows[:100_000]:
        for i, v in enumerate(row[:width]):
            if v is None:
                continue
            lengths[i] = max(lengths[i], len(v.encode()))
            t = _type_of_value(v)
            cur = types[i]
            if cur is None or cur == t:
                types[i] = t
            else:
                types[i] = _WIDEN.get((cur, t)) or _WIDEN.get((t, cur)) or "VARCHAR"
    return [f"VARCHAR({lengths[i]})" if t in (None, "VARCHAR") else t
            for i, t in enumerate(types)]


def detect_header(rows) -> bool:
    """Whether the first row of ``rows`` looks like column names."""
    if len(rows) < 2:
        return bool(rows) and all(v and _type_of_value(v) == "VARCHAR" for v in rows[0])
    first, rest = rows[0], rows[1:]
    width = len(first)
    if not all(first) or len(set(first)) != width:
        return False
    rest_types = detect_types([[None if v == "" else v for v in r] for r in rest], width)
    first_types = [_type_of_value(v) for v in first]
    if any(not rt.startswith("VARCHAR") and ft == "VARCHAR"
           for rt, ft in zip(rest_types, first_types)):
        return True
    if all(ft == "VARCHAR" for ft in first_types):
        seen = [{r[i] for r in rest if i < len(r)} for i in range(width)]
        return all(first[i] not in seen[i] for i in range(width))
    return False


def _split(path, what):
    parts = next(csv.reader([path], delimiter=".", quotechar='"'))
    if len(parts) != 2 or not all(parts):
        raise DataError(f"{what} must be 'schema.table', not {path!r}")
    return parts[0], parts[1]


def _type_of(top):
    last = top.rstrip("/").split("/")[-1]
    return {"sql": "SQL", "r": "R", "containers": "Container", "python3": "Python3",
            "javascript": "JavaScript", "dbt": "dbt", "custom": "Custom"}.get(last, None)


def _node_of(data):
    from ._store import Node

    return Node(data, "", None)


def _reply_class():
    from ._store import Reply

    return Reply


def _bad(message):
    from ._store import ApiError

    return ApiError(400, "bad_request", message)


def _not_found(what):
    from ._store import not_found

    return not_found(what)
