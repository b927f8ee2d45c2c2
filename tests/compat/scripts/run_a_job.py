"""civis-python style: create a container job, run it, wait, read its logs and outputs."""
import civis_dyn as civis

client = civis.APIClient()
job = client.scripts.post_containers(
    name="nightly export",
    docker_image_name="civisanalytics/datascience-python",
    docker_command="python export.py",
    required_resources={"cpu": 256, "memory": 512},
)
run = client.scripts.post_containers_runs(job.id)
future = civis.futures.CivisFuture(
    client.scripts.get_containers_runs, (job.id, run.id), polling_interval=0.05, client=client)
result = future.result(timeout=30)
assert future.succeeded(), result.state

logs = client.jobs.list_runs_logs(job.id, run.id)
outputs = client.scripts.list_containers_runs_outputs(job.id, run.id)
again = civis.utils.run_job(job.id, client=client, polling_interval=0.05).result(timeout=30)

print(f"job {job.id} run {run.id}: {result.state}")
print(f"log lines: {len(logs)}; last: {logs[-1].message}")
print(f"outputs: {len(outputs)}; second run: {again.state}")
