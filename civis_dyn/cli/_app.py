"""The root ``civis-dyn`` group: API resources from the schema's index, plus our own commands.

Nothing is built before click asks for it: ``civis-dyn --help`` lists the
resources from the index without building any of their groups, and
``civis-dyn jobs list --help`` builds the ``jobs`` group and its ``list``
command only.
"""

import importlib

import click

from .._version import __version__
from ._commands import ResourceGroup, command_name, fail_unknown_command, python_name
from ._session import SPEC_ENV, session_of

__all__ = ["CivisDynCLI", "cli"]

# Commands of our own, imported when used: name -> (module, attribute).
# They take precedence over an API resource of the same name.
OWN_COMMANDS = {
    "demo": ("._local_commands", "demo_command"),
    "serve": ("._local_commands", "serve_command"),
    "spec": ("._spec_commands", "spec_group"),
    "sql": ("._io_commands", "sql_command"),
    "stubs": ("._stub_commands", "stubs_command"),
}
_OWN_HELP = {
    "demo": "A short tour of the client against an in-process local API.",
    "serve": "Serve a local fake Civis API built from the schema.",
    "spec": "Where the schema came from; refresh it; its path; diff two schemas.",
    "sql": "Run SQL on a database; print the result (CSV when piped).",
    "stubs": "Generate typed stubs (.pyi) for IDEs and mypy from the schema in use.",
}


class CivisDynCLI(click.Group):
    """The root group; resource groups are made on demand and kept for the run.

    The groups live in the run's :class:`~._session.CliSession` (not on this
    object), so that runs with different schemas in one process never mix.
    """

    def _resources(self, ctx):
        return session_of(ctx).spec.index

    def list_commands(self, ctx):
        try:
            resources = self._resources(ctx)
        except click.ClickException:
            if not ctx.resilient_parsing:  # completion: offer our own commands still
                raise
            resources = {}
        return sorted({*OWN_COMMANDS, *map(command_name, resources)})

    def get_command(self, ctx, cmd_name):
        name = command_name(cmd_name)
        if name in OWN_COMMANDS:
            module, attr = OWN_COMMANDS[name]
            return getattr(importlib.import_module(module, __package__), attr)
        resource = python_name(name)
        if resource not in self._resources(ctx):
            return None
        groups = session_of(ctx).resource_groups
        group = groups.get(resource)
        if group is None:
            group = groups[resource] = ResourceGroup(resource)
        return group

    def resolve_command(self, ctx, args):
        fail_unknown_command(self, ctx, args, lambda: self.list_commands(ctx))
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx, formatter):
        """List our commands and the resources, reading only the index."""
        own = [(name, _OWN_HELP[name]) for name in sorted(OWN_COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(own)
        try:
            index = self._resources(ctx)
        except click.ClickException as exc:  # still show the rest of the help
            with formatter.section("API resources"):
                formatter.write_text(f"(the API schema could not be loaded: {exc.message})")
            return
        resources = []
        for resource in sorted(index):
            methods = [m for m, entry in index[resource].items() if not entry[2]]
            count = len(methods)
            resources.append((command_name(resource), f"{count} command{'s' * (count != 1)}"))
        with formatter.section("API resources"):
            formatter.write_dl(resources)

    def shell_complete(self, ctx, incomplete):
        """Complete names from the index (no resource group is built)."""
        from click.shell_completion import CompletionItem

        names = [n for n in self.list_commands(ctx) if n.startswith(incomplete)]
        return [CompletionItem(n) for n in names] + click.Command.shell_complete(self, ctx, incomplete)


HELP = f"""Call the Civis API from the shell; commands come from the API's schema.

\b
  civis-dyn jobs list --state running --output table
  civis-dyn jobs list-runs 42 --limit 5 --all
  civis-dyn scripts post-containers '{{"cpu": 1024, "memory": 2048}}' --name x \\
      --docker-image-name y
  civis-dyn scripts patch-containers 7 --params @params.yaml

\b
Authentication and endpoint as for civis_dyn.APIClient():
  CIVIS_API_KEY        the API key (never printed)
  CIVIS_API_ENDPOINT   the API's URL (default https://api.civisanalytics.com/)
  --spec PATH or {SPEC_ENV}   build from a local schema file instead

Required parameters are positional, optional ones --options. Arrays and
objects are given as JSON text, @file.json, @file.yaml or @- (standard input).

\b
Output: --output json|yaml|table, --columns id,name, --all (every page), --raw.
Exit status: 0 success, 1 API or connection error (message on stderr), 2 usage error.
Shell completion (bash; zsh_source for zsh, fish_source for fish):
  eval "$(_CIVIS_DYN_COMPLETE=bash_source civis-dyn)"
"""


@click.group(cls=CivisDynCLI, help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--spec", "spec_path", envvar=SPEC_ENV, is_eager=True, metavar="PATH",
              type=click.Path(exists=True, dir_okay=False),
              help=f"A local schema file to build from (env {SPEC_ENV}).")
@click.option("--retries", type=click.IntRange(0, 100), default=None, metavar="N",
              help="Retry a failed request at most N times (default: the client's policy, "
                   "up to 9 retries with backoff).")
@click.version_option(__version__, "--version", prog_name="civis-dyn")
def cli(spec_path, retries):
    """The root group's callback: nothing to do, the session is made on first use."""
