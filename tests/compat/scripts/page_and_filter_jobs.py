"""civis-python style: page through jobs and filter them with find / find_one."""
import civis_dyn as civis

client = civis.APIClient()
for i in range(7):
    client.scripts.post_containers(name=f"report-{i}", docker_image_name="img",
                                   required_resources={"cpu": 256, "memory": 512})
client.scripts.post_containers(name="cleanup", docker_image_name="img",
                               required_resources={"cpu": 256, "memory": 512})

every_job = list(client.jobs.list(iterator=True, limit=3))
reports = civis.find(every_job, lambda job: job.name.startswith("report-"))
cleanup = civis.find_one(every_job, name="cleanup")
first_page = client.jobs.list(limit=3)

print(f"jobs: {len(every_job)}; reports: {len(reports)}; cleanup id: {cleanup.id}")
print(f"first page: {len(first_page)} of {first_page.headers.get('X-Pagination-Total-Entries')}")
print(f"archived: {len(civis.find(every_job, archived=True))}")
