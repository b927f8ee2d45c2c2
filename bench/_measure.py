"""Running measurements in fresh subprocesses, and the statistics of several rounds.

Every subprocess gets a clean environment: no ``PYTHONDONTWRITEBYTECODE`` (this
machine's default sets it, which would make every import compile from source:
the benchmarks warm the ``.pyc`` files first and then measure imports as users
see them), no ``PYTHONPATH``, and none of the ``CIVIS_*`` variables of the
calling shell; each measurement adds what it needs. The working directory is a
scratch folder, so nothing from the repository is importable by accident.
"""

import json
import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Client", "MeasurementError", "clean_env", "median", "ordered", "run_process",
           "run_worker"]

WORKER = Path(__file__).resolve().parent / "_worker.py"
MARKER = "BENCH-RESULT "
DROPPED_ENV = ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONPROFILEIMPORTTIME")
DEFAULT_TIMEOUT = 240.0  # seconds for one subprocess


class MeasurementError(RuntimeError):
    """A measurement's subprocess failed; the message ends with its stderr."""


@dataclass(frozen=True)
class Client:
    """One of the clients being compared.

    Attributes
    ----------
    name : str
        Its import name, ``"civis"`` or ``"civis_dyn"``.
    label : str
        Its name in the table.
    python : str
        The interpreter of its environment.
    bin_dir : str
        Where its environment's console scripts are.
    """

    name: str
    label: str
    python: str
    bin_dir: str


def clean_env(**extra):
    """The environment for a measurement subprocess, plus ``extra`` (None removes a name)."""
    env = {name: value for name, value in os.environ.items()
           if name not in DROPPED_ENV and not name.startswith("CIVIS_")}
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


def _fail(what, completed):
    tail = "\n".join((completed.stderr or "").strip().splitlines()[-15:])
    return MeasurementError(f"{what} exited with status {completed.returncode}:\n{tail}")


def run_process(argv, *, env, cwd, timeout=DEFAULT_TIMEOUT, what=None):
    """Run a process to completion; return ``(wall seconds, stdout, started_at)``.

    ``started_at`` is :func:`time.monotonic` just before the process was
    spawned (a system-wide clock on Linux, comparable with the child's).

    Raises
    ------
    MeasurementError
        When it exits with a non-zero status or times out.
    """
    what = what or " ".join(map(str, argv[:3]))
    started_at = time.monotonic()
    start = time.perf_counter()
    try:
        completed = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                                   timeout=timeout)
    except subprocess.TimeoutExpired:
        raise MeasurementError(f"{what} did not finish in {timeout:.0f} s") from None
    wall = time.perf_counter() - start
    if completed.returncode != 0:
        raise _fail(what, completed)
    return wall, completed.stdout, started_at


def run_worker(client, task, *, env, cwd, timeout=DEFAULT_TIMEOUT):
    """Run one ``_worker.py`` task with ``client``'s interpreter.

    Returns
    -------
    (dict, float, float)
        The task's result, the process's wall time and its ``started_at``.
    """
    task = {**task, "client": client.name}
    wall, stdout, started_at = run_process(
        [client.python, str(WORKER), json.dumps(task)], env=env, cwd=cwd, timeout=timeout,
        what=f"{client.label} {task['task']}")
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):]), wall, started_at
    raise MeasurementError(f"{client.label} {task['task']} printed no result")


def median(values):
    """The median of the numbers in ``values`` that are not None (None if there are none)."""
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def ordered(items, round_index):
    """``items`` in round-robin order, reversed on odd rounds (A B, then B A, ...)."""
    items = list(items)
    return items if round_index % 2 == 0 else items[::-1]
