"""Commands about runs: ``jobs follow-log ID [RUN_ID]`` and ``<resource> run-and-wait ID``.

Both use :mod:`civis_dyn.futures` (``follow_logs``, and the ``run_and_wait``
method it offers on every resource that can start and poll runs); both exit 1
when the run fails or is cancelled, so a cron job notices.

Every Civis run belongs to a job, so ``civis-dyn jobs follow-log ID`` follows
the runs of scripts, imports and the like too (their IDs are job IDs).
"""

import concurrent.futures

import click

from .._resources import resource_class
from ..spec._runs import SUCCEEDED, jobs_run_kind, run_kinds
from ._commands import OutputOptions
from ._output import write_result
from ._session import ApiFailure, api_errors, session_of

__all__ = ["follow_log_command", "run_and_wait_command"]


def _futures():
    try:
        from .. import futures
    except ImportError as exc:  # pragma: no cover - futures ships with the package
        raise ApiFailure(f"this command needs civis_dyn.futures, which cannot be imported "
                         f"({exc})") from None
    return futures


def _log_line(entry, timestamps):
    message = entry.get("message")
    if message is None:
        message = ""
    if timestamps and entry.get("created_at"):
        return f"{entry.get('created_at')} {message}"
    return message


def follow_log_command(resource, spec=None):
    """Build ``follow-log JOB_ID [RUN_ID]`` (for the ``jobs`` resource)."""

    @click.command("follow-log", short_help="Print a run's log as it is written.")
    @click.argument("job_id", type=click.IntRange(min=1))
    @click.argument("run_id", type=click.IntRange(min=1), required=False)
    @click.option("--timestamps", is_flag=True, help="Prefix each line with its time.")
    @click.option("--polling-interval", type=click.FloatRange(min=0, min_open=True),
                  default=None, metavar="SECONDS",
                  help="Seconds between reads (default: 1 s, growing up to 15 s while quiet).")
    def follow_log(job_id, run_id, timestamps, polling_interval):
        """Print a run's log as it is written, until the run ends.

        RUN_ID defaults to the job's latest run. Script, import and other run
        IDs work too: every Civis run belongs to a job. Exits 1 when the run
        failed or was cancelled.
        """
        ctx = click.get_current_context()
        futures = _futures()
        with api_errors(ctx):
            client = session_of(ctx).client
            kind = jobs_run_kind(client.meta.spec)
            if run_id is None:
                run_id = futures.latest_run_id(job_id, client=client)
            entries = futures.follow_logs(job_id, run_id, client=client,
                                          polling_interval=polling_interval)
            for entry in entries:
                click.echo(_log_line(entry, timestamps))
            run = client.meta.call(kind.get.resource, kind.get.method, job_id, run_id)
        state = run.get("state")
        outcome = kind.states.outcome(state)
        if outcome is not None and outcome != SUCCEEDED:
            raise ApiFailure(f"job {job_id} run {run_id} {state}: {run.get('error') or state}")

    return follow_log


def _run_kinds(spec, resource):
    """Kinds of runs the resource can start (``containers``, ``python3``…); None: a plain one."""
    return sorted((k for k, e in run_kinds(spec, resource).items() if e.has("start", "get")),
                  key=lambda k: (k is not None, k or ""))


def run_and_wait_command(resource, spec):
    """Build ``run-and-wait ID`` for a runnable resource.

    Parameters
    ----------
    resource : str
    spec : civis_dyn.spec._model.ApiSpec
        Tells which kinds of runs the resource has (``--kind``).
    """
    kinds = _run_kinds(spec, resource)
    named = [k.replace("_", "-") for k in kinds if k is not None]
    needs_kind = bool(named) and None not in kinds and len(named) > 1

    def run_and_wait(id, timeout, polling_interval, quiet, kind=None, **values):  # noqa: A002
        ctx = click.get_current_context()
        fmt, columns, raw, _ = OutputOptions.pop(values)
        _futures()

        def report(run):
            if not quiet:
                click.echo(f"run {run.get('id')}: {run.get('state')}", err=True)

        with api_errors(ctx):
            client = session_of(ctx).client
            target = resource_class(client.meta.spec, resource)(client)
            try:
                final = target.run_and_wait(id, kind=kind, timeout=timeout, callback=report,
                                            polling_interval=polling_interval)
            except concurrent.futures.CancelledError as exc:
                raise ApiFailure(str(exc) or "the run was cancelled") from None
            except TypeError as exc:  # e.g. "needs kind=" when the schema changed under us
                raise click.UsageError(str(exc), ctx) from None
            write_result(final, fmt=fmt, columns=columns, raw=raw)

    params = [
        click.Argument(["id"], type=click.IntRange(min=1), metavar="ID"),
        click.Option(["--timeout"], type=click.FloatRange(min=0, min_open=True), default=None,
                     metavar="SECONDS", help="Give up waiting after this long (exit 1); "
                     "the run goes on."),
        click.Option(["--polling-interval"], type=click.FloatRange(min=0, min_open=True),
                     default=None, metavar="SECONDS",
                     help="Seconds between polls (default: 1 s, growing up to 15 s)."),
        click.Option(["--quiet", "-q"], is_flag=True, help="Do not report state changes "
                     "on stderr."),
        *OutputOptions.make(paginated=False),
    ]
    if named:
        # no explicit default: click >= 8.3 treats default=None as a given value
        params.insert(1, click.Option(["--kind"], type=click.Choice(named),
                                      required=needs_kind, help="Which kind of run to start."))
    return click.Command(
        "run-and-wait", params=params, callback=run_and_wait,
        short_help="Start a run and wait for it to end.",
        help=f"Start a run of the {resource} object ID and wait for it to end; print the "
             f"final run.\n\nState changes are reported on stderr. Exits 1 (with the run's "
             f"error and last log lines on stderr) when the run fails, is cancelled or "
             f"--timeout passes.")
