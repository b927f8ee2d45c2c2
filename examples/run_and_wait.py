"""Runs: start a run and wait for it, follow its logs, and handle a failed run."""
import civis_dyn
from _connect import api_client

with api_client() as (client, _):
    script = client.scripts.post_containers(
        {"cpu": 256, "memory": 512}, name="civis_dyn example run",
        docker_image_name="civisanalytics/datascience-python", docker_command="echo hello")

    run = client.scripts.run_and_wait(script.id, kind="containers", timeout=600,
                                      callback=lambda r: print("  state:", r.state))
    print("run", run.id, "ended", run.state)
    for line in civis_dyn.follow_logs(script.id, run.id, client=client):
        print("  log:", line.message)

    failing = client.scripts.post_containers(
        {"cpu": 256, "memory": 512}, name="civis_dyn example that should fail",
        docker_image_name="civisanalytics/datascience-python", docker_command="exit 1")
    future = client.scripts.run(failing.id, kind="containers")
    try:
        future.result(timeout=600)
    except civis_dyn.CivisJobFailure as failure:
        print("failed as expected:", failure.error_message)
