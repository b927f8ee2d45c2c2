"""Move data in and out of Civis: files, SQL results and tables.

The functions scripts use most from civis-python's ``civis.io``, with the same
names, signatures and results, built on the client's public surface
(``client.meta.call`` and the generated methods)::

    import civis_dyn.io

    file_id = civis_dyn.io.file_to_civis("data.csv")
    civis_dyn.io.civis_to_file(file_id, "copy.csv")
    rows = civis_dyn.io.read_civis_sql("select 1 as x", "my database")

Uploads and downloads stream in constant memory; files over 50 MiB on disk
are uploaded in parts (retried one by one); transfers log their progress on
the ``civis_dyn.io`` logger.  The DataFrame functions need pandas
(``pip install 'civis-dyn[pandas]'``), imported on use.
"""

from ._common import CivisImportError, EmptyResultError
from ._databases import query_civis, transfer_table
from ._files import (civis_to_file, dataframe_to_file, file_id_from_run_output, file_to_civis,
                     file_to_dataframe, file_to_json, json_to_file)
from ._tables import (civis_file_to_table, civis_to_csv, csv_to_civis, dataframe_to_civis,
                      export_to_civis_file, read_civis, read_civis_sql, split_schema_tablename)
from ._transfer import StorageError

__all__ = [
    "CivisImportError",
    "EmptyResultError",
    "StorageError",
    "civis_file_to_table",
    "civis_to_csv",
    "civis_to_file",
    "csv_to_civis",
    "dataframe_to_civis",
    "dataframe_to_file",
    "export_to_civis_file",
    "file_id_from_run_output",
    "file_to_civis",
    "file_to_dataframe",
    "file_to_json",
    "json_to_file",
    "query_civis",
    "read_civis",
    "read_civis_sql",
    "split_schema_tablename",
    "transfer_table",
]
