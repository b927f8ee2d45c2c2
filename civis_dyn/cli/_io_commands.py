"""Commands over :mod:`civis_dyn.io`: ``files upload``, ``files download`` and ``sql``.

::

    civis-dyn files upload data.csv [--name NAME]      # prints the new file's id
    civis-dyn files download 42 copy.csv               # '-' writes to standard output
    civis-dyn sql "select * from scratch.people" --database "my database"

``sql`` prints CSV when standard output is not a terminal, a table on one
(``-o`` chooses: csv, json, yaml, table).
"""

import csv
import sys

import click

from ._output import FORMATS, default_format, write_result
from ._session import api_errors, session_of

__all__ = ["download_command", "sql_command", "upload_command"]


def upload_command(resource, spec):
    """Build ``files upload PATH``."""

    @click.command("upload", short_help="Upload a local file; print its id.")
    @click.argument("path", type=click.Path(dir_okay=False))
    @click.option("--name", default=None, help="The file's name (default: PATH's base name).")
    def upload(path, name):
        """Upload the file at PATH (streamed; in parts above 50 MiB) and print its id."""
        ctx = click.get_current_context()
        from ..io import file_to_civis

        with api_errors(ctx):
            try:
                file_id = file_to_civis(path, name=name, client=session_of(ctx).client)
            except OSError as e:
                raise click.ClickException(str(e)) from None
        click.echo(file_id)

    return upload


def download_command(resource, spec):
    """Build ``files download ID PATH``."""

    @click.command("download", short_help="Download a file to PATH ('-': standard output).")
    @click.argument("file_id", metavar="ID", type=int)
    @click.argument("path")
    def download(file_id, path):
        """Write the bytes of file ID to PATH (streamed)."""
        ctx = click.get_current_context()
        from ..io import EmptyResultError, civis_to_file

        with api_errors(ctx):
            try:
                target = sys.stdout.buffer if path == "-" else path
                civis_to_file(file_id, target, client=session_of(ctx).client)
            except (OSError, EmptyResultError) as e:
                raise click.ClickException(str(e)) from None

    return download


@click.command("sql")
@click.argument("query")
@click.option("--database", "-d", required=True, metavar="NAME",
              help="The database's name or id.")
@click.option("--output", "-o", "fmt", type=click.Choice(("csv",) + FORMATS), default=None,
              help="csv (default when piped), table (default on a terminal), json or yaml.")
def sql_command(query, database, fmt):
    """Run QUERY on a database and print its result."""
    ctx = click.get_current_context()
    from ..io import EmptyResultError, read_civis_sql

    db = int(database) if database.isdigit() else database
    with api_errors(ctx):
        try:
            rows = read_civis_sql(query, db, client=session_of(ctx).client)
        except EmptyResultError:
            rows = []
        except ValueError as e:
            raise click.UsageError(str(e), ctx) from None
    if fmt is None:
        fmt = "table" if default_format() == "table" else "csv"
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerows(rows)
        return
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    write_result([dict(zip(header, r)) for r in body], fmt=fmt)
