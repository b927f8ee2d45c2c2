"""Unmodified civis-python 2.10.1 (``civis.io``, ``civis.utils``) against LocalCivisAPI.

civis-python builds its client from the local API's ``/endpoints`` (the full
schema) and talks to it over real HTTP on 127.0.0.1, as it would to the real
API: presigned uploads and downloads, SQL scripts, queries, imports, logs.
Skipped when civis-python is not installed (CI installs it).
"""
import io
import os

import pytest

civis = pytest.importorskip("civis")

from civis_dyn.testing import LocalCivisAPI  # noqa: E402

FAST = 0.05


@pytest.fixture(scope="module")
def civis_client(request):
    spec = request.getfixturevalue("real_spec_path")
    with LocalCivisAPI(spec=spec, run_delays=(0.0, 0.0)) as api:
        old = {k: os.environ.get(k) for k in ("CIVIS_API_KEY", "CIVIS_API_ENDPOINT")}
        os.environ["CIVIS_API_KEY"] = api.api_key
        os.environ["CIVIS_API_ENDPOINT"] = api.url
        try:
            yield civis.APIClient()
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def test_file_round_trip(civis_client, tmp_path):
    data = os.urandom(100_000)
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    fid = civis.io.file_to_civis(str(src), client=civis_client)
    out = io.BytesIO()
    civis.io.civis_to_file(fid, out, client=civis_client)
    assert out.getvalue() == data


def test_json_round_trip(civis_client):
    fid = civis.io.json_to_file({"k": [1, 2, {"x": None}]}, client=civis_client)
    assert civis.io.file_to_json(fid, client=civis_client) == {"k": [1, 2, {"x": None}]}


def test_query_civis(civis_client):
    fut = civis.io.query_civis("create table c.q as select 1 as a", "local",
                               client=civis_client, polling_interval=FAST)
    assert fut.result().state == "succeeded"
    got = civis.io.query_civis("select * from c.q", "local", client=civis_client,
                               polling_interval=FAST).result()
    assert got.result_rows == [["1"]]


def test_read_civis_sql(civis_client):
    rows = civis.io.read_civis_sql("select 1 as a, 'x' as b", "local", client=civis_client,
                                   polling_interval=FAST)
    assert rows == [["a", "b"], ["1", "x"]]


def test_civis_file_to_table_then_read_civis(civis_client):
    fid = civis.io.file_to_civis(io.BytesIO(b"name,n\nann,1\nbob,2\n"), "people.csv",
                                 client=civis_client)
    fut = civis.io.civis_file_to_table(fid, "local", "c.people", client=civis_client,
                                       polling_interval=FAST)
    assert fut.result().state == "succeeded"
    assert civis.io.read_civis("c.people", "local", client=civis_client,
                               polling_interval=FAST) == [["name", "n"], ["ann", "1"],
                                                          ["bob", "2"]]


def test_dataframe_to_civis_then_read_civis(civis_client):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    civis.io.dataframe_to_civis(df, "local", "c.df", client=civis_client,
                                polling_interval=FAST).result()
    back = civis.io.read_civis("c.df", "local", return_as="pandas", client=civis_client,
                               polling_interval=FAST)
    assert back.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}


def test_civis_to_csv(civis_client, tmp_path):
    target = tmp_path / "out.csv"
    fut = civis.io.civis_to_csv(str(target), "select 1 as a, 'x' as b", "local",
                                client=civis_client, polling_interval=FAST)
    # civis-python downloads in a done-callback run under the future's lock, so
    # result() returns after the file is written
    fut.result()
    assert target.read_text() == "a,b\n1,x\n"


def test_job_logs_and_file_id_from_run_output(civis_client):
    job = civis_client.scripts.post_containers(
        name="job", docker_image_name="img", required_resources={"cpu": 1, "memory": 1})
    run = civis_client.scripts.post_containers_runs(job.id)
    fid = civis.io.file_to_civis(io.BytesIO(b"x"), "result.csv", client=civis_client)
    civis_client.scripts.post_containers_runs_outputs(job.id, run.id, "File", fid)
    assert civis.io.file_id_from_run_output("result.csv", job.id, run.id,
                                            client=civis_client) == fid
    messages = [x["message"] for x in civis.utils.job_logs(job.id, run.id,
                                                           client=civis_client)]
    assert messages == ["Run queued", "Run started", "Working...", "Run succeeded"]


def test_transfer_table(civis_client):
    civis.io.query_civis("create table c.src as select 3 as v", "local", client=civis_client,
                         polling_interval=FAST).result()
    fut = civis.io.transfer_table("local", "local", "c.src", "c.dst", client=civis_client,
                                  polling_interval=FAST)
    assert fut.result().state == "succeeded"
    assert civis.io.read_civis("c.dst", "local", client=civis_client,
                               polling_interval=FAST) == [["v"], ["3"]]
