"""Civis Files: upload, download, JSON, DataFrames and run outputs."""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor

from .._errors import CivisAPIError
from . import _transfer
from ._common import EmptyResultError, TypePathLike, call, client_or_default, pandas

__all__ = ["civis_to_file", "dataframe_to_file", "file_id_from_run_output", "file_to_civis",
           "file_to_dataframe", "file_to_json", "json_to_file"]

log = logging.getLogger("civis_dyn.io")

#: Files larger than this are uploaded in parts (civis-python's threshold).
MIN_MULTIPART_SIZE = 50 * 2 ** 20
MIN_PART_SIZE = 5 * 2 ** 20
MAX_FILE_SIZE = 5 * 2 ** 40
#: Parts uploaded at once.
MAX_THREADS = 4


def _open_source(buf, label):
    path = os.fspath(buf)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{label}: {path!r} is a directory, not a file")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{label}: no such file: {path!r}")
    return open(path, "rb")


def file_to_civis(buf, name=None, expires_at="DEFAULT", description=None, client=None):
    """Upload a file to Civis; return the new file's id.

    Parameters
    ----------
    buf : file-like object or path-like object
        A binary buffer or the path of a local file.  Uploads stream: memory
        stays constant whatever the size.  Files over 50 MiB that are on
        disk go up in parts, several at once, each retried on failure.
    name : str, optional
        The file's name; default: the path's base name or ``buf.name``.
    expires_at : str or None, optional
        ISO 8601 expiry; default 30 days; None keeps the file forever.
    description : str, optional
        At most 512 characters.
    client : APIClient, optional

    Returns
    -------
    int

    Raises
    ------
    TypeError
        When ``name`` is not given and cannot be inferred.
    ValueError
        When ``description`` is over 512 characters.
    FileNotFoundError, IsADirectoryError
        When ``buf`` is a path to nothing, or to a directory.
    StorageError
        When the upload URL refuses the bytes (e.g. it expired).
    """
    label = "file_to_civis()"
    if isinstance(buf, TypePathLike):
        if name is None:
            name = os.path.basename(os.fsdecode(os.fspath(buf)))
        with _open_source(buf, label) as f:
            return _file_to_civis(f, name, expires_at, description, client)
    if name is None:
        name = getattr(buf, "name", None)
        if not isinstance(name, str):
            raise TypeError(f"{label} needs a 'name': it cannot be inferred from {buf!r}")
        name = os.path.basename(name)
    if isinstance(buf, io.TextIOBase):
        buf = getattr(buf, "buffer", None) or io.BytesIO(buf.read().encode())
    return _file_to_civis(buf, name, expires_at, description, client)


def _file_to_civis(buf, name, expires_at, description, client):
    client = client_or_default(client)
    kwargs = {}
    if expires_at != "DEFAULT":
        kwargs["expires_at"] = expires_at
    if description:
        if len(description) > 512:
            raise ValueError("file_to_civis(): the description is longer than 512 characters "
                             f"({len(description)})")
        kwargs["description"] = description
    size = _transfer.file_size(buf)
    if size == 0:
        log.warning("file_to_civis(): the file %r is empty", name)
    path = getattr(buf, "name", None)
    on_disk = isinstance(path, str) and os.path.isfile(path) and size is not None
    if size is not None and size > MAX_FILE_SIZE:
        raise ValueError("file_to_civis(): the file is larger than 5 TiB")
    if on_disk and size > MIN_MULTIPART_SIZE:
        return _multipart_upload(path, buf.tell(), size, name, client, kwargs)
    created = call(client, "files", "post", name, **kwargs)
    fields = dict(created["upload_fields"].json(snake_case=False)
                  if hasattr(created["upload_fields"], "json") else created["upload_fields"])
    if size is None:
        with tempfile.TemporaryFile() as spool:
            _transfer.upload_form_unsized(created["upload_url"], fields, buf, name, spool)
    else:
        _transfer.upload_form(created["upload_url"], fields, buf, size, name)
    log.debug("Uploaded file %s (%s)", created["id"], name)
    return created["id"]


def _multipart_upload(path, offset, size, name, client, kwargs):
    part_size = max(int(math.sqrt(MIN_PART_SIZE) * math.sqrt(size)), MIN_PART_SIZE)
    num_parts = math.ceil(size / part_size)
    created = call(client, "files", "post_multipart", name=name, num_parts=num_parts, **kwargs)
    urls = list(created["upload_urls"])
    if len(urls) != num_parts:
        raise ValueError(f"file_to_civis(): asked for {num_parts} upload URLs, got {len(urls)}")
    progress = _transfer.TransferProgress(f"Upload of {name}", size)

    def one(i):
        start = i * part_size
        _transfer.put_part(urls[i], path, offset + start, min(part_size, size - start),
                           f"Upload of part {i + 1} of {num_parts} of {name} "
                           f"(file {created['id']})", progress)

    with ThreadPoolExecutor(max_workers=MAX_THREADS) as pool, progress.bar:
        list(pool.map(one, range(num_parts)))
    call(client, "files", "post_multipart_complete", created["id"])
    return created["id"]


def civis_to_file(file_id, buf, client=None):
    """Download file ``file_id`` into ``buf`` (a binary buffer or a path); stream.

    Raises
    ------
    EmptyResultError
        When the file has no contents to download (never uploaded, or expired).
    """
    if isinstance(buf, TypePathLike):
        with open(buf, "wb") as f:
            _civis_to_file(file_id, f, client)
    else:
        _civis_to_file(file_id, buf, client)
        buf.flush()


def _file_url(client, file_id):
    info = call(client, "files", "get", file_id)
    url = info.get("file_url")
    if not url:
        raise EmptyResultError(f"Unable to locate file {file_id}. If it previously existed, "
                               "it may have expired.")
    return info, url


def _civis_to_file(file_id, buf, client):
    client = client_or_default(client)
    info, url = _file_url(client, file_id)
    _transfer.download(url, buf, f"Download of file {file_id} ({info.get('name')})")


def json_to_file(obj, name="file.json", expires_at="DEFAULT", description=None, client=None,
                 **json_kwargs):
    """Store a JSON-serializable object as a Civis file; return its id."""
    data = json.dumps(obj, **json_kwargs).encode("utf-8")
    return file_to_civis(io.BytesIO(data), name=name, expires_at=expires_at,
                         description=description, client=client)


def file_to_json(file_id, client=None, **json_kwargs):
    """The object stored as JSON in file ``file_id``."""
    buf = io.BytesIO()
    civis_to_file(file_id, buf, client=client)
    return json.loads(buf.getvalue().decode("utf-8"), **json_kwargs)


def file_id_from_run_output(name, job_id, run_id, regex=False, client=None):
    """The id of the File output called ``name`` of run ``run_id`` of job ``job_id``.

    Raises
    ------
    IOError
        When the job or run does not exist.
    FileNotFoundError
        When no File output has that name (or matches the pattern).
    """
    client = client_or_default(client)
    try:
        outputs = list(call(client, "jobs", "list_runs_outputs", job_id, run_id))
    except CivisAPIError as e:
        if e.status_code == 404:
            raise OSError(f"Could not find job/run ID {job_id}/{run_id}") from e
        raise
    files = [o for o in outputs if o.get("object_type") == "File"]
    if regex:
        hits = [o for o in files if re.search(name, o.get("name") or "")]
        if len(hits) > 1:
            log.warning('Found %s matches to "%s". Returning the first.', len(hits), name)
    else:
        hits = [o for o in files if o.get("name") == name]
    if not hits:
        prefix = "A file containing the pattern" if regex else "File"
        raise FileNotFoundError(f'{prefix} "{name}" is not an output of job/run ID '
                                f"{job_id}/{run_id}.")
    return hits[0]["object_id"]


def file_to_dataframe(file_id, return_as="pandas", compression="infer", client=None,
                      **read_kwargs):
    """A pandas DataFrame of the CSV in file ``file_id`` (pandas needed)."""
    if return_as != "pandas":
        raise ValueError(f"file_to_dataframe(): unsupported return_as {return_as!r} "
                         "(civis_dyn supports 'pandas')")
    pd = pandas("file_to_dataframe()")
    client = client_or_default(client)
    info, url = _file_url(client, file_id)
    if compression == "infer":
        ext = os.path.splitext(info.get("name") or "")[-1]
        compression = {".gz": "gzip", ".xz": "xz", ".bz2": "bz2", ".zip": "zip"}.get(ext)
    with tempfile.TemporaryFile() as tmp:
        _transfer.download(url, tmp, f"Download of file {file_id}")
        tmp.seek(0)
        return pd.read_csv(tmp, compression=compression, **read_kwargs)


def dataframe_to_file(df, name="data.csv", expires_at="DEFAULT", description=None,
                      client=None, **to_csv_kws):
    """Store a pandas DataFrame as a CSV file; return its id."""
    pandas("dataframe_to_file()")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, name)
        df.to_csv(path, **to_csv_kws)
        return file_to_civis(path, name=name, expires_at=expires_at, description=description,
                             client=client)


# -- methods offered on client.files (registered in civis_dyn/__init__.py) -----------------
def upload(resource, path_or_buffer, name=None, *, expires_at="DEFAULT", description=None):
    """``client.files.upload(path_or_buffer, name=None)``: upload; return the new file's id.

    See :func:`civis_dyn.io.file_to_civis`.
    """
    from .._resources import client_of

    return file_to_civis(path_or_buffer, name=name, expires_at=expires_at,
                         description=description, client=client_of(resource))


def download(resource, id, path_or_buffer):
    """``client.files.download(id, path_or_buffer)``: write file ``id``'s bytes there.

    See :func:`civis_dyn.io.civis_to_file`.
    """
    from .._resources import client_of

    civis_to_file(id, path_or_buffer, client=client_of(resource))
