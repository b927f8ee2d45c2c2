"""The steps of runs that both run futures share: start, wait, cancel, logs, checks.

Written as generators of effects (:mod:`civis_dyn._effects`), so that
:class:`~civis_dyn.CivisFuture` and the blocking helpers of
:mod:`civis_dyn.futures` run them in their thread while
:class:`~civis_dyn.AsyncRunFuture` and :mod:`civis_dyn._async_runs` await
them; the argument checks name the method and the parameter for both.
"""

import concurrent.futures
import logging
import time

from ._errors import (
    ArgumentTypeError,
    ArgumentValueError,
    CivisDynError,
    CivisJobFailure,
    UnsupportedOperationError,
)
from ._meta import ClientMeta
from ._effects import Call, Collect, Emit, Sleep
from ._polling import RunWatch, as_response, field_of, state_of, until_final
from ._resources import client_of, name_of
from .spec._model import ApiSpec
from .spec._runs import (
    CANCELLED,
    FAILED,
    SUCCEEDED,
    jobs_run_kind,
    run_kinds,
)

__all__ = [
    "as_responses",
    "call_endpoint",
    "cancel_steps",
    "check_callable",
    "check_id",
    "check_interval",
    "check_timeout",
    "ERROR_FIELDS",
    "error_message",
    "FAILURE_LOG_LINES",
    "failure_steps",
    "follow_steps",
    "kinds_text",
    "latest_run_id_steps",
    "list_steps",
    "LOG_PAGE_SIZE",
    "method_label",
    "outputs_endpoint",
    "read_logs_steps",
    "run_id_from",
    "run_watch",
    "select_kind",
    "spec_of",
    "start_steps",
    "tail_logs_steps",
    "wait_steps",
]

log = logging.getLogger("civis_dyn.futures")


#: Log lines kept in a :class:`~civis_dyn.CivisJobFailure`.
FAILURE_LOG_LINES = 20


#: The logs endpoints' documented default page size.
LOG_PAGE_SIZE = 10_000


# Fields holding a run's error, in order of preference.
ERROR_FIELDS = ("error", "state_message", "mistral_state_info", "error_message")


def spec_of(client):
    """The client's schema model (``client.meta.spec``), or None (no client, a plain mock)."""
    spec = getattr(getattr(client, "meta", None), "spec", None)
    return spec if isinstance(spec, ApiSpec) else None


def call_endpoint(client, endpoint, /, *args, **kwargs):
    """Call ``endpoint`` of ``client``; civis_dyn responses whatever the client's return type."""
    meta = getattr(client, "meta", None)
    if isinstance(meta, ClientMeta):
        return meta.call(endpoint.resource, endpoint.method, *args, **kwargs)
    return as_response(getattr(getattr(client, endpoint.resource), endpoint.method)(*args,
                                                                                   **kwargs))


def as_responses(value):
    if value is None:
        return []
    return [as_response(v) for v in value]


def list_steps(client, endpoint, *args, **kwargs):
    """Every item ``endpoint`` lists (all pages of a paginated one)."""
    spec = spec_of(client)
    if spec is not None and spec.operation(*endpoint).paginated:
        return as_responses((yield Collect(getattr(getattr(client, endpoint.resource), endpoint.method),
                                     *args, iterator=True, **kwargs)))
    return as_responses((yield Call(call_endpoint, client, endpoint, *args, **kwargs)))


def select_kind(resource, kind, label, need=()):
    """The :class:`~civis_dyn.spec._runs.RunKind` of a resource instance for ``kind``."""
    name = name_of(resource)
    table = {k: v for k, v in run_kinds(client_of(resource).meta.spec, name).items()
             if v.has(*need)}
    if kind is not None:
        if not isinstance(kind, str):
            raise ArgumentTypeError(f"{label} argument 'kind' must be a str, not "
                                    f"{type(kind).__name__}")
        key = kind.replace("-", "_").lower()
        if key in table:
            return table[key]
        raise ArgumentValueError(f"{label} argument 'kind' must be one of "
                                 f"{kinds_text(table)}; got {kind!r}")
    if None in table:
        return table[None]
    if len(table) == 1:
        return next(iter(table.values()))
    if not table:
        raise ArgumentTypeError(f"{label}: {name!r} has no runs this method can use")
    raise ArgumentTypeError(f"{label} needs kind=: {name!r} runs several kinds: "
                            f"{kinds_text(table)}")


def kinds_text(table):
    kinds = sorted(repr(k) for k in table if k is not None)
    return ", ".join(kinds) if kinds else "(none)"


def check_interval(value, label, name="polling_interval"):
    return _check_seconds(value, label, name, zero_allowed=False)


def check_timeout(value, label, name="timeout"):
    return _check_seconds(value, label, name, zero_allowed=True)


def _check_seconds(value, label, name, zero_allowed):
    """``value`` as float seconds (None stays None); > 0, or >= 0 when ``zero_allowed``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentTypeError(f"{label} argument {name!r} must be a number of seconds, "
                                f"not {type(value).__name__}")
    if not (value >= 0 if zero_allowed else value > 0):
        raise ArgumentValueError(f"{label} argument {name!r} must be "
                                 f"{'>=' if zero_allowed else '>'} 0; got {value!r}")
    return float(value)


def check_callable(value, label, name):
    if value is not None and not callable(value):
        raise ArgumentTypeError(f"{label} argument {name!r} must be callable, "
                                f"not {type(value).__name__}")
    return value


def check_id(value, label, name):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ArgumentTypeError(f"{label} argument {name!r} must be an int, "
                            f"not {type(value).__name__}")


def run_id_from(run, kind):
    """The id of a run just started, from the start method's answer."""
    for name in (kind.run_id_param, "id"):
        value = field_of(run, name)
        if value is not None:
            return value
    raise CivisDynError(f"{kind.start!r}() answered without a run id")


def error_message(run, state):
    for name in ERROR_FIELDS:
        value = field_of(run, name)
        if value:
            return str(value)
    return f"the run ended in state {state!r}"


# Each ``*_steps`` is written once for both clients: a generator of effects
# (civis_dyn._effects) run blocking by civis_dyn.futures and awaited by civis_dyn._async_runs.
def read_logs_steps(client, endpoint, job_id, run_id, last_id=None):
    """Log entries newer than ``last_id``, oldest first."""
    kwargs = {} if last_id is None else {"last_id": last_id}
    answer = yield Call(call_endpoint, client, endpoint, job_id, run_id, **kwargs)
    entries = [e for e in as_responses(answer) if field_of(e, "id") is not None]
    entries.sort(key=lambda e: field_of(e, "id"))
    if last_id is not None:
        entries = [e for e in entries if field_of(e, "id") > last_id]
    return entries


def tail_logs_steps(client, endpoint, job_id, run_id, count=FAILURE_LOG_LINES):
    """The last ``count`` log messages of a run ([] when they cannot be read)."""
    if endpoint is None or client is None:
        return []
    try:
        entries = yield from read_logs_steps(client, endpoint, job_id, run_id)
    except Exception as exc:  # the failure matters more than its logs
        log.debug("could not read the logs of job %s run %s: %s", job_id, run_id, exc)
        return []
    return [str(field_of(e, "message") or "") for e in entries[-count:]]


def failure_steps(client, kind, run, state, job_id, run_id):
    """The :class:`~civis_dyn.CivisJobFailure` of a failed run, its last log lines read."""
    logs = kind.logs if kind is not None else None
    lines = yield from tail_logs_steps(client, logs, job_id, run_id)
    return CivisJobFailure(error_message(run, state), response=run, job_id=job_id,
                           run_id=run_id, log_lines=lines)


def latest_run_id_steps(client, kind, job_id, label):
    kind = kind or jobs_run_kind(spec_of(client))
    lister = kind.list
    if lister is None:
        raise CivisDynError(f"{label}: {kind.label} cannot be listed; pass run_id=")
    order = {"limit": 1, "order": "id", "order_dir": "desc"}
    spec = spec_of(client)
    if spec is not None:
        known = {p.name for p in spec.operation(*lister).parameters}
        order = {k: v for k, v in order.items() if k in known}
    runs = as_responses((yield Call(call_endpoint, client, lister, job_id, **order)))
    if not runs:
        raise CivisDynError(f"{label}: job {job_id} has no runs yet")
    return field_of(max(runs, key=lambda r: field_of(r, "id") or 0), "id")


def cancel_steps(send_cancel, read_run, states, what):
    """Ask the server to cancel a run; return ``(verdict, run)`` (both clients' cancel).

    ``verdict`` is :data:`CANCELLED` (the run is cancelled), :data:`SUCCEEDED`
    or :data:`FAILED` (it ended before the cancel reached it), None (the
    server answered 404, the run most likely ended; or this kind of run
    cannot be cancelled) or the error the request failed with (to be warned
    about by the caller).
    """
    try:
        run = yield Call(send_cancel)
    except NotImplementedError:
        return None, None
    except CivisDynError as exc:
        if getattr(exc, "status_code", None) == 404:  # the run most likely ended
            return None, None
        return exc, None
    if state_of(run) is None:  # the real API answers 202 without a body: read the run
        try:
            run = as_response((yield Call(read_run)))
        except Exception as exc:  # the cancel was accepted; what followed is not known
            log.debug("could not read %r after cancelling it: %s", what, exc)
    outcome = states.outcome(state_of(run))
    return (outcome if outcome in (SUCCEEDED, FAILED) else CANCELLED), run


def run_watch(client, kind, job_id, run_id, polling_interval):
    """A :class:`~civis_dyn._polling.RunWatch` of one run through its kind's ``get``."""
    get = kind.bound(client, "get")
    return RunWatch(lambda: get(job_id, run_id), kind.states, polling_interval)


def wait_steps(client, kind, watch, job_id, run_id, *, timeout=None, on_change=None,
                clock=time.monotonic):
    """Poll until the run is final: its final run, or raise its failure or cancellation."""
    step = yield from until_final(watch, job_id=job_id, run_id=run_id, timeout=timeout,
                                  on_change=on_change, clock=clock)
    if step.outcome == SUCCEEDED:
        return step.run
    if step.outcome == FAILED:
        raise (yield from failure_steps(client, kind, step.run, step.state, job_id, run_id))
    raise concurrent.futures.CancelledError(f"job {job_id} run {run_id} was cancelled")


def follow_steps(client, kind, job_id, run_id, polling_interval, linger=0.0,
                  clock=time.monotonic, label="follow_logs()"):
    """Emit each new log entry of a run until it is final (``run_id`` None: the latest run)."""
    if run_id is None:
        run_id = yield from latest_run_id_steps(client, kind, job_id, label)
    watch = run_watch(client, kind, job_id, run_id, polling_interval)
    last_id = None
    final_since = None
    while True:
        step = yield from watch.poll()
        if step.outcome is not None and final_since is None:
            final_since = clock()
        while True:  # read until the log has nothing newer
            entries = yield from read_logs_steps(client, kind.logs, job_id, run_id, last_id)
            for entry in entries:
                last_id = field_of(entry, "id")
                yield Emit(entry)
            if len(entries) < LOG_PAGE_SIZE:
                break
        if final_since is not None and clock() - final_since >= linger:
            return
        if entries:
            watch.backoff.reset()
        yield Sleep(step.delay if step.delay is not None else watch.backoff.next())


def outputs_endpoint(kind, client, run_id, what):
    """The outputs endpoint of a run of ``kind`` (a plain run's: the ``jobs`` one).

    ``what`` names the run's future in the error when the kind has none.
    """
    endpoint = kind.outputs if kind is not None else None
    if endpoint is None:
        if (kind is not None and kind.collection != "runs") or run_id is None or client is None:
            raise UnsupportedOperationError(f"{what}: this kind of run has no outputs endpoint")
        endpoint = jobs_run_kind(spec_of(client)).outputs
    return endpoint


def method_label(resource, name):
    return f"{name_of(resource)}.{name}()"


def start_steps(client, kind, job_id, start_arguments):
    """Start a run of ``kind``; its run id."""
    answer = yield Call(call_endpoint, client, kind.start, job_id, **start_arguments)
    return run_id_from(answer, kind)
