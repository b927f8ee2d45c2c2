"""``civis-dyn demo``: a short tour of the real client against an in-process local API.

Each step prints what it does and what came back: building the client (how
long, how many resources and methods), creating a container script, running
it and waiting, its logs, listing with ``iterator=True``, sharing, ``help()``
of one method, and the clear errors a wrong call gives. It takes a second or
two; nothing leaves 127.0.0.1.
"""

import pydoc
import time

__all__ = ["run_demo"]

_RUN_DEADLINE = 8.0
_HELP_LINES = 18


def _run_and_wait(client, script_id, echo):
    """Run the script and wait (the run model's shared polling step, in this thread)."""
    echo(f'>>> client.scripts.run_and_wait({script_id}, kind="containers")')
    return client.scripts.run_and_wait(script_id, kind="containers", polling_interval=0.05,
                                       timeout=_RUN_DEADLINE)


def run_demo(spec=None, echo=print):
    """Run the tour and return a summary of what it saw.

    Parameters
    ----------
    spec : str, PathLike or dict, optional
        Schema for the local API and the client (default: the bundled one).
    echo : callable, optional
        Prints one line (default :func:`print`).

    Returns
    -------
    dict
        ``resources``, ``methods``, ``build_seconds``, ``script_id``,
        ``run_state``, ``log_lines``, ``listed``, ``shared_with``, ``errors``
        and ``seconds`` (the whole tour).
    """
    from .. import CivisAPIError
    from .._resources import synthesized_methods
    from ..testing._local_api import LocalCivisAPI

    started = time.perf_counter()
    summary = {}
    with LocalCivisAPI(spec=spec, run_delays=(0.1, 0.2)) as api:
        echo(f"Local Civis API at {api.url} (in this process)")

        echo("\n1. Build the client from the schema")
        t0 = time.perf_counter()
        client = api.client()
        built = time.perf_counter() - t0
        index = client.meta.spec.index
        methods = sum(len(m) for m in index.values())
        echo(f">>> client = civis_dyn.APIClient()   # {built * 1000:.1f} ms")
        echo(f"    {len(index)} resources, {methods} methods; "
             f"{synthesized_methods(client.meta.spec)} synthesized so far (they are made on first use)")
        summary.update(resources=len(index), methods=methods, build_seconds=built)

        echo("\n2. Create a container script")
        echo('>>> script = client.scripts.post_containers({"cpu": 256, "memory": 512}, '
             'name="demo", docker_image_name="civisanalytics/datascience-python", '
             'docker_command="echo hi")')
        script = client.scripts.post_containers(
            {"cpu": 256, "memory": 512}, name="demo",
            docker_image_name="civisanalytics/datascience-python", docker_command="echo hi")
        echo(f"    id={script.id} name={script.name!r} docker_image_name={script.docker_image_name!r}")
        summary["script_id"] = script.id

        echo("\n3. Run it and wait")
        run = _run_and_wait(client, script.id, echo)
        echo(f"    run {run.id} ended: {run.state}")
        summary["run_state"] = run.state

        echo("\n4. Its logs")
        echo(f">>> client.scripts.list_containers_runs_logs({script.id}, {run.id})")
        logs = client.scripts.list_containers_runs_logs(script.id, run.id)
        for entry in sorted(logs, key=lambda e: e.id):
            echo(f"    {entry.created_at} {entry.level:5} {entry.message}")
        summary["log_lines"] = len(logs)

        echo("\n5. List every script, page after page")
        client.scripts.post_containers({"cpu": 256, "memory": 512}, name="demo-2",
                                       docker_image_name="civisanalytics/datascience-python")
        echo(">>> for s in client.scripts.list(iterator=True, limit=1): ...")
        listed = [s.name for s in client.scripts.list(iterator=True, limit=1)]
        echo(f"    {listed} ({len(listed)} pages of 1)")
        summary["listed"] = listed

        echo("\n6. Share it")
        me = client.users.get_me()
        echo(f">>> client.scripts.put_containers_shares_users({script.id}, [{me.id}], 'read')")
        shares = client.scripts.put_containers_shares_users(script.id, [me.id], "read")
        readers = [u.name for u in shares.readers.users]
        echo(f"    readers: {readers}")
        summary["shared_with"] = readers

        echo("\n7. help() for one method (docs from the schema)")
        echo(">>> help(client.scripts.post_containers_runs)")
        text = pydoc.plaintext.document(client.scripts.post_containers_runs)
        lines = [line.rstrip() for line in pydoc.plain(text).strip().splitlines()]
        for line in lines[:_HELP_LINES]:
            echo(f"    {line}".rstrip())
        if len(lines) > _HELP_LINES:
            echo("    …")

        echo("\n8. Clear errors")
        errors = []
        for label, call in (
            ("client.scripts.get_containers(999999)", lambda: client.scripts.get_containers(999999)),
            ('client.scripts.get_containers("seven")', lambda: client.scripts.get_containers("seven")),
            (f"client.scripts.post_containers_runs({script.id}, wait=True)",
             lambda: client.scripts.post_containers_runs(script.id, wait=True)),
        ):
            echo(f">>> {label}")
            try:
                call()
            except (CivisAPIError, TypeError, ValueError) as exc:
                echo(f"    {type(exc).__name__}: {exc}")
                errors.append(type(exc).__name__)
        summary["errors"] = errors

    summary["seconds"] = time.perf_counter() - started
    echo(f"\nTour done in {summary['seconds']:.1f} s.")
    return summary
