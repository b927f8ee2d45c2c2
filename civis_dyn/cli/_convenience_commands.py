"""Commands over :mod:`civis_dyn.conveniences`: ``<resource> find``, ``export`` and ``import``.

::

    civis-dyn projects find "Q3 planning" [--id-only] [--filter author=5]
    civis-dyn scripts export 42 etl.json --kind python3 [--wire-case]
    civis-dyn scripts import etl.json [--set name='"ETL copy"'] [--dry-run]

``find`` exits 1 when no object, or several, have the name (the candidates
are listed on stderr). ``import`` prints the created object (or, with
``--dry-run``, the fields it would send) on stdout and the fields it left out
on stderr, one line each.
"""

import json

import click

from .._resources import resource_class
from ._commands import OutputOptions
from ._output import write_result
from ._session import api_errors, session_of

__all__ = ["export_command", "find_command", "import_command"]

_KIND_HELP = "A sub-collection of the resource (python3 for scripts: post_python3, …)."


def _resource(ctx, resource):
    client = session_of(ctx).client
    return resource_class(client.meta.spec, resource)(client)


def _pairs(ctx, option, texts):
    """``KEY=VALUE`` texts to a dict; a usage error names a malformed one."""
    values = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{text!r} is not KEY=VALUE", ctx, param_hint=option)
        values[key.replace("-", "_")] = value
    return values


def _json_or_text(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def find_command(resource, spec):
    """Build ``find NAME`` for a resource with a ``list`` method."""

    @click.command("find", short_help="The one object with this exact name.")
    @click.argument("name")
    @click.option("--kind", default=None, help=_KIND_HELP)
    @click.option("--id-only", is_flag=True, help="Print only the id.")
    @click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
                  help="A query parameter of the list (repeatable), e.g. archived=all.")
    def find(name, kind, id_only, filters, **values):
        """Print the one object called NAME (a list item: use get for every field).

        Uses the list's server-side name filter when there is one. Exits 1
        when no object, or several, have that name, listing the candidates.
        """
        ctx = click.get_current_context()
        fmt, columns, raw, _ = OutputOptions.pop(values)
        query = {k: _filter_value(spec, resource, kind, k, v)
                 for k, v in _pairs(ctx, "--filter", filters).items()}
        with api_errors(ctx):
            found = _resource(ctx, resource).find_by_name(name, kind=kind, **query)
        if id_only:
            click.echo(found["id"])
            return
        write_result(found, fmt=fmt, columns=columns, raw=raw)

    find.params.extend(OutputOptions.make(paginated=False))
    return find


def _filter_value(spec, resource, kind, key, text):
    """Booleans from text for boolean query parameters; other values as given."""
    methods = spec.index.get(resource, {})
    list_name = f"list_{kind}" if kind and f"list_{kind}" in methods else "list"
    if list_name in methods:
        for param in spec.operation(resource, list_name).parameters:
            if param.name == key and param.type == "boolean":
                return text.strip().lower() in ("true", "1", "yes")
    return text


def export_command(resource, spec):
    """Build ``export ID PATH`` for a resource with a ``get`` method."""

    @click.command("export", short_help="Write an object's definition to a JSON file.")
    @click.argument("id", type=int)
    @click.argument("path", type=click.Path(dir_okay=True, writable=True))
    @click.option("--kind", default=None, help=_KIND_HELP)
    @click.option("--wire-case", is_flag=True,
                  help="Keep the API's camelCase keys (default: snake_case).")
    def export(id, path, kind, wire_case):  # noqa: A002 - the schema's name for it
        """Write the object ID's definition to PATH (a file, or a directory to write
        <resource>[-<kind>]-<id>.json in); print the file's path.

        The file is written whole or not at all. Import it again with import.
        """
        ctx = click.get_current_context()
        with api_errors(ctx):
            written = _resource(ctx, resource).export_definition(id, path, kind=kind,
                                                                 wire_case=wire_case)
        click.echo(str(written))

    return export


def import_command(resource, spec):
    """Build ``import PATH`` for a resource with a ``post`` method."""

    @click.command("import", short_help="Create an object from a definition file.")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--kind", default=None,
                  help=_KIND_HELP + " Default: the one recorded in the file.")
    @click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                  help="Set a field instead of the file's (repeatable); VALUE is JSON, "
                       "or text when it is not JSON.")
    @click.option("--dry-run", is_flag=True,
                  help="Create nothing: print the fields that would be sent.")
    def import_(path, kind, overrides, dry_run, **values):
        """Create an object from the definition file PATH, sending only the fields
        the resource's post accepts (nested fields too).

        Prints the created object (with --dry-run, the fields it would send);
        each field left out goes to stderr with the reason.
        """
        ctx = click.get_current_context()
        fmt, columns, raw, _ = OutputOptions.pop(values)
        fields = {k: _json_or_text(v) for k, v in _pairs(ctx, "--set", overrides).items()}
        with api_errors(ctx):
            try:
                result = _resource(ctx, resource).import_definition(path, kind=kind,
                                                                    dry_run=dry_run, **fields)
            except TypeError as exc:  # an unknown --set field
                raise click.UsageError(str(exc), ctx) from None
        for dropped in result.dropped:
            click.echo(f"dropped {dropped.field}: {dropped.reason}", err=True)
        write_result(result.fields if dry_run else result.response, fmt=fmt, columns=columns,
                     raw=raw)

    import_.params.extend(OutputOptions.make(paginated=False))
    return import_
