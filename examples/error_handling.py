"""Errors: what a script sees for bad arguments, missing objects and a flaky server."""
import civis_dyn
from _connect import api_client

with api_client() as (client, local):
    try:
        client.scripts.get_containers("seven")
    except TypeError as exc:                       # checked before anything is sent
        print("bad argument:", exc)

    try:
        client.scripts.get_containers(987654321)
    except civis_dyn.CivisAPIError as exc:
        print("API error:", exc.status_code, exc.error_message)

    if local is not None:                          # the local API can misbehave on purpose
        local.faults.script("GET", "/scripts/", [503, 429, None])
        client.scripts.list()
        print("retried through 503 and 429:", local.count("GET", "/scripts/"), "requests")
