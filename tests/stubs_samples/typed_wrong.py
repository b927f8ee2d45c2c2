"""Mistakes the generated stubs must catch (tests/test_stubs.py asserts each error)."""

import civis_dyn
from civis_dyn.types import Job


def main(client: civis_dyn.APIClient) -> None:
    job: Job = client.jobs.get("42")                        # E-str-id
    print(job.nmae)                                         # E-misspelled-field
    client.jobs.list(limt=5)                                # E-misspelled-param
    client.scripts.post_containers(
        {"cpu": "1024", "memroy": 2048},                    # E-nested-type, E-nested-key
        docker_image_name="x",
    )
    runs = client.jobs.list_runs(1, iterator=True)
    runs.append(None)                                       # E-paginated-not-list
    client.scripts.delete(7)                                # E-deprecated
    client.jobz.list()                                      # E-misspelled-resource
