"""One click group per API resource, one command per operation, built on demand.

:class:`ResourceGroup` lists its commands from the schema's index (no
operation is modelled for that) and builds an :class:`OperationCommand` only
when click asks for that one command. Help pages come from the schema's
summaries and descriptions; ``civis-dyn jobs --help`` reads only summaries.

Commands are the kebab-case method names (``list-runs``); the Python spelling
(``list_runs``) is accepted too. Deprecated aliases (``list-x`` where the
preferred name is ``get-x``) still work but are hidden from the listing.
"""

import click

from .._resources import resource_class, suggest
from ._output import FORMATS, default_format, parse_columns, write_result
from ._params import click_parameter, type_hint
from ._session import api_errors, session_of

__all__ = ["OperationCommand", "ResourceGroup", "command_name", "python_name"]

# Commands of our own offered on resources besides the API's operations:
# command name -> (module, factory(resource, spec), predicate(resource, method names)).
# The method names include the conveniences civis_dyn offers (``run_and_wait``).
_EXTRA_COMMANDS = {
    "follow-log": ("._run_commands", "follow_log_command",
                   lambda resource, methods: resource == "jobs" and "list_runs_logs" in methods),
    "run-and-wait": ("._run_commands", "run_and_wait_command",
                     lambda resource, methods: "run_and_wait" in methods),
    "find": ("._convenience_commands", "find_command",
             lambda resource, methods: "find_by_name" in methods),
    "export": ("._convenience_commands", "export_command",
               lambda resource, methods: "export_definition" in methods),
    "import": ("._convenience_commands", "import_command",
               lambda resource, methods: "import_definition" in methods),
    "upload": ("._io_commands", "upload_command",
               lambda resource, methods: "upload" in methods),
    "download": ("._io_commands", "download_command",
                 lambda resource, methods: "download" in methods),
}


def command_name(name):
    """``list_runs`` -> ``list-runs``."""
    return name.replace("_", "-")


def python_name(name):
    """``list-runs`` -> ``list_runs`` (a Python spelling stays as it is)."""
    return name.replace("-", "_")


class OutputOptions:
    """The ``--output``, ``--columns``, ``--raw`` (and ``--all``) options every API command has."""

    NAMES = ("cli_output", "cli_columns", "cli_raw", "cli_all")

    @staticmethod
    def make(paginated, taken=()):
        """Return the click options, leaving out any flag an API parameter already uses."""
        options = [
            click.Option(["--output", "-o", "cli_output"], type=click.Choice(FORMATS),
                         default=None, help="Output format (default: json when standard "
                         "output is not a terminal, else table; or $CIVIS_DYN_OUTPUT)."),
            click.Option(["--columns", "cli_columns"], metavar="A,B.C", default=None,
                         help="Only these fields (dotted names reach into nested objects)."),
            click.Option(["--raw", "cli_raw"], is_flag=True, default=False,
                         help="Print the API's JSON keys as sent (camelCase)."),
        ]
        if paginated:
            options.append(click.Option(["--all", "cli_all"], is_flag=True, default=False,
                                        help="Fetch every page (--limit sets the page size)."))
        return [o for o in options if not set(o.opts) & set(taken)]

    @staticmethod
    def pop(values):
        """Remove the output options from a command's values: ``(format, columns, raw, all)``."""
        fmt, columns, raw, fetch_all = (values.pop(n, None) for n in OutputOptions.NAMES)
        return fmt or default_format(), parse_columns(columns), bool(raw), bool(fetch_all)


class OperationCommand(click.Command):
    """The command for one API operation.

    Parameters
    ----------
    operation : civis_dyn.spec._model.Operation
    """

    def __init__(self, operation):
        self.operation = operation
        spec = operation.spec
        params = [click_parameter(p, spec) for p in operation.parameters]
        taken = {opt for p in params for opt in p.opts}
        params.extend(OutputOptions.make(operation.paginated, taken))
        name = command_name(operation.name)
        super().__init__(name, params=params, callback=self._call, help=self._help_text(),
                         short_help=_short_help(operation), hidden=bool(operation.alias_of),
                         no_args_is_help=bool(self._required()))

    def _required(self):
        return [p for p in self.operation.parameters if p.required]

    def _help_text(self):
        op = self.operation
        parts = []
        if op.alias_of:
            parts.append(f"Deprecated: use '{command_name(op.alias_of)}'.")
        elif op.deprecation:
            parts.append(f"Deprecated: {op.deprecation}")
        summary = op.summary.rstrip(".")
        if summary:
            parts.append(summary + ".")
        if op.description and op.description.rstrip(".") != summary:
            parts.append(op.description)
        parts.append(f"\b\n{op.verb.upper()} {op.path}")
        return "\n\n".join(parts)

    def format_options(self, ctx, formatter):
        """Write an Arguments section (from the schema's docs) before the options."""
        required = self._required()
        if required:
            spec = self.operation.spec
            rows = []
            for param in required:
                description = " ".join(param.description.split())
                hint = type_hint(param, spec)
                rows.append((param.name.upper(), f"{description} [{hint}]" if description
                             else f"[{hint}]"))
            with formatter.section("Arguments"):
                formatter.write_dl(rows)
        super().format_options(ctx, formatter)

    def _call(self, **values):
        ctx = click.get_current_context()
        op = self.operation
        fmt, columns, raw, fetch_all = OutputOptions.pop(values)
        positional = [values.pop(p.name) for p in self._required()]
        keywords = {k: v for k, v in values.items() if v is not None}
        if fetch_all:
            keywords["iterator"] = True
        session = session_of(ctx)
        with api_errors(ctx):
            client = session.client
            resource = resource_class(client.meta.spec, op.resource)(client)
            result = getattr(resource, op.name)(*positional, **keywords)
            if _is_empty_answer(op, result):
                return
            write_result(result, fmt=fmt, columns=columns, raw=raw)


def _is_empty_answer(op, result):
    """True for a bodiless success (e.g. 204 after a delete): nothing to print."""
    from .._response import Response

    return op.response[2] is None and isinstance(result, Response) and len(result) == 0


def _short_help(op):
    text = op.summary or f"{op.verb.upper()} {op.path}"
    if op.deprecation and not op.alias_of and "deprecated" not in text.lower():
        text += " (deprecated)"
    return text


def fail_unknown_command(group, ctx, args, candidates, where=""):
    """Fail with a usage error (exit 2) and close names when ``args[0]`` is no command.

    ``candidates`` is called only then, so listing commands costs nothing on success.
    """
    name = args[0] if args else ""
    if (args and not name.startswith("-") and not ctx.resilient_parsing
            and group.get_command(ctx, name) is None):
        ctx.fail(f"No such command '{name}'{where}."
                 f"{suggest(command_name(name), candidates())}")


class ResourceGroup(click.Group):
    """The commands of one API resource, each built only when asked for.

    Parameters
    ----------
    resource : str
        The resource's Python name (``git_repos``).
    """

    def __init__(self, resource, **kwargs):
        self.resource = resource
        kwargs.setdefault("help", f"Operations on the API's {resource} resource "
                                  f"(built from the schema).")
        super().__init__(command_name(resource), **kwargs)
        self._built = {}

    def _methods(self, ctx):
        return session_of(ctx).spec.index.get(self.resource, {})

    def _method_names(self, ctx):
        """API method names plus the resource's extensions (``run_and_wait``)."""
        spec = session_of(ctx).spec
        return set(resource_class(spec, self.resource).method_names())

    def _extras(self, ctx):
        names = self._method_names(ctx)
        return [name for name, (_, _, applies) in _EXTRA_COMMANDS.items()
                if applies(self.resource, names)]

    def list_commands(self, ctx):
        return sorted({*map(command_name, self._methods(ctx)), *self._extras(ctx)})

    def get_command(self, ctx, cmd_name):
        name = command_name(cmd_name)
        command = self._built.get(name)
        if command is not None:
            return command
        methods = self._methods(ctx)
        method = python_name(name)
        if method in methods:
            with api_errors(ctx):
                command = OperationCommand(session_of(ctx).spec.operation(self.resource, method))
        elif name in _EXTRA_COMMANDS and name in self._extras(ctx):
            import importlib

            module, attr, _ = _EXTRA_COMMANDS[name]
            factory = getattr(importlib.import_module(module, __package__), attr)
            command = factory(self.resource, session_of(ctx).spec)
        else:
            return None
        self._built[name] = command
        return command

    def resolve_command(self, ctx, args):
        fail_unknown_command(self, ctx, args, lambda: self._visible(ctx),
                             f" for {command_name(self.resource)}")
        return super().resolve_command(ctx, args)

    def _visible(self, ctx):
        methods = self._methods(ctx)
        return [n for n in self.list_commands(ctx)
                if python_name(n) not in methods or not methods[python_name(n)][2]]

    def _summary(self, ctx, name):
        """Short help without building the command: the operation's summary."""
        methods = self._methods(ctx)
        method = python_name(name)
        if method in methods:
            with api_errors(ctx):
                return _short_help(session_of(ctx).spec.operation(self.resource, method))
        return self.get_command(ctx, name).get_short_help_str()

    def format_commands(self, ctx, formatter):
        """List the visible commands with their summaries (no command is built)."""
        rows = [(name, self._summary(ctx, name)) for name in self._visible(ctx)]
        if rows:
            limit = formatter.width - 6 - max(len(n) for n, _ in rows)
            rows = [(n, _clip(text, limit)) for n, text in rows]
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def shell_complete(self, ctx, incomplete):
        """Complete command names from the index (no command is built)."""
        from click.shell_completion import CompletionItem

        items = [CompletionItem(name) for name in self._visible(ctx) if name.startswith(incomplete)]
        return items + click.Command.shell_complete(self, ctx, incomplete)


def _clip(text, limit):
    text = " ".join(text.split())
    limit = max(limit, 20)
    return text if len(text) <= limit else text[:limit - 1] + "…"
