"""``civis-dyn spec show|refresh|path|diff``: where the schema came from, refreshing it, its file.

``spec diff`` lives in :mod:`._stub_commands`.
"""

import datetime
import os

import click

from .._files import write_atomically

from ._commands import OutputOptions
from ._output import write_result
from ._session import ApiFailure, api_errors, session_of

__all__ = ["describe_spec", "spec_group"]


def describe_spec(client):
    """A plain dict describing the client's schema: source, location, age, hash, counts."""
    info = client.spec_info
    spec = client.meta.spec
    fetched = info.fetched_at
    return {
        "source": info.source,
        "location": info.location,
        "fetched_at": (datetime.datetime.fromtimestamp(fetched, datetime.timezone.utc)
                       .isoformat(timespec="seconds") if fetched is not None else None),
        "age_seconds": round(info.age) if info.age is not None else None,
        "sha256": info.sha256,
        "resources": len(spec.index),
        "operations": spec.count_operations(),
        "base_url": client.base_url,
    }


@click.group("spec")
def spec_group():
    """Where the schema came from, its age and hash; refresh it; print its path."""


def _with_output_options(command):
    """Give a command the --output, --columns and --raw options."""
    command.params.extend(OutputOptions.make(paginated=False))
    return command


@_with_output_options
@spec_group.command("show")
def show(**values):
    """Show the schema in use: source, location, age, sha256, counts."""
    fmt, columns, _raw, _ = OutputOptions.pop(values)
    client = session_of(click.get_current_context()).client
    write_result(describe_spec(client), fmt=fmt, columns=columns)



@spec_group.command("path")
def path():
    """Print the file (or URL) the schema was read from."""
    info = session_of(click.get_current_context()).client.spec_info
    if not info.location:
        raise ApiFailure(f"the schema in use ({info.source}) has no file or URL")
    click.echo(info.location)


@_with_output_options
@spec_group.command("refresh")
@click.option("--save", "save_path", type=click.Path(dir_okay=False, writable=True),
              default=None, metavar="PATH",
              help="Also write the schema to PATH, for use with --spec / CIVIS_DYN_SPEC.")
def refresh(save_path, **values):
    """Download the live schema now and update the caches (needs CIVIS_API_KEY).

    The schema comes from CIVIS_API_ENDPOINT's /endpoints; the memory and disk
    caches the client reads are replaced. Exits 1 when it cannot be downloaded.
    """
    ctx = click.get_current_context()
    fmt, columns, _raw, _ = OutputOptions.pop(values)
    session = session_of(ctx)
    if session.spec_path:
        raise click.UsageError("--spec / CIVIS_DYN_SPEC names a local schema file; unset it to "
                               "refresh the live schema from the API", ctx)
    if not os.environ.get("CIVIS_API_KEY"):
        raise ApiFailure("spec refresh downloads the live schema: set CIVIS_API_KEY")
    with api_errors(ctx):
        client = _refreshed_client(session, save_path)
    write_result(describe_spec(client), fmt=fmt, columns=columns)


def _refreshed_client(session, save_path):
    """Download the live schema (bypassing the caches) and return a client built from it."""
    from .._client import APIClient

    client = APIClient(force_refresh_api_spec=True, retries=session.retries,
                       user_agent="civis-dyn-cli")
    info = client.spec_info
    if info.source != "download":  # the client fell back on a cached or bundled schema
        raise ApiFailure(f"could not download the live schema; the client would use the "
                         f"{info.source} schema ({info.location})")
    if save_path is not None:
        try:
            write_atomically(save_path, client.meta.spec.raw)
        except OSError as exc:
            raise ApiFailure(f"cannot write {save_path}: {exc.strerror}") from None
        click.echo(f"Saved the schema to {save_path}", err=True)
    return client


from ._stub_commands import spec_diff_command  # noqa: E402

spec_group.add_command(spec_diff_command)
