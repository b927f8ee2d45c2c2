"""to_pandas(): columns in schema order, types from the schema, flattening on request."""

import pytest

from civis_dyn import ListResponse, PaginatedResponse

pd = pytest.importorskip("pandas", reason="pandas (the [pandas] extra) is not installed")

ITEM = {"type": "object", "properties": {
    "id": {"type": "integer"},
    "name": {"type": "string"},
    "score": {"type": "number"},
    "archived": {"type": "boolean"},
    "createdAt": {"type": "string", "format": "date-time"},
    "lastRun": {"type": "object", "properties": {
        "state": {"type": "string"}, "finishedAt": {"type": "string", "format": "time"}}},
}}
ROWS = [
    {"createdAt": "2026-01-02T03:04:05.000Z", "id": 1, "name": "a", "score": 1,
     "archived": False, "lastRun": {"state": "succeeded", "finishedAt": "2026-01-02T04:00:00Z"},
     "extraField": "x"},
    {"id": 2, "name": "b", "score": None, "archived": None, "createdAt": None, "lastRun": None},
]


def test_columns_in_schema_order_then_unknown_fields():
    frame = ListResponse(ROWS, item_schema=ITEM).to_pandas()
    assert list(frame.columns) == ["id", "name", "score", "archived", "created_at", "last_run",
                                   "extra_field"]
    assert frame["last_run"][0] == {"state": "succeeded", "finished_at": "2026-01-02T04:00:00Z"}


def test_types_from_the_schema_with_nulls_kept():
    frame = ListResponse(ROWS, item_schema=ITEM).to_pandas()
    assert str(frame["id"].dtype) == "Int64"
    assert str(frame["score"].dtype) == "float64" and pd.isna(frame["score"][1])
    assert str(frame["archived"].dtype) == "boolean" and pd.isna(frame["archived"][1])
    assert str(frame["created_at"].dtype).startswith("datetime64")
    assert frame["created_at"][0] == pd.Timestamp("2026-01-02T03:04:05Z")


def test_flatten_makes_dotted_columns_typed_from_nested_schema():
    frame = ListResponse(ROWS, item_schema=ITEM).to_pandas(flatten=True)
    assert "last_run.state" in frame.columns and "last_run" not in frame.columns
    assert frame["last_run.state"][0] == "succeeded"
    assert str(frame["last_run.finished_at"].dtype).startswith("datetime64")


def test_without_a_schema_columns_come_from_the_data():
    frame = ListResponse([{"id": 1, "jobName": "x"}]).to_pandas()
    assert list(frame.columns) == ["id", "job_name"] and frame["job_name"][0] == "x"


def test_paginated_to_pandas_reads_every_page():
    def fetch_page(page):
        return [{"id": page}], {"X-Pagination-Total-Pages": "3"}

    frame = PaginatedResponse(fetch_page, item_schema=ITEM, progress=False).to_pandas()
    assert list(frame["id"]) == [1, 2, 3] and str(frame["id"].dtype) == "Int64"


def test_a_value_against_the_schema_keeps_its_column():
    frame = ListResponse([{"id": "not a number"}], item_schema=ITEM).to_pandas()
    assert frame["id"][0] == "not a number"


def test_a_client_list_is_typed_from_its_operation_schema():
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(run_delays=(0.0, 0.0)) as api:
        client = api.client()
        client.scripts.post_containers(required_resources={"cpu": 256, "memory": 512},
                                       docker_image_name="python", name="etl")
        frame = client.jobs.list().to_pandas()
        paged = client.jobs.list(iterator=True).to_pandas()
    assert list(frame.columns[:3]) == ["id", "name", "type"]
    assert str(frame["id"].dtype) == "Int64" and str(frame["created_at"].dtype).startswith("datetime64")
    assert list(paged.columns) == list(frame.columns) and paged["name"][0] == "etl"
