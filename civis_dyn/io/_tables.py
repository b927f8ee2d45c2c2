"""Tables and SQL: read query results, export them to files, load CSVs into tables."""

from __future__ import annotations

import collections
import csv
import gzip
import io
import logging
import os
import shutil
import tempfile
import warnings
import zipfile
import zlib

from .._errors import CivisAPIError
from .._lookups import split_schema_tablename
from . import _transfer
from ._common import (CivisImportError, EmptyResultError, call, client_or_default,
                      database_id, default_credential_id, future, pandas, random_name)
from ._files import file_to_civis

__all__ = ["civis_file_to_table", "civis_to_csv", "csv_to_civis", "dataframe_to_civis",
           "export_to_civis_file", "read_civis", "read_civis_sql", "split_schema_tablename"]

log = logging.getLogger("civis_dyn.io")

DELIMITERS = {",": "comma", "\t": "tab", "|": "pipe"}
_SQL_PARAMS_ARGUMENTS_KEYS = frozenset({"params", "arguments"})
_RETURN_AS = frozenset({"list", "pandas"})
_File = collections.namedtuple("_File", "id name detected_info")


def _check_return_as(return_as, label):
    if return_as not in _RETURN_AS:
        raise ValueError(f"{label}: unsupported return_as {return_as!r}; one of "
                         f"{sorted(_RETURN_AS)}")
    if return_as == "pandas":
        pandas(f"{label} with return_as='pandas'")


def _sql_script(client, sql, database, job_name, credential_id, hidden=False,
                csv_settings=None, sql_params_arguments=None, label="read_civis_sql()"):
    db_id = database_id(client, database, label)
    credential_id = credential_id or default_credential_id(client)
    if credential_id is None:
        raise ValueError(f"{label}: you have no default database credential; "
                         "pass credential_id")
    extra = dict(sql_params_arguments or {})
    if not set(extra) <= _SQL_PARAMS_ARGUMENTS_KEYS:
        raise ValueError(f"{label}: sql_params_arguments must be a dict with keys in "
                         f"{sorted(_SQL_PARAMS_ARGUMENTS_KEYS)}: {sorted(extra)}")
    script = call(client, "scripts", "post_sql", random_name(job_name), remote_host_id=db_id,
                  credential_id=credential_id, sql=sql, hidden=hidden,
                  csv_settings=csv_settings or {}, **extra)
    run = call(client, "scripts", "post_sql_runs", script["id"])
    log.debug("Started run %d of SQL script %d", run["id"], script["id"])
    return script["id"], run["id"]


def export_to_civis_file(sql, database, sql_params_arguments=None, job_name=None, client=None,
                         credential_id=None, polling_interval=None, hidden=True,
                         csv_settings=None):
    """Run ``sql`` and store its result as a CSV file; return the run's CivisFuture.

    ``future.result()["output"][0]["file_id"]`` is the file.
    """
    client = client_or_default(client)
    script_id, run_id = _sql_script(client, sql, database, job_name, credential_id, hidden,
                                    csv_settings, sql_params_arguments,
                                    "export_to_civis_file()")
    return future(client, "get_sql_runs", "scripts", (script_id, run_id), polling_interval)


def _outputs(finished_run):
    """The output files of a finished SQL run (as its final poll read it)."""
    return list(finished_run.get("output") or [])


def read_civis_sql(sql, database, return_as="list", use_pandas=None, sql_params_arguments=None,
                   encoding=None, job_name=None, client=None, credential_id=None,
                   polling_interval=None, hidden=True, **kwargs):
    """Run ``sql`` and return its result: a list of rows (header first) or a DataFrame.

    Raises
    ------
    CivisJobFailure
        When the query fails (its error text is the message).
    EmptyResultError
        When the query produced no result (e.g. a statement without rows).
    """
    label = "read_civis_sql()"
    if use_pandas:
        return_as = "pandas"
    _check_return_as(return_as, label)
    client = client_or_default(client)
    script_id, run_id = _sql_script(client, sql, database, job_name, credential_id, hidden,
                                    {"compression": "gzip"}, sql_params_arguments, label)
    outputs = _outputs(future(client, "get_sql_runs", "scripts", (script_id, run_id),
                              polling_interval).result())
    if not outputs:
        raise EmptyResultError(f"Query {script_id} returned no output.")
    url = outputs[0]["path"]
    with tempfile.TemporaryFile() as tmp:
        _transfer.download(url, tmp, f"Download of the result of SQL script {script_id}")
        tmp.seek(0)
        if return_as == "pandas":
            pd = pandas(label)
            kwargs.setdefault("compression", "gzip")
            return pd.read_csv(tmp, encoding=encoding, **kwargs)
        text = io.TextIOWrapper(gzip.GzipFile(fileobj=tmp), encoding=encoding or "utf-8",
                                newline="")
        return list(csv.reader(text, **kwargs))


def read_civis(table, database, columns=None, return_as="list", use_pandas=None, encoding=None,
               job_name=None, client=None, credential_id=None, polling_interval=None,
               hidden=True, **kwargs):
    """The rows of ``table`` (``"schema.table"``), optionally only ``columns``."""
    if columns is not None and not isinstance(columns, (list, tuple)):
        raise TypeError("read_civis(): columns must be a list, tuple or None")
    select = ", ".join(columns) if columns is not None else "*"
    return read_civis_sql(f"select {select} from {table}", database, return_as=return_as,
                          use_pandas=use_pandas, encoding=encoding, job_name=job_name,
                          client=client, credential_id=credential_id,
                          polling_interval=polling_interval, hidden=hidden, **kwargs)


def _gunzip_to(src, dst):
    d = zlib.decompressobj(zlib.MAX_WBITS | 32)
    while True:
        block = src.read(_transfer.CHUNK)
        if not block:
            break
        dst.write(d.decompress(block))
        while d.eof and d.unused_data:  # concatenated gzip members
            rest = d.unused_data
            d = zlib.decompressobj(zlib.MAX_WBITS | 32)
            dst.write(d.decompress(rest))
    dst.write(d.flush())


def _download_csv(url, filename, compression, label):
    with tempfile.TemporaryFile() as tmp:
        _transfer.download(url, tmp, label)
        tmp.seek(0)
        if compression == "gzip":
            with open(filename, "wb") as out:
                shutil.copyfileobj(tmp, out, _transfer.CHUNK)
        elif compression == "zip":
            arcname = os.path.basename(filename)
            if arcname.endswith(".zip"):
                arcname = arcname[:-4] + ".csv"
            with zipfile.ZipFile(filename, "w", zipfile.ZIP_DEFLATED) as zf:
                with zf.open(arcname, "w") as out:
                    _gunzip_to(tmp, out)
        else:
            with open(filename, "wb") as out:
                _gunzip_to(tmp, out)


def civis_to_csv(filename, sql, database, sql_params_arguments=None, job_name=None, client=None,
                 credential_id=None, include_header=True, compression="none", delimiter=",",
                 unquoted=False, hidden=True, polling_interval=None):
    """Run ``sql`` and download its result to ``filename`` as CSV; return the CivisFuture.

    The file is written before the future's ``result()`` returns.  As in
    civis-python, ``compression="gzip"`` with ``include_header=True`` writes
    an uncompressed file.
    """
    label = "civis_to_csv()"
    client = client_or_default(client)
    if compression == "gzip" and include_header:
        compression = "none"
    if compression not in ("none", "gzip", "zip"):
        raise ValueError(f"{label}: compression must be one of 'none', 'gzip', 'zip'")
    try:
        wire_delimiter = DELIMITERS[delimiter]
    except KeyError:
        raise ValueError(f"{label}: delimiter must be one of {list(DELIMITERS)}") from None
    settings = dict(include_header=include_header, compression="gzip",
                    column_delimiter=wire_delimiter, unquoted=unquoted, filename_prefix=None,
                    force_multifile=False)
    script_id, run_id = _sql_script(client, sql, database, job_name, credential_id, hidden,
                                    settings, sql_params_arguments, label)
    fut = future(client, "get_sql_runs", "scripts", (script_id, run_id), polling_interval)

    def download(done):
        if not done.succeeded():
            return
        outputs = _outputs(done.result())
        if not outputs:
            warnings.warn(f"Job {script_id}, run {run_id} does not have any output to "
                          f"download. Not creating file {filename}.", RuntimeWarning)
            return
        _download_csv(outputs[0]["path"], filename, compression,
                      f"Download of the result of SQL script {script_id}")

    fut.add_done_callback(download)
    return fut


def dataframe_to_civis(df, database, table, client=None, max_errors=None,
                       existing_table_rows="fail", diststyle=None, distkey=None, sortkey1=None,
                       sortkey2=None, table_columns=None, credential_id=None, primary_keys=None,
                       last_modified_keys=None, execution="immediate", polling_interval=None,
                       hidden=True, **kwargs):
    """Load a pandas DataFrame into ``table``; return the import's CivisFuture."""
    pandas("dataframe_to_civis()")
    client = client_or_default(client)
    headers = kwargs.get("header") is not False
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dataframe_to_civis.csv")
        df.to_csv(path, **{"encoding": "utf-8", "index": False, **kwargs})
        _, name = split_schema_tablename(table)
        file_id = file_to_civis(path, name, client=client)
    return civis_file_to_table(
        file_id, database, table, client=client, max_errors=max_errors,
        existing_table_rows=existing_table_rows, diststyle=diststyle, distkey=distkey,
        sortkey1=sortkey1, sortkey2=sortkey2, table_columns=table_columns, delimiter=",",
        headers=headers, credential_id=credential_id, primary_keys=primary_keys,
        last_modified_keys=last_modified_keys, escaped=False, execution=execution,
        polling_interval=polling_interval, hidden=hidden)


def csv_to_civis(filename, database, table, client=None, max_errors=None,
                 existing_table_rows="fail", diststyle=None, distkey=None, sortkey1=None,
                 sortkey2=None, table_columns=None, delimiter=",", headers=None,
                 primary_keys=None, last_modified_keys=None, escaped=False,
                 execution="immediate", credential_id=None, polling_interval=None, hidden=True):
    """Upload the local CSV ``filename`` and load it into ``table``; return the CivisFuture."""
    client = client_or_default(client)
    file_id = file_to_civis(filename, os.path.basename(os.fsdecode(filename)), client=client)
    return civis_file_to_table(
        file_id, database, table, client=client, max_errors=max_errors,
        existing_table_rows=existing_table_rows, diststyle=diststyle, distkey=distkey,
        sortkey1=sortkey1, sortkey2=sortkey2, table_columns=table_columns, delimiter=delimiter,
        headers=headers, credential_id=credential_id, primary_keys=primary_keys,
        last_modified_keys=last_modified_keys, escaped=escaped, execution=execution,
        polling_interval=polling_interval, hidden=hidden)


def civis_file_to_table(file_id, database, table, client=None, max_errors=None,
                        existing_table_rows="fail", diststyle=None, distkey=None,
                        sortkey1=None, sortkey2=None, table_columns=None, primary_keys=None,
                        last_modified_keys=None, escaped=False, execution="immediate",
                        delimiter=None, headers=None, credential_id=None,
                        polling_interval=None, hidden=True):
    """Load Civis file(s) ``file_id`` (an id or a list) into ``table``; return the CivisFuture.

    Each file is first preprocessed (header, delimiter, compression and,
    when the table must be created, column types are detected), as
    civis-python does.

    Raises
    ------
    ValueError
        When ``table`` has no schema, ``existing_table_rows="upsert"`` lacks
        ``primary_keys``, or ``table_columns`` is malformed.
    CivisImportError
        When the files disagree on header, delimiter or columns.
    """
    label = "civis_file_to_table()"
    client = client_or_default(client)
    schema, name = split_schema_tablename(table)
    if schema is None:
        raise ValueError(f"{label}: table {table!r} has no schema; write it as "
                         "'schema.table'")
    if existing_table_rows == "upsert" and not primary_keys:
        raise ValueError(f"{label}: primary_keys are required with "
                         "existing_table_rows='upsert'")
    db_id = database_id(client, database, label)
    cred_id = credential_id or default_credential_id(client)
    file_ids = list(file_id) if isinstance(file_id, (list, tuple)) else [file_id]
    if delimiter is not None:
        try:
            delimiter = DELIMITERS[delimiter]
        except KeyError:
            raise ValueError(f"{label}: delimiter must be one of {list(DELIMITERS)}") from None
    if table_columns:
        keys = {k for col in table_columns for k in col}
        if keys - {"name", "sql_type"}:
            raise ValueError(f"{label}: keys of table_columns must be 'name' and 'sql_type', "
                             f"not {sorted(keys - {'name', 'sql_type'})}")
    exists = _table_exists(client, db_id, schema, name)
    typed = bool(table_columns) and all(c.get("sql_type") for c in table_columns)
    if table_columns and not typed and any(c.get("sql_type") for c in table_columns):
        raise ValueError(f"{label}: some table_columns have a sql_type and others do not")
    need_columns = (not exists or existing_table_rows == "drop") and not typed
    files = _preprocess(client, file_ids, need_columns, headers, delimiter, hidden,
                        polling_interval)
    detected_columns, loose_headers = (_columns(files) if need_columns else (None, False))
    try:
        headers = _agree(files, "includeHeader", headers)
    except CivisImportError:
        if not loose_headers:
            raise
        headers = True
    delimiter = _agree(files, "columnDelimiter", delimiter)
    compression = _agree(files, "compression")
    destination = _given(schema=schema, table=name, remote_host_id=db_id,
                         credential_id=cred_id, primary_keys=primary_keys,
                         last_modified_keys=last_modified_keys)
    redshift = _given(distkey=distkey, diststyle=diststyle,
                      sortkeys=[k for k in (sortkey1, sortkey2) if k] or None)
    options = _given(max_errors=max_errors, compression=compression,
                     table_columns=detected_columns if need_columns else table_columns,
                     redshift_destination_options=redshift or None)
    job = call(client, "imports", "post_files_csv", {"file_ids": [f.id for f in files]},
               destination, headers, name=f"CSV import to {schema}.{name}",
               existing_table_rows=existing_table_rows, column_delimiter=delimiter,
               escaped=escaped, execution=execution, loosen_types=need_columns,
               hidden=hidden, **options)
    from ..futures import run_job

    return run_job(job["id"], client=client, polling_interval=polling_interval)


def _table_exists(client, db_id, schema, name):
    if not hasattr(client.databases, "get_schemas_tables"):
        return False  # a schema without the endpoint: let the import decide
    try:
        call(client, "databases", "get_schemas_tables", db_id, schema, name)
        return True
    except CivisAPIError as e:
        if e.status_code != 404:
            warnings.warn(f"Unexpected error checking whether {schema}.{name} exists: {e}")
        return False


def _given(**fields):
    """``fields`` without the ones left at None (the client refuses nulls)."""
    return {k: v for k, v in fields.items() if v is not None}


def _preprocess(client, file_ids, need_columns, headers, delimiter, hidden, polling_interval):
    from ..futures import run_job

    futures = []
    for fid in file_ids:
        job = call(client, "files", "post_preprocess_csv", file_id=fid, in_place=False,
                   detect_table_columns=need_columns, force_character_set_conversion=True,
                   hidden=hidden, **_given(include_header=headers, column_delimiter=delimiter))
        futures.append(run_job(job["id"], client=client, polling_interval=polling_interval))
    files, missing = [], []
    for fut in futures:
        outputs = list(fut.outputs())
        if not outputs:
            missing.append(f"\tjob {fut.job_id} run {fut.run_id}")
            continue
        f = call(client, "files", "get", outputs[0]["object_id"])
        info = f.get("detected_info")
        info = info.json(snake_case=False) if hasattr(info, "json") else dict(info or {})
        files.append(_File(f["id"], f.get("name"), info))
    if missing:
        raise CivisImportError("No CSV preprocess output found for these runs:\n"
                               + "\n".join(missing))
    return files


def _agree(files, attr, wanted=None):
    values = [f.detected_info.get(attr) for f in files]
    if len(set(values)) > 1:
        detail = "\n".join(f"\t{v} from: file {f.id} ({f.name})" for v, f in zip(values, files))
        raise CivisImportError(f"All detected values for {attr!r} must be the same, "
                               f"however --\n{detail}")
    found = values[0]
    if attr == "compression" or wanted is None:
        return found
    if found != wanted:
        raise CivisImportError(f"All detected values for {attr!r} in your files are {found}, "
                               f"which doesn't match your provided value of {wanted}")
    return found


def _columns(files):
    per_file = [f.detected_info.get("tableColumns") or [] for f in files]
    if len({len(c) for c in per_file}) > 1:
        raise CivisImportError("All files must have the same number of columns")
    columns, loose = [], False
    for i, cols in enumerate(zip(*per_file), 1):
        name = next((c.get("name") for c in cols if c.get("name")), f"column_{i}")
        types = [c.get("sqlType") or c.get("sql_type") for c in cols]
        bases = {t.split("(", 1)[0].upper() for t in types}
        if len(bases) > 1:
            if "VARCHAR" not in bases:
                raise CivisImportError(f"All sql_types for column {name!r} must be the same: "
                                       f"{sorted(bases)}")
            sql_type, loose = "VARCHAR", True
        else:
            sql_type = types[0]
        columns.append({"name": name, "sql_type": sql_type})
    return columns, loose
