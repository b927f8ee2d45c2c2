"""LocalCivisAPI as a stand-in for data work: files, SQL, imports, exports, tables, logs.

Real HTTP on 127.0.0.1 with plain ``requests`` and a civis_dyn client, on the
bundled schema (the routes that only the full schema has use ``real_spec_path``).
Time moves with an injected clock, never with sleeps.
"""
import gzip
import io
import os
import zipfile

import pytest
import requests

from civis_dyn.testing import LocalCivisAPI


@pytest.fixture
def api(clock):
    with LocalCivisAPI(clock=clock, run_delays=(0.0, 0.0), url_ttl=60) as server:
        yield server


@pytest.fixture
def client(api):
    return api.client()


def _form_upload(created, data, **extra_fields):
    fields = dict(created.upload_fields.json(snake_case=False))
    fields.update(extra_fields)
    return requests.post(created.upload_url, data=fields,
                         files={"file": ("f.bin", io.BytesIO(data))})


def _upload(client, data, name="f.bin"):
    created = client.files.post(name)
    r = _form_upload(created, data)
    assert r.status_code == 204, r.text
    return created.id


# -- files -----------------------------------------------------------------------
def test_file_form_upload_and_download_bytes_exact(api, client):
    # bytes that look like form boundaries and line ends must survive untouched
    data = os.urandom(300_000) + b"\r\n--boundary\r\n" + os.urandom(70_000) + b"\r\n"
    created = client.files.post("blob.bin")
    assert created.upload_url.startswith(api.url + "_local/files/")
    assert {"key", "policy", "x-amz-signature"} <= set(created.upload_fields.json(
        snake_case=False))
    assert client.files.get(created.id).file_url is None  # nothing uploaded yet
    assert _form_upload(created, data).status_code == 204
    info = client.files.get(created.id)
    assert info.file_size == len(data)
    got = requests.get(info.file_url)
    assert got.status_code == 200 and got.content == data
    assert "blob.bin" in got.headers["Content-Disposition"]


def test_upload_checks_signature_key_and_expiry(api, client, clock):
    created = client.files.post("x")
    bad = _form_upload(created, b"abc", **{"x-amz-signature": "0" * 64})
    assert bad.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in bad.text
    other = client.files.post("y")
    wrong_file = requests.post(api.url + f"_local/files/{other.id}",
                               data=dict(created.upload_fields.json(snake_case=False)),
                               files={"file": ("f", b"abc")})
    assert wrong_file.status_code == 403
    clock.now += 61
    expired = _form_upload(created, b"abc")
    assert expired.status_code == 403 and "Request has expired" in expired.text
    assert client.files.get(created.id).file_size is None


def test_download_url_is_signed_and_expires(api, client, clock):
    fid = _upload(client, b"hello")
    url = client.files.get(fid).file_url
    assert requests.get(url.replace("signature=", "signature=0")).status_code == 403
    assert requests.get(url.split("?")[0]).status_code == 403
    clock.now += 61
    assert "Request has expired" in requests.get(url).text
    assert requests.get(client.files.get(fid).file_url).content == b"hello"  # a fresh URL


def test_multipart_upload_joins_parts_in_order(api, client):
    parts = [os.urandom(1000), os.urandom(10), os.urandom(2000)]
    created = client.files.post_multipart(name="big.bin", num_parts=3)
    assert len(created.upload_urls) == 3
    for url, part in reversed(list(zip(created.upload_urls, parts))):
        assert requests.put(url, data=part).status_code == 200
    client.files.post_multipart_complete(created.id)
    info = client.files.get(created.id)
    assert info.file_size == 3010
    assert requests.get(info.file_url).content == b"".join(parts)


def test_multipart_complete_names_missing_parts(api, client):
    created = client.files.post_multipart(name="big.bin", num_parts=2)
    requests.put(created.upload_urls[1], data=b"x")
    r = requests.post(api.url + f"files/multipart/{created.id}/complete",
                      headers={"Authorization": f"Bearer {api.api_key}"})
    assert r.status_code == 400 and "parts 1 of 2 were not uploaded" in r.json()[
        "errorDescription"]


def test_part_url_refuses_tampering(api, client):
    created = client.files.post_multipart(name="b", num_parts=1)
    url = created.upload_urls[0].replace("/parts/0", "/parts/1")
    assert requests.put(url, data=b"x").status_code == 403


# -- logs, outputs, bodies, projects ------------------------------------------------
def test_logs_carry_paging_headers(api, client, clock):
    api.run_delays = (1.0, 1.0)
    job = client.scripts.post_containers(name="j", docker_image_name="img",
                                         required_resources={"cpu": 1, "memory": 1})
    run = client.scripts.post_containers_runs(job.id)
    url = api.url + f"jobs/{job.id}/runs/{run.id}/logs"
    auth = {"Authorization": f"Bearer {api.api_key}"}
    first = requests.get(url, headers=auth)
    assert first.headers["civis-cache-control"] == "no-store"
    assert first.headers["civis-max-id"] == str(max(x["id"] for x in first.json()))
    clock.now += 5
    done = requests.get(url, headers=auth, params={"last_id": 1})
    assert done.headers["civis-cache-control"] == "store"
    assert int(done.headers["civis-max-id"]) == max(x["id"] for x in done.json()) == 4


def test_run_outputs_are_named_after_their_object(api, client):
    fid = _upload(client, b"x", name="report.csv")
    job = client.scripts.post_containers(name="j", docker_image_name="img",
                                         required_resources={"cpu": 1, "memory": 1})
    run = client.scripts.post_containers_runs(job.id)
    out = client.scripts.post_containers_runs_outputs(job.id, run.id, "File", fid)
    assert out.name == "report.csv"
    assert [o.name for o in client.jobs.list_runs_outputs(job.id, run.id)] == ["report.csv"]


def test_snake_case_bodies_are_accepted(api):
    auth = {"Authorization": f"Bearer {api.api_key}"}
    r = requests.post(api.url + "scripts/containers", headers=auth, json={
        "name": "s", "docker_image_name": "img", "required_resources": {"cpu": 1, "memory": 2},
        "arguments": {"my_arg": 1}})
    assert r.ok, r.text
    body = r.json()
    assert body["dockerImageName"] == "img" and body["requiredResources"]["memory"] == 2
    assert body["arguments"] == {"my_arg": 1}  # free-form keys are kept
    shared = requests.put(api.url + f"scripts/containers/{body['id']}/shares/users",
                          headers=auth, json={"user_ids": [1], "permission_level": "read"})
    assert shared.status_code == 200, shared.text
    assert shared.json()["readers"]["users"][0]["id"] == 1


def test_project_lists_its_scripts_and_files(api, client):
    project = client.projects.post(name="p", description="d")
    job = client.scripts.post_containers(name="in project", docker_image_name="img",
                                         required_resources={"cpu": 1, "memory": 1})
    client.scripts.put_containers_projects(job.id, project.id)
    fid = _upload(client, b"x", name="f.txt")
    client.files.put_projects(fid, project.id)
    got = client.projects.get(project.id)
    assert [s.name for s in got.scripts] == ["in project"]
    assert [f.file_name for f in got.files] == ["f.txt"]
    client.scripts.delete_containers_projects(job.id, project.id)
    assert client.projects.get(project.id).scripts == []


# -- SQL -------------------------------------------------------------------------------
def test_query_runs_to_completion_with_preview(api, client):
    q = client.queries.post(1, "create table s.t (a int, b text); insert into s.t values "
                               "(1, 'x'), (2, null); select * from s.t order by a", 1)
    got = client.queries.get(q.id)
    assert got.state == "succeeded"
    assert got.result_columns == ["a", "b"] and got.result_rows == [["1", "x"]]


def test_failed_query_reports_the_engine_error(api, client):
    q = client.queries.post(1, "select * from missing_table", 10)
    got = client.queries.get(q.id)
    assert got.state == "failed" and "no such table: missing_table" in got.error


def test_unknown_database_names_the_candidates(api, client):
    q = client.queries.post(99, "select 1", 10)
    assert "Database 99 was not found; databases: 'local' (1)" in client.queries.get(q.id).error


def _sql_output(api, client, sql, **settings):
    script = client.scripts.post_sql("s", remote_host_id=1, credential_id=1, sql=sql,
                                     csv_settings=settings)
    run = client.scripts.post_sql_runs(script.id)
    got = client.scripts.get_sql_runs(script.id, run.id)
    assert got.state == "succeeded", got.error
    (out,) = got.output
    return out, requests.get(out.path).content


def test_sql_script_output_is_a_gzip_csv_with_header(api, client):
    out, raw = _sql_output(api, client, "select 1 as a, 'x,y' as b union all select 2, null")
    assert out.output_name.endswith(".csv.gz")
    assert gzip.decompress(raw) == b'a,b\n1,"x,y"\n2,\n'
    assert client.files.get(out.file_id).name == out.output_name


def test_sql_script_csv_settings(api, client):
    _, raw = _sql_output(api, client, "select 1 as a, 2 as b", compression="none",
                         column_delimiter="pipe", include_header=False)
    assert raw == b"1|2\n"
    _, raw = _sql_output(api, client, "select 1 as a", compression="zip")
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert zf.read(zf.namelist()[0]) == b"a\n1\n"


def test_sql_output_hidden_until_the_run_succeeds(api, client, clock):
    api.run_delays = (1.0, 1.0)
    script = client.scripts.post_sql("s", remote_host_id=1, credential_id=1, sql="select 1")
    run = client.scripts.post_sql_runs(script.id)
    assert client.scripts.get_sql_runs(script.id, run.id).output == []
    clock.now += 3
    assert len(client.scripts.get_sql_runs(script.id, run.id).output) == 1


def _import(client, fids, table="scratch.people", **kw):
    schema, name = table.split(".")
    job = client.imports.post_files_csv(
        {"file_ids": fids}, {"schema": schema, "table": name, "remote_host_id": 1,
                             "credential_id": 1}, kw.pop("first_row_is_header", True), **kw)
    run = client.jobs.post_runs(job.id)
    return client.jobs.get_runs(job.id, run.id)


def _rows(client, sql):
    q = client.queries.post(1, sql, 100)
    got = client.queries.get(q.id)
    assert got.state == "succeeded", got.error
    return got.result_rows


def test_csv_import_then_existing_table_rows(api, client):
    fid = _upload(client, b"name,age\nann,31\nbob,\n")
    assert _import(client, [fid]).state == "succeeded"
    assert _rows(client, "select * from scratch.people") == [["ann", "31"], ["bob", ""]]
    failed = _import(client, [fid])
    assert failed.state == "failed" and "already exists" in failed.error
    assert _import(client, [fid], existing_table_rows="append").state == "succeeded"
    assert _rows(client, "select count(*) from scratch.people") == [["4"]]
    assert _import(client, [fid], existing_table_rows="truncate").state == "succeeded"
    assert _rows(client, "select count(*) from scratch.people") == [["2"]]
    gz = _upload(client, gzip.compress(b"x|y\n1|2\n"))
    assert _import(client, [gz], existing_table_rows="drop", column_delimiter="pipe",
                   compression="gzip").state == "succeeded"
    assert _rows(client, "select * from scratch.people") == [["1", "2"]]


def test_csv_import_with_declared_columns_and_bad_rows(api, client):
    fid = _upload(client, b"1,a\n2,b,extra\n3,c\n")
    bad = _import(client, [fid], first_row_is_header=False)
    assert bad.state == "failed" and "1 rows did not have 2 columns" in bad.error
    ok = _import(client, [fid], first_row_is_header=False, max_errors=1,
                 table_columns=[{"name": "n", "sql_type": "INTEGER"},
                                {"name": "s", "sql_type": "VARCHAR(10)"}])
    assert ok.state == "succeeded", ok.error
    tables = client.tables.list()
    (people,) = [t for t in tables if t.name == "people"]
    assert (people.schema, people.row_count, people.column_count) == ("scratch", 2, 2)
    cols = client.tables.get(people.id).columns
    assert [(c.name, c.sql_type) for c in cols] == [("n", "INTEGER"), ("s", "VARCHAR(10)")]


def test_preprocess_detects_header_delimiter_and_types(api, client):
    fid = _upload(client, b"id\tprice\twhen\tok\n1\t2.5\t2024-01-02\ttrue\n2\t3\t2024-02-03\tf\n")
    job = client.files.post_preprocess_csv(fid, in_place=False, detect_table_columns=True)
    run = client.jobs.post_runs(job.id)
    (out,) = client.jobs.list_runs_outputs(job.id, run.id)
    assert out.object_id != fid
    info = client.files.get(out.object_id).detected_info
    assert (info.include_header, info.column_delimiter, info.compression) == (
        True, "tab", "none")
    assert [(c.name, c.sql_type) for c in info.table_columns] == [
        ("id", "INTEGER"), ("price", "DOUBLE PRECISION"), ("when", "DATE"), ("ok", "BOOLEAN")]


def test_export_writes_a_csv_file(api, client):
    job = client.exports.post_files_csv({"sql": "select 7 as n", "remote_host_id": 1},
                                        {"filename_prefix": "seven"}, compression="none")
    run = client.exports.post_files_csv_runs(job.id)
    assert client.exports.get_files_csv_runs(job.id, run.id).state == "succeeded"
    (out,) = client.jobs.list_runs_outputs(job.id, run.id)
    assert out.name == "seven.csv"
    assert requests.get(client.files.get(out.object_id).file_url).content == b"n\n7\n"


def test_dbsync_copies_a_table(api, client):
    _rows(client, "create table a.src as select 1 as x; select 1")
    job = client.imports.post("sync", "Dbsync", True, source={"remote_host_id": 1},
                              destination={"remote_host_id": 1})
    client.imports.post_syncs(job.id, {"path": "a.src"}, {"path": "b.dst"})
    run = client.imports.post_runs(job.id)
    assert client.imports.get_files_runs(job.id, run.run_id).state == "succeeded"
    assert _rows(client, "select * from b.dst") == [["1"]]


def test_schema_table_lookup_on_the_full_schema(real_spec_path):
    with LocalCivisAPI(spec=real_spec_path, run_delays=(0, 0)) as api:
        client = api.client()
        client.queries.post(1, "create table s.t (a int)", 1)
        got = client.databases.get_schemas_tables(1, "s", "t")
        assert (got.name, got.column_count) == ("t", 1)
        with pytest.raises(Exception) as e:
            client.databases.get_schemas_tables(1, "s", "nope")
        assert e.value.status_code == 404
        assert [s.schema for s in client.databases.list_schemas(1)] == ["s"]


# -- persistence ------------------------------------------------------------------------
def test_data_dir_keeps_state_across_restarts(tmp_path, clock):
    first_clock, second_clock = clock, type(clock)()
    second_clock.now = 5.0  # a new process: another clock origin
    with LocalCivisAPI(clock=first_clock, run_delays=(1.0, 1.0), data_dir=tmp_path) as api:
        client = api.client()
        fid = _upload(client, b"kept bytes", name="kept.txt")
        _rows_before = client.queries.post(1, "create table p.t as select 42 as x", 1)
        job = client.scripts.post_containers(name="j", docker_image_name="img",
                                             required_resources={"cpu": 1, "memory": 1})
        run = client.scripts.post_containers_runs(job.id)
        first_clock.now += 5
        assert client.scripts.get_containers_runs(job.id, run.id).state == "succeeded"
        created_at = client.files.get(fid).created_at
    assert (tmp_path / "state.pickle").is_file()
    with LocalCivisAPI(clock=second_clock, run_delays=(0, 0), data_dir=tmp_path) as api:
        client = api.client()
        info = client.files.get(fid)
        assert (info.name, info.created_at) == ("kept.txt", created_at)
        assert requests.get(info.file_url).content == b"kept bytes"
        assert _rows(client, "select x from p.t") == [["42"]]
        assert client.scripts.get_containers_runs(job.id, run.id).state == "succeeded"
        assert client.scripts.post_containers(name="k", docker_image_name="i",
                                              required_resources={"cpu": 1, "memory": 1}
                                              ).id > job.id
        assert _rows_before.id in [q.id for q in client.queries.list()]
