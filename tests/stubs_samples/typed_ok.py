"""A typed script over the generated stubs: mypy --strict must accept it (tests/test_stubs.py)."""

import datetime

import civis_dyn
from civis_dyn import ListResponse, PaginatedResponse
from civis_dyn.futures import CivisFuture
from civis_dyn.types import Job, JobRun, JobSummary, ScriptRequiredResourcesCreateRequestInput


def job_name(job: Job) -> str:
    return f"{job.id}: {job.name}"


def outcome(future: CivisFuture) -> object:      # modules beside the API: typed loosely
    return future.result()


def main(client: civis_dyn.APIClient) -> list[str]:
    out: list[str] = []
    job = client.jobs.get(1)                                        # 1: Response subclass
    out.append(job_name(job))
    last: JobRun = job.last_run
    out.append(last.state)
    page: ListResponse[JobSummary] = client.jobs.list(limit=5, state="running")   # 2
    out.extend(j.name for j in page)
    every: PaginatedResponse[JobSummary] = client.jobs.list(iterator=True)        # 3: pagination
    out.extend(str(j.id) for j in every)
    for run in client.jobs.list_runs(1, iterator=True):             # 4
        out.append(run.state)
    started = client.jobs.post_runs(1)                              # 5
    out.append(str(started.id))
    resources: ScriptRequiredResourcesCreateRequestInput = {"cpu": 1024, "memory": 2048}
    script = client.scripts.post_containers(                        # 6: nested bodies
        resources,
        name="nightly",
        docker_image_name="civisanalytics/datascience-python",
        schedule={"scheduled": True, "scheduledDays": [1, 3], "scheduled_hours": [6]},
        params=[{"name": "limit", "type": "integer", "required": False}],
        arguments={"limit": 10},
    )
    out.append(script.name)
    client.scripts.patch_containers(script.id, required_resources={"disk_space": 2.5})  # 7
    me = client.users.list_me()                                     # 8
    out.append(me.username)
    databases = client.databases.list()                             # 9
    out.extend(d.name for d in databases)
    table = client.tables.get(1)                                    # 10
    out.extend(c.name for c in client.tables.list_columns(table.id, iterator=True))  # 11
    f = client.files.get(1, link_expires_at=datetime.datetime(2030, 1, 1))           # 12
    out.append(f.name)
    for flow in client.workflows.list(archived="false", iterator=True):              # 13
        out.append(flow.name)
    project = client.projects.post("Q3", "numbers")                 # 14
    out.append(str(project.id))
    client.scripts.delete(7)                                        # 15: deprecated
    return out
