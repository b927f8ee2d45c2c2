"""Pagination: ``iterator=True`` walks every page lazily, one request per page."""
from _connect import api_client

with api_client() as (client, local):
    if local is not None:  # give the local API something to page through
        for i in range(12):
            client.projects.post(f"civis_dyn example project {i}", description="example")

    pages = client.projects.list(iterator=True, limit=5)   # no request yet
    names = [project.name for project in pages]
    print(f"{len(names)} projects in {pages.pages_fetched} pages")
    if local is not None:
        print("requests made for the listing:", local.count("GET", "/projects/"))
