"""Quickstart: create, read, update and list objects with the synthesized client."""
from _connect import api_client

with api_client() as (client, _):
    print(f"{len(dir(client))} attributes; e.g. client.scripts has "
          f"{sum(not n.startswith('_') for n in dir(client.scripts))} methods")

    script = client.scripts.post_containers(
        {"cpu": 256, "memory": 512}, name="civis_dyn quickstart",
        docker_image_name="civisanalytics/datascience-python", docker_command="echo hello")
    print("created", script.id, script.name)

    script = client.scripts.patch_containers(script.id, name="civis_dyn quickstart (renamed)")
    print("renamed to", client.scripts.get_containers(script.id).name)

    for item in client.scripts.list(limit=5):
        print("  listed:", item.id, item.name)
    print("as a dict:", sorted(script.json())[:5], "...")
