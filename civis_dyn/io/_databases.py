"""Queries and table transfers between databases."""

from __future__ import annotations

import logging

from ._common import (call, client_or_default, database_id, default_credential_id, future,
                      random_name)

__all__ = ["query_civis", "transfer_table"]

log = logging.getLogger("civis_dyn.io")


def query_civis(sql, database, client=None, credential_id=None, preview_rows=10,
                polling_interval=None, hidden=True):
    """Run ``sql`` as a Civis query; return its CivisFuture.

    ``future.result()`` is the query: ``result_columns`` and ``result_rows``
    (at most ``preview_rows``, up to 1000) of its last statement.  A failed
    query raises :class:`~civis_dyn.CivisJobFailure` with its error text.
    """
    client = client_or_default(client)
    db_id = database_id(client, database, "query_civis()")
    cred_id = credential_id or default_credential_id(client)
    query = call(client, "queries", "post", db_id, sql, preview_rows, credential=cred_id,
                 hidden=hidden)
    return future(client, "get", "queries", (query["id"],), polling_interval)


def transfer_table(source_db, dest_db, source_table, dest_table, job_name=None, client=None,
                   source_credential_id=None, dest_credential_id=None, polling_interval=None,
                   **advanced_options):
    """Copy ``source_table`` of ``source_db`` to ``dest_table`` of ``dest_db``; return the future.

    Extra keyword arguments are the sync's ``advanced_options`` (e.g.
    ``existing_table_rows="drop"``).
    """
    label = "transfer_table()"
    client = client_or_default(client)
    source = {"remote_host_id": database_id(client, source_db, label),
              "credential_id": source_credential_id or default_credential_id(client)}
    destination = {"remote_host_id": database_id(client, dest_db, label),
                   "credential_id": dest_credential_id or default_credential_id(client)}
    job = call(client, "imports", "post", random_name(job_name), "Dbsync", True,
               source=source, destination=destination)
    call(client, "imports", "post_syncs", job["id"], source={"path": source_table},
         destination={"path": dest_table}, advanced_options=advanced_options)
    run = call(client, "imports", "post_runs", job["id"])
    log.debug("Started run %d of sync for import %d", run["run_id"], job["id"])
    return future(client, "get_files_runs", "imports", (job["id"], run["run_id"]),
                  polling_interval)
