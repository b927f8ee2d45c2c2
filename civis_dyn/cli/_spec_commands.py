"""``civis-dyn spec show|refresh|path``: where the schema came from, refreshing it, its file."""

import datetime

import click

from ._commands import OutputOptions
from ._output import write_result
from ._session import ApiFailure, api_errors, session_of

__all__ = ["describe_spec", "spec_group"]


def describe_spec(client):
    """A plain dict describing the client's schema: source, location, age, hash, counts."""
    info = client.spec_info
    spec = client._spec
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
def refresh(**values):
    """Fetch the live schema from the API now and cache it (needs CIVIS_API_KEY)."""
    ctx = click.get_current_context()
    fmt, columns, _raw, _ = OutputOptions.pop(values)
    session = session_of(ctx)
    if session.spec_path:
        raise click.UsageError("--spec / CIVIS_DYN_SPEC names a local schema file; unset it to "
                               "refresh the live schema from the API", ctx)
    with api_errors(ctx):
        client = _refreshed_client()
    write_result(describe_spec(client), fmt=fmt, columns=columns)



def _refreshed_client():
    """Fetch the live schema (via ``civis_dyn.cache_api_spec`` when present) and return a client."""
    import civis_dyn

    try:
        cache_api_spec = civis_dyn.cache_api_spec
    except (AttributeError, ImportError):
        cache_api_spec = None
    if cache_api_spec is not None:
        cache_api_spec()
    return civis_dyn.APIClient(force_refresh_api_spec=cache_api_spec is None,
                               user_agent="civis-dyn-cli")
