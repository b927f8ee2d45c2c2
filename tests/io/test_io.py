"""civis_dyn.io against LocalCivisAPI over real HTTP: files, JSON, SQL, tables, failures."""
import gzip
import io
import os
import sys
import zipfile

import pytest

import civis_dyn
import civis_dyn.io as cio
from civis_dyn.io import _files
from civis_dyn.testing import LocalCivisAPI

FAST = 0.01  # polling interval: runs finish at once (run_delays=(0, 0))


@pytest.fixture(scope="module")
def api():
    with LocalCivisAPI(run_delays=(0.0, 0.0)) as server:
        yield server


@pytest.fixture(scope="module")
def client(api):
    return api.client()


# -- files ---------------------------------------------------------------------------
def test_file_round_trip_from_path_and_buffer(client, tmp_path):
    data = os.urandom(200_000) + b"\r\n--x--\r\n"
    src = tmp_path / "data.bin"
    src.write_bytes(data)
    fid = cio.file_to_civis(src, client=client)
    assert client.files.get(fid).name == "data.bin"
    out = tmp_path / "copy.bin"
    cio.civis_to_file(fid, out, client=client)
    assert out.read_bytes() == data
    buf = io.BytesIO(b"prefix")
    buf.seek(0, io.SEEK_END)
    cio.civis_to_file(cio.file_to_civis(io.BytesIO(b"abc"), "abc.txt", client=client), buf,
                      client=client)
    assert buf.getvalue() == b"prefixabc"


def test_upload_of_a_stream_of_unknown_size(client):
    class Pipe:
        def __init__(self, blocks):
            self.blocks = list(blocks)

        def read(self, n=-1):
            return self.blocks.pop(0) if self.blocks else b""

        def seekable(self):
            return False

        def tell(self):
            raise OSError("not seekable")

    fid = cio.file_to_civis(Pipe([b"a" * 10, b"b" * 5]), "pipe.txt", client=client)
    buf = io.BytesIO()
    cio.civis_to_file(fid, buf, client=client)
    assert buf.getvalue() == b"a" * 10 + b"b" * 5


def test_json_round_trip(client):
    fid = cio.json_to_file({"a": [1, "é"], "b": None}, client=client)
    assert client.files.get(fid).name == "file.json"
    assert cio.file_to_json(fid, client=client) == {"a": [1, "é"], "b": None}


def test_multipart_upload_retries_a_failed_part(api, client, tmp_path, monkeypatch):
    monkeypatch.setattr(_files, "MIN_MULTIPART_SIZE", 1024)
    monkeypatch.setattr(cio._transfer, "time", type("T", (), {
        "sleep": staticmethod(lambda s: None), "monotonic": staticmethod(lambda: 0.0)}))
    data = os.urandom(12 * 2 ** 20 + 7)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    next_id = client.files.post("probe").id + 1
    part = f"/_local/files/{next_id}/parts/1"
    api.faults.script("PUT", part, [503])
    made = []
    real_progress = cio._transfer.TransferProgress
    monkeypatch.setattr(cio._transfer, "TransferProgress",
                        lambda *a: made.append(real_progress(*a)) or made[-1])
    fid = cio.file_to_civis(str(src), client=client)
    assert [(p.total, p.done) for p in made] == [(len(data), len(data))]  # the retry not counted twice
    assert fid == next_id
    assert api.count("PUT", part) == 2  # failed once, retried once
    assert api.count("POST", f"/files/multipart/{fid}/complete") == 1
    out = io.BytesIO()
    cio.civis_to_file(fid, out, client=client)
    assert out.getvalue() == data


def test_bad_sources_get_clear_errors(client, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        cio.file_to_civis(tmp_path / "missing.csv", client=client)
    with pytest.raises(IsADirectoryError, match="is a directory"):
        cio.file_to_civis(tmp_path, client=client)
    with pytest.raises(TypeError, match="needs a 'name'"):
        cio.file_to_civis(io.BytesIO(b"x"), client=client)
    with pytest.raises(ValueError, match="512"):
        cio.file_to_civis(io.BytesIO(b"x"), "x", description="d" * 513, client=client)


def test_expired_upload_url_is_reported(tmp_path):
    with LocalCivisAPI(run_delays=(0, 0), url_ttl=-1) as api:
        with pytest.raises(cio.StorageError, match="expired") as e:
            cio.file_to_civis(io.BytesIO(b"x"), "x", client=api.client())
        assert "signature" not in str(e.value)  # no presigned query string in the message


def test_download_of_a_file_without_contents(client):
    fid = client.files.post("never uploaded").id
    with pytest.raises(cio.EmptyResultError, match=f"Unable to locate file {fid}"):
        cio.civis_to_file(fid, io.BytesIO(), client=client)


def test_file_id_from_run_output(client):
    fid = cio.file_to_civis(io.BytesIO(b"x"), "model_output.csv", client=client)
    job = client.scripts.post_containers(name="j", docker_image_name="img",
                                         required_resources={"cpu": 1, "memory": 1})
    run = client.scripts.post_containers_runs(job.id)
    client.scripts.post_containers_runs_outputs(job.id, run.id, "File", fid)
    assert cio.file_id_from_run_output("model_output.csv", job.id, run.id, client=client) == fid
    assert cio.file_id_from_run_output(r"model_\w+", job.id, run.id, regex=True,
                                       client=client) == fid
    with pytest.raises(FileNotFoundError, match='File "other" is not an output'):
        cio.file_id_from_run_output("other", job.id, run.id, client=client)
    with pytest.raises(OSError, match="Could not find job/run ID"):
        cio.file_id_from_run_output("x", job.id, 999999, client=client)


# -- SQL ------------------------------------------------------------------------------
def test_query_civis_and_read_civis_sql(client):
    fut = cio.query_civis("create table q.t as select 1 as a, 'x' as b union all "
                          "select 2, null", "local", client=client, polling_interval=FAST)
    assert fut.result().state == "succeeded"
    got = cio.query_civis("select * from q.t order by a", 1, preview_rows=1, client=client,
                          polling_interval=FAST).result()
    assert got.result_columns == ["a", "b"] and got.result_rows == [["1", "x"]]
    assert cio.read_civis_sql("select * from q.t order by a", "local", client=client,
                              polling_interval=FAST) == [["a", "b"], ["1", "x"], ["2", ""]]
    assert cio.read_civis("q.t", "local", columns=["b"], client=client,
                          polling_interval=FAST) == [["b"], ["x"], [""]]


def test_failed_query_raises_with_its_error_text(client):
    with pytest.raises(civis_dyn.CivisJobFailure, match="no such table: nowhere"):
        cio.query_civis("select * from nowhere", "local", client=client,
                        polling_interval=FAST).result()
    with pytest.raises(civis_dyn.CivisJobFailure, match="no such table: nowhere"):
        cio.read_civis_sql("select * from nowhere", "local", client=client,
                           polling_interval=FAST)


def test_unknown_database_lists_the_candidates(client):
    with pytest.raises(ValueError, match="database 'nope' not found; databases: 'local'"):
        cio.read_civis_sql("select 1", "nope", client=client)


def test_statement_without_rows_has_no_result(client):
    with pytest.raises(cio.EmptyResultError, match="returned no output"):
        cio.read_civis_sql("create table q.empty (a int)", "local", client=client,
                           polling_interval=FAST)


@pytest.mark.parametrize("compression, header, read", [
    ("none", True, lambda p: p.read_bytes()),
    ("gzip", True, lambda p: p.read_bytes()),   # civis-python: gzip+header writes plain CSV
    ("gzip", False, lambda p: gzip.decompress(p.read_bytes())),
    ("zip", True, lambda p: zipfile.ZipFile(p).read("out.csv")),
])
def test_civis_to_csv(client, tmp_path, compression, header, read):
    target = tmp_path / ("out.zip" if compression == "zip" else "out.csv")
    fut = cio.civis_to_csv(str(target), "select 1 as a, 'x y' as b", "local", client=client,
                           compression=compression, include_header=header,
                           polling_interval=FAST)
    fut.result()
    assert read(target) == (b"a,b\n" if header else b"") + b"1,x y\n"


def test_civis_to_csv_delimiter_is_checked(client, tmp_path):
    with pytest.raises(ValueError, match="delimiter must be one of"):
        cio.civis_to_csv(str(tmp_path / "x.csv"), "select 1", "local", delimiter=";",
                         client=client)


def test_export_to_civis_file(client):
    run = cio.export_to_civis_file("select 3 as n", "local", client=client,
                                   csv_settings={"compression": "none"},
                                   polling_interval=FAST).result()
    buf = io.BytesIO()
    cio.civis_to_file(run["output"][0]["file_id"], buf, client=client)
    assert buf.getvalue() == b"n\n3\n"


# -- tables -----------------------------------------------------------------------------
def test_csv_to_civis_then_read_back(client, tmp_path):
    src = tmp_path / "people.csv"
    src.write_text("name,age\nann,31\nbob,40\n")
    fut = cio.csv_to_civis(str(src), "local", "imp.people", client=client,
                           polling_interval=FAST)
    assert fut.result().state == "succeeded"
    assert cio.read_civis("imp.people", "local", client=client, polling_interval=FAST) == [
        ["name", "age"], ["ann", "31"], ["bob", "40"]]
    (table,) = [t for t in client.tables.list() if t.name == "people"]
    assert [(c.name, c.sql_type) for c in client.tables.get(table.id).columns] == [
        ("name", "VARCHAR(3)"), ("age", "INTEGER")]
    with pytest.raises(civis_dyn.CivisJobFailure, match="already exists"):
        cio.csv_to_civis(str(src), "local", "imp.people", client=client,
                         polling_interval=FAST).result()
    cio.csv_to_civis(str(src), "local", "imp.people", existing_table_rows="append",
                     client=client, polling_interval=FAST).result()
    assert cio.read_civis_sql("select count(*) as n from imp.people", "local", client=client,
                              polling_interval=FAST) == [["n"], ["4"]]


def test_civis_file_to_table_with_several_files_and_columns(client):
    a = cio.file_to_civis(io.BytesIO(b"1|x\n"), "a.csv", client=client)
    b = cio.file_to_civis(io.BytesIO(gzip.compress(b"2|y\n")), "b.csv.gz", client=client)
    with pytest.raises(cio.CivisImportError, match="compression"):
        cio.civis_file_to_table([a, b], "local", "imp.two", client=client, headers=False,
                                delimiter="|", polling_interval=FAST)
    c = cio.file_to_civis(io.BytesIO(b"2|y\n"), "c.csv", client=client)
    cio.civis_file_to_table([a, c], "local", "imp.two", client=client, headers=False,
                            delimiter="|", table_columns=[
                                {"name": "n", "sql_type": "INTEGER"},
                                {"name": "s", "sql_type": "VARCHAR(5)"}],
                            polling_interval=FAST).result()
    assert cio.read_civis("imp.two", "local", client=client, polling_interval=FAST) == [
        ["n", "s"], ["1", "x"], ["2", "y"]]


def test_table_name_needs_a_schema(client):
    with pytest.raises(ValueError, match="has no schema"):
        cio.civis_file_to_table(1, "local", "people", client=client)
    with pytest.raises(ValueError, match="primary_keys are required"):
        cio.civis_file_to_table(1, "local", "s.people", existing_table_rows="upsert",
                                client=client)


def test_transfer_table(client):
    cio.query_civis("create table tr.src as select 5 as v", "local", client=client,
                    polling_interval=FAST).result()
    fut = cio.transfer_table("local", "local", "tr.src", "tr.dst", client=client,
                             polling_interval=FAST)
    assert fut.result().state == "succeeded"
    assert cio.read_civis("tr.dst", "local", client=client,
                          polling_interval=FAST) == [["v"], ["5"]]


def test_split_schema_tablename():
    assert cio.split_schema_tablename("a.b") == ("a", "b")
    assert cio.split_schema_tablename('"a.b".c') == ("a.b", "c")
    assert cio.split_schema_tablename("b") == (None, "b")
    with pytest.raises(ValueError, match="schema.table"):
        cio.split_schema_tablename("a.b.c")


# -- DataFrames -----------------------------------------------------------------------------
def test_dataframe_functions_say_how_to_install_pandas(client, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install 'civis-dyn\[pandas\]'"):
        cio.dataframe_to_civis(object(), "local", "s.t", client=client)
    with pytest.raises(ImportError, match="pandas"):
        cio.read_civis_sql("select 1", "local", return_as="pandas", client=client)
    with pytest.raises(ImportError, match="pandas"):
        cio.file_to_dataframe(1, client=client)


def test_dataframe_round_trip(client):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1, 2], "b": ["x", None]})
    cio.dataframe_to_civis(df, "local", "df.t", client=client, polling_interval=FAST).result()
    back = cio.read_civis("df.t", "local", return_as="pandas", client=client,
                          polling_interval=FAST)
    assert back["a"].tolist() == [1, 2] and back["b"].tolist()[0] == "x"
    fid = cio.dataframe_to_file(df, client=client, index=False)
    assert cio.file_to_dataframe(fid, client=client)["a"].tolist() == [1, 2]
