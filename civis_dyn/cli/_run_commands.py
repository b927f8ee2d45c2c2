"""Commands about runs: ``jobs follow-log ID [RUN_ID]`` and ``<resource> run-and-wait ID``.

Both use :mod:`civis_dyn.futures` (``follow_logs`` and the ``run_and_wait``
convenience method it gives runnable resources); both exit 1 when the run
fails, so a cron job notices.
"""

import click

from .._errors import CivisJobFailure
from .._resources import resource_class
from ._commands import OutputOptions
from ._output import write_result
from ._session import ApiFailure, api_errors, session_of

__all__ = ["follow_log_command", "run_and_wait_command"]

_FAILED_STATES = frozenset({"failed", "cancelled"})


def _futures():
    try:
        from .. import futures
    except ImportError as exc:
        raise ApiFailure(f"this command needs civis_dyn.futures, which cannot be imported "
                         f"({exc})") from None
    return futures


def _log_line(entry, timestamps):
    if isinstance(entry, str):
        return entry
    get = entry.get if hasattr(entry, "get") else (lambda key: getattr(entry, key, None))
    message = get("message")
    if message is None:
        message = str(entry)
    if timestamps and get("created_at"):
        return f"{get('created_at')} {message}"
    return message


def follow_log_command(resource):
    """Build ``follow-log JOB_ID [RUN_ID]`` (for the ``jobs`` resource)."""

    @click.command("follow-log", short_help="Print a run's log as it is written.")
    @click.argument("job_id", type=int)
    @click.argument("run_id", type=int, required=False)
    @click.option("--timestamps", is_flag=True, help="Prefix each line with its time.")
    def follow_log(job_id, run_id, timestamps):
        """Print a run's log as it is written, until the run ends.

        RUN_ID defaults to the job's latest run. Exits 1 when the run failed.
        """
        ctx = click.get_current_context()
        futures = _futures()
        with api_errors(ctx):
            client = session_of(ctx).client
            jobs = resource_class(client._spec, resource)(client)
            if run_id is None:
                last_run = jobs.get(job_id).get("last_run")
                if not last_run or last_run.get("id") is None:
                    raise ApiFailure(f"job {job_id} has no runs yet")
                run_id = last_run["id"]
            for entry in futures.follow_logs(job_id, run_id, client=client):
                click.echo(_log_line(entry, timestamps))
            run = jobs.get_runs(job_id, run_id)
            state = run.get("state")
        if state in _FAILED_STATES:
            error = run.get("error") or state
            raise ApiFailure(f"job {job_id} run {run_id} {state}: {error}")

    return follow_log


def run_and_wait_command(resource):
    """Build ``run-and-wait ID`` for a runnable resource."""

    @click.command("run-and-wait", short_help="Start a run and wait for it to end.")
    @click.argument("id", type=int)
    def run_and_wait(id, **values):  # noqa: A002 - the schema's name for it
        """Start a run of the object ID and wait for it to end; print the final run.

        Exits 1 (with the run's error on stderr) when the run fails.
        """
        ctx = click.get_current_context()
        fmt, columns, raw, _ = OutputOptions.pop(values)
        _futures()
        with api_errors(ctx):
            client = session_of(ctx).client
            target = resource_class(client._spec, resource)(client)
            try:
                result = target.run_and_wait(id)
            except CivisJobFailure as exc:
                raise ApiFailure(str(exc)) from None
            write_result(result, fmt=fmt, columns=columns, raw=raw)

    run_and_wait.params.extend(OutputOptions.make(paginated=False))
    return run_and_wait
