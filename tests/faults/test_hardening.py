"""Hardening (issue 17): a hostile cache, deep JSON, huge bodies, no home, bad settings.

Each test attacks one place the audit broke and asserts the clear outcome:
the cache refused or the bad file ignored, a ``SpecError`` or
``InvalidResponseError`` instead of a ``RecursionError``, a size limit that
stops the read, an error naming the argument. Each counts in the matrix tally.
"""

import gzip
import hashlib
import json
import math
import os
import stat
import threading
import warnings

import pytest

import civis_dyn
from civis_dyn import InvalidResponseError, SpecError
from civis_dyn._pipeline import SyncDriver
from civis_dyn._config import ClientConfig
from civis_dyn.spec import _cache, _source
from civis_dyn.spec._cache import DiskCache, default_cache_dir, index_entry_name
from civis_dyn.spec._source import key_fingerprint, load_api_spec_with_info
from civis_dyn.testing import Fault
from scaffold.isolation import isolated_schema_loading

BASE = "https://api.example.test/"
KEY = "hardening-key-7d1e"
DEEP = b"[" * 200_000 + b"]" * 200_000


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, tmp_path):
    """A private cache directory per test, no memory of other tests' schemas or warnings."""
    yield from isolated_schema_loading(monkeypatch, tmp_path, keep=("CIVIS_API_KEY",))


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"


def mini_client(mini_spec_path, **kw):
    kw.setdefault("api_key", KEY)
    kw.setdefault("base_url", BASE)
    return civis_dyn.APIClient(local_api_spec=str(mini_spec_path), **kw)


def index_path(cache_dir, mini_spec_path):
    return cache_dir / index_entry_name(hashlib.sha256(mini_spec_path.read_bytes()).hexdigest())


def rewrite_index(path, resource, name, entry):
    """Rewrite one method of a cached index (checksums and schema hash made to match)."""
    cache = DiskCache(path.parent)
    sha = path.name[len("index-v3-"):-len(".bin")]
    index = cache.read_index(sha)
    index[resource][name] = entry
    assert cache.write_index(sha, index)


def poison_index(path):
    """Rewrite ``things.get`` to send DELETE, as the audit did (the hash field left intact)."""
    rewrite_index(path, "things", "get", ["delete", "/things/{id}", None])


def sent_verbs(requests_mock):
    return [r.method for r in requests_mock.request_history]


# -- 1. the disk cache is trusted only when nobody else can write it ---------------------
def test_world_writable_cache_dir_is_refused_with_one_warning(mini_spec_path, cache_dir,
                                                              requests_mock, tally):
    tally.fault()
    mini_client(mini_spec_path)                       # a private cache: the index is written
    index = index_path(cache_dir, mini_spec_path)
    assert index.is_file()
    poison_index(index)
    os.chmod(cache_dir, 0o777)                         # a shared temporary directory
    _source.clear_memory_cache()
    requests_mock.get(BASE + "things/1", json={"id": 1})
    requests_mock.delete(BASE + "things/1", status_code=204)
    with pytest.warns(RuntimeWarning, match=r"writable by other users .*caching in memory "
                                            r"only") as caught:
        client = mini_client(mini_spec_path)
        mini_client(mini_spec_path, api_key="another-key")
    assert len([w for w in caught if "cache" in str(w.message)]) == 1
    assert client.things.get(1).id == 1
    assert sent_verbs(requests_mock) == ["GET"]
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o777   # left alone, never used


def test_rewritten_index_in_a_private_cache_is_refused(mini_spec_path, cache_dir, requests_mock,
                                                       tally):
    tally.fault()
    mini_client(mini_spec_path)
    poison_index(index_path(cache_dir, mini_spec_path))
    _source.clear_memory_cache()
    requests_mock.get(BASE + "things/1", json={"id": 1})
    requests_mock.delete(BASE + "things/1", status_code=204)
    client = mini_client(mini_spec_path)
    with pytest.warns(RuntimeWarning, match="corrupt .*not an index of this schema"):
        client.things.get(1)                              # checked when the resource is used
    assert sent_verbs(requests_mock) == ["GET"]
    sha = hashlib.sha256(mini_spec_path.read_bytes()).hexdigest()
    assert DiskCache(cache_dir).read_index(sha)["things"]["get"][0] == "get"  # rebuilt


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a directory to another user needs root")
def test_cache_dir_owned_by_another_user_is_refused(mini_spec_path, cache_dir, tally):
    tally.fault()
    cache_dir.mkdir(mode=0o700)
    os.chown(cache_dir, 4242, 4242)
    with pytest.warns(RuntimeWarning, match=r"owned by another user \(uid 4242\)"):
        client = mini_client(mini_spec_path)
    assert client.things is not None
    assert os.listdir(cache_dir) == []


def test_parent_writable_by_others_without_sticky_bit_is_refused(tmp_path, monkeypatch, tally):
    tally.fault()
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)                            # not sticky: others could rename ours
    cache = DiskCache(shared / "cache")
    with pytest.warns(RuntimeWarning, match="without the sticky bit"):
        assert cache.write("x.json", b"data") is False
    os.chmod(shared, 0o1777)                           # like /tmp: fine
    monkeypatch.setattr(_cache, "_WARNED", set())
    assert DiskCache(shared / "cache").write("x.json", b"data") is True


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs and symlinks")
@pytest.mark.parametrize("kind", ["symlink-to-dev-zero", "fifo", "symlink-to-a-good-copy"])
def test_special_files_in_the_cache_are_never_read(mini_spec_path, cache_dir, kind, tally):
    tally.fault()
    mini_client(mini_spec_path)
    index = index_path(cache_dir, mini_spec_path)
    good = index.read_bytes()
    index.unlink()
    if kind == "fifo":
        os.mkfifo(index, 0o600)                        # reading it would block forever
    elif kind == "symlink-to-dev-zero":
        os.symlink("/dev/zero", index)                 # reading it would never end
    else:
        copy = cache_dir.parent / "elsewhere.json"
        copy.write_bytes(good)
        os.chmod(copy, 0o600)
        os.symlink(copy, index)
    _source.clear_memory_cache()
    result = {}
    worker = threading.Thread(target=lambda: result.update(client=mini_client(mini_spec_path)),
                              daemon=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        worker.start()
        worker.join(20)
    assert not worker.is_alive(), "APIClient() hung on a special file in the cache"
    assert result["client"].things.get is not None
    assert any("corrupt" in str(w.message) for w in caught)
    assert stat.S_ISREG(os.lstat(index).st_mode)       # replaced by a regular file of our own


def test_cache_reads_are_bounded(cache_dir, monkeypatch, tally):
    tally.fault()
    monkeypatch.setenv("CIVIS_DYN_MAX_SCHEMA_BYTES", "1000")
    cache = DiskCache(cache_dir)
    assert cache.write("schema-v1-big.json", b" " * (3 << 20))
    with pytest.warns(RuntimeWarning, match="larger than"):
        assert cache.read_schema("schema-v1-big.json") is None
    assert not cache.path("schema-v1-big.json").exists()


def test_cache_reads_follow_the_clients_own_limit(cache_dir, monkeypatch, tally):
    tally.fault()
    monkeypatch.setenv("CIVIS_DYN_MAX_SCHEMA_BYTES", "1000")
    entry = b"x" * (3 << 20)  # over 1000 bytes plus the 1 MiB allowed for a header
    assert DiskCache(cache_dir).write("x.json", entry)
    with pytest.warns(RuntimeWarning, match="larger than"):
        assert DiskCache(cache_dir).read("x.json") is None  # the environment's limit
    assert DiskCache(cache_dir).write("x.json", entry)
    assert DiskCache(cache_dir, max_schema_bytes=4 << 20).read("x.json") == entry


def test_group_writable_entry_is_refused(cache_dir, tally):
    tally.fault()
    cache = DiskCache(cache_dir)
    assert cache.write("x.json", b"data")
    os.chmod(cache.path("x.json"), 0o666)
    with pytest.warns(RuntimeWarning, match="writable by other users"):
        assert cache.read("x.json") is None


def test_slice_of_another_resource_is_refused(tmp_path, tally):
    tally.fault()
    cache = DiskCache(tmp_path / "c")
    sha = "ab" * 32
    assert cache.write_index(sha, {"things": {}}, {"things": json.dumps(
        {"paths": {"/users/me": {"get": {}}}, "definitions": {}}).encode()})
    with pytest.warns(RuntimeWarning, match="not the slice of 'things'"):
        assert cache.read_slice(sha, "things") is None


# -- 10. no home directory ------------------------------------------------------------
def test_no_home_and_no_passwd_entry_runs_without_a_disk_cache(mini_spec_path, monkeypatch,
                                                               tally):
    tally.fault()
    import pwd

    for name in ("HOME", "XDG_CACHE_HOME", "CIVIS_DYN_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    assert default_cache_dir() is None
    with pytest.warns(RuntimeWarning, match="no home directory"):
        client = mini_client(mini_spec_path)
    assert "get" in dir(client.things)


# -- 5. deep JSON -------------------------------------------------------------------------
def test_deep_local_schema_file_is_a_spec_error(tmp_path, tally):
    tally.fault()
    path = tmp_path / "deep.json"
    path.write_bytes(DEEP)
    with pytest.raises(SpecError, match="nested too deeply"):
        civis_dyn.APIClient(api_key=KEY, local_api_spec=str(path), base_url=BASE)


def test_deep_schema_download_falls_back_to_the_stale_copy(mini_spec_path, requests_mock, tally):
    tally.fault()
    url = BASE + "endpoints"
    requests_mock.get(url, content=mini_spec_path.read_bytes())
    transport = SyncDriver.from_config(ClientConfig.resolve(api_key=KEY, base_url=BASE, retries=0))
    first, _ = load_api_spec_with_info(transport=transport, key_fingerprint=key_fingerprint(KEY))
    _source.clear_memory_cache()
    requests_mock.get(url, content=DEEP)
    with pytest.warns(RuntimeWarning, match="nested too deeply.*using the cached copy"):
        spec, info = load_api_spec_with_info(transport=transport, ttl=0,
                                             key_fingerprint=key_fingerprint(KEY))
    assert info.source == "stale-cache" and spec.sha256 == first.sha256


@pytest.mark.parametrize("status", [200, 500])
def test_deep_response_body_is_an_invalid_response_error(mini_spec_path, requests_mock, status,
                                                         tally):
    tally.fault()
    requests_mock.get(BASE + "things/1", content=DEEP, status_code=status)
    client = mini_client(mini_spec_path, retries=0)
    with pytest.raises(civis_dyn.CivisAPIError) as info:
        client.things.get(1)
    assert info.value.status_code == status
    if status == 200:
        assert isinstance(info.value, InvalidResponseError)
        assert "nested too deeply" in str(info.value)


def test_deep_cache_entry_header_is_corrupt_not_a_crash(cache_dir, tally):
    tally.fault()
    cache = DiskCache(cache_dir)
    cache.write("schema-v1-deep.json", DEEP[:1000] + b"\n{}")
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert cache.read_schema("schema-v1-deep.json") is None


# -- 6. size limits ---------------------------------------------------------------------
def _bomb(size):
    """gzip of a JSON array of ``size`` bytes (about 1,000 times smaller)."""
    return gzip.compress(b"[" + b"0," * ((size - 2) // 2) + b"0]", 9)


def _bomb_answer():
    """A fault answering a gzip bomb, as an answer of the shipped local API."""
    return Fault("answer", 200, body=_bomb(8 << 20),
                 headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})


def test_a_gzip_bomb_response_stops_at_the_limit(local_api, mini_spec_path, tally):
    tally.fault()
    thing = local_api.seed("/things", {"name": "after the bomb", "fromTemplateId": 0})
    local_api.faults.script("GET", f"/things/{thing['id']}", [_bomb_answer()])
    client = mini_client(mini_spec_path, api_key=local_api.api_key, base_url=local_api.url,
                         retries=0, max_response_bytes=1 << 20)
    with pytest.raises(InvalidResponseError, match=r"larger than 1048576 bytes .*"
                                                   r"max_response_bytes"):
        client.things.get(thing["id"])
    assert local_api.count("GET", f"/things/{thing['id']}") == 1 and local_api.faults.pending() == 0
    assert client.things.get(thing["id"]).name == "after the bomb"   # the client stays usable


def test_response_limit_from_the_environment(mini_spec_path, requests_mock, monkeypatch, tally):
    tally.fault()
    monkeypatch.setenv("CIVIS_DYN_MAX_RESPONSE_BYTES", "1k")
    requests_mock.get(BASE + "things/1", json={"id": 1, "name": "x" * 2000})
    client = mini_client(mini_spec_path)
    with pytest.raises(InvalidResponseError, match="CIVIS_DYN_MAX_RESPONSE_BYTES"):
        client.things.get(1)
    monkeypatch.setenv("CIVIS_DYN_MAX_RESPONSE_BYTES", "1M")
    assert mini_client(mini_spec_path).things.get(1).id == 1


def test_a_gzipped_local_schema_is_read_up_to_the_limit(tmp_path, monkeypatch, tally):
    tally.fault()
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(_bomb(4 << 20))
    monkeypatch.setenv("CIVIS_DYN_MAX_SCHEMA_BYTES", "1M")
    with pytest.raises(SpecError, match=r"larger than 1048576 bytes .*CIVIS_DYN_MAX_SCHEMA_BYTES"):
        civis_dyn.APIClient(api_key=KEY, local_api_spec=str(path), base_url=BASE)


def test_an_oversized_schema_download_falls_back(local_api, tally):
    tally.fault()
    bundle = civis_dyn.APIClient(api_key=None)   # what the fallback gives
    local_api.faults.script("GET", "/endpoints", [_bomb_answer()])
    with pytest.warns(RuntimeWarning, match=r"larger than 1048576 bytes.*bundled"):
        client = civis_dyn.APIClient(api_key=local_api.api_key, base_url=local_api.url,
                                     retries=0, max_schema_bytes=1 << 20)
    assert local_api.count("GET", "/endpoints") == 1 and local_api.faults.pending() == 0
    assert client.spec_info.source == "bundle"
    assert client.spec_info.sha256 == bundle.spec_info.sha256


@pytest.mark.parametrize("value", ["lots", "-5", "0", "1.5G"])
def test_a_bad_limit_setting_names_the_variable(mini_spec_path, monkeypatch, value, tally):
    tally.bad_input()
    monkeypatch.setenv("CIVIS_DYN_MAX_SCHEMA_BYTES", value)
    with pytest.raises(ValueError, match="CIVIS_DYN_MAX_SCHEMA_BYTES"):
        mini_client(mini_spec_path)


# -- 15. bad settings and arguments are refused at once, naming them ------------------------
def _deep(levels):
    root = node = {}
    for _ in range(levels):
        node["x"] = {}
        node = node["x"]
    return root


def _circular():
    d = {"a": 1}
    d["self"] = d
    return d


BAD_SETTINGS = [
    ({"timeout": "10"}, TypeError, "timeout"),
    ({"timeout": 0}, ValueError, "timeout"),
    ({"timeout": -1}, ValueError, "timeout"),
    ({"timeout": math.nan}, ValueError, "timeout"),
    ({"timeout": math.inf}, ValueError, "timeout"),
    ({"timeout": (5, "30")}, TypeError, "timeout (read)"),
    ({"timeout": (1, 2, 3)}, ValueError, "timeout"),
    ({"user_agent": "caf\u00e9 \u2603"}, ValueError, "user_agent"),
    ({"user_agent": "ok\r\nX-Injected: 1"}, ValueError, "user_agent"),
    ({"user_agent": 7}, TypeError, "user_agent"),
    ({"base_url": 123}, TypeError, "base_url"),
    ({"base_url": "ftp://api.example.test/"}, ValueError, "base_url"),
    ({"base_url": "api.example.test"}, ValueError, "base_url"),
    ({"base_url": "https://api.example.test:99999/"}, ValueError, "base_url"),
    ({"force_refresh_api_spec": "no"}, TypeError, "force_refresh_api_spec"),
    ({"allow_insecure_http": 1}, TypeError, "allow_insecure_http"),
    ({"max_schema_bytes": "64M"}, TypeError, "max_schema_bytes"),
    ({"max_response_bytes": 0}, ValueError, "max_response_bytes"),
    ({"api_key": 12345}, TypeError, "api_key"),
]


@pytest.mark.parametrize("settings,kind,name", BAD_SETTINGS,
                         ids=[f"{next(iter(s))}={next(iter(s.values()))!r}"[:40]
                              for s, _, _ in BAD_SETTINGS])
def test_bad_client_settings_are_refused_naming_them(mini_spec_path, settings, kind, name,
                                                     tally):
    tally.bad_input()
    with pytest.raises(kind) as info:
        mini_client(mini_spec_path, **settings)
    assert not isinstance(info.value, RecursionError)
    assert name in str(info.value)


@pytest.mark.parametrize("env", ["CIVIS_JOB_ID", "CIVIS_RUN_ID"])
@pytest.mark.parametrize("value", ["j\u00f6b-\u2603", "1\r\nX-Injected: yes"])
def test_header_environment_variables_that_cannot_travel_are_refused(mini_spec_path, monkeypatch,
                                                                      env, value, tally):
    tally.bad_input()
    monkeypatch.setenv(env, value)
    with pytest.raises(ValueError, match=env):
        mini_client(mini_spec_path)


BAD_POLICIES = [
    ({"max_attempts": "3"}, TypeError, "max_attempts"),
    ({"max_attempts": 0}, ValueError, "max_attempts"),
    ({"max_attempts": 2.0}, TypeError, "max_attempts"),
    ({"max_elapsed": math.nan}, ValueError, "max_elapsed"),
    ({"backoff_base": -1}, ValueError, "backoff_base"),
    ({"backoff_max": "60"}, TypeError, "backoff_max"),
    ({"idempotent_statuses": "503"}, TypeError, "idempotent_statuses"),
    ({"other_statuses": {429, "503"}}, TypeError, "other_statuses"),
]


@pytest.mark.parametrize("fields,kind,name", BAD_POLICIES)
def test_bad_retry_policies_are_refused_naming_the_field(fields, kind, name, tally):
    tally.bad_input()
    with pytest.raises(kind, match=name):
        civis_dyn.RetryPolicy(**fields)


def test_retry_policy_statuses_may_be_any_collection_of_ints():
    policy = civis_dyn.RetryPolicy(idempotent_statuses=[502, 503], other_statuses=(429,))
    assert policy.idempotent_statuses == frozenset({502, 503})
    assert policy.retries_status("POST", 429) and not policy.retries_status("POST", 503)


BAD_ARGUMENTS = [
    (lambda c: c.things.get(10 ** 5000), "things.get()", "id"),
    (lambda c: c.things.get("9" * 5000), "things.get()", "id"),
    (lambda c: c.things.get(2 ** 63), "things.get()", "id"),
    (lambda c: c.things.list(limit=-(2 ** 64)), "things.list()", "limit"),
    (lambda c: c.things.post("n", 1, arguments=_deep(200_000)), "things.post()", "arguments"),
    (lambda c: c.things.post("n", 1, arguments=_circular()), "things.post()", "arguments"),
    (lambda c: c.things.post("n", 1, arguments={"big": 10 ** 5000}), "things.post()",
     "arguments"),
]


@pytest.mark.parametrize("call,label,name", BAD_ARGUMENTS)
def test_bad_arguments_are_refused_before_sending(mini_spec_path, requests_mock, call, label,
                                                  name, tally):
    tally.bad_input()
    client = mini_client(mini_spec_path)
    with pytest.raises((TypeError, ValueError)) as info:
        call(client)
    assert isinstance(info.value, civis_dyn.CivisDynError), repr(info.value)
    assert label in str(info.value) and f"'{name}" in str(info.value)
    assert requests_mock.call_count == 0


def test_shared_but_not_circular_values_are_accepted(mini_spec_path, requests_mock):
    requests_mock.post(BASE + "things/", json={"id": 1})
    shared = {"k": [1, 2]}
    mini_client(mini_spec_path).things.post("n", 1, arguments={"a": shared, "b": shared,
                                                               "deep": _deep(90)})
    assert requests_mock.last_request.json()["arguments"]["b"] == {"k": [1, 2]}


# -- 7. help() stays small for a schema that branches at every level ---------------------------
def branching_schema(width=5, depth=8):
    """A small schema (a few kB) whose every property refers to a wide definition again."""
    definitions = {}
    for level in range(depth):
        target = {"$ref": f"#/definitions/D{level + 1}"} if level + 1 < depth else {"type": "string"}
        definitions[f"D{level}"] = {"type": "object", "properties": {
            f"field{i}": {**target, "description": f"Field {i} of level {level}."}
            if "type" in target else target for i in range(width)}}
    return {
        "swagger": "2.0", "info": {"title": "wide", "version": "1"},
        "paths": {"/wides/{id}": {"get": {
            "summary": "Get a wide thing",
            "parameters": [{"name": "id", "in": "path", "required": True, "type": "integer"}],
            "responses": {"200": {"description": "ok", "schema": {"$ref": "#/definitions/D0"}}},
        }}},
        "definitions": definitions,
    }


def test_docstring_of_a_widely_branching_schema_is_bounded(tally):
    tally.fault()
    from civis_dyn.spec._docs import MAX_FIELD_LINES, TRUNCATED_NOTE

    document = branching_schema()
    assert len(json.dumps(document)) < 10_000
    client = civis_dyn.APIClient(api_key=KEY, local_api_spec=document, base_url=BASE)
    doc = client.wides.get.__doc__
    assert doc.count("\n") <= MAX_FIELD_LINES + 50
    assert len(doc) < 1_000_000
    assert TRUNCATED_NOTE in doc
    assert "- field4 : " in doc                         # what fits is still shown


def test_docstrings_of_ordinary_schemas_are_not_truncated(mini_spec_path):
    from civis_dyn.spec._docs import TRUNCATED_NOTE

    client = mini_client(mini_spec_path)
    assert TRUNCATED_NOTE not in client.things.post.__doc__


# -- 13. endless pagination ---------------------------------------------------------------------
def _page(first_id, n=2):
    return [{"id": i, "name": f"thing {i}"} for i in range(first_id, first_id + n)]


def test_a_server_that_ignores_page_num_is_stopped(mini_spec_path, requests_mock, tally):
    tally.fault()
    requests_mock.get(BASE + "things/", json=_page(1),
                      headers={"X-Pagination-Total-Pages": "1000000000"})
    items = mini_client(mini_spec_path).things.list(iterator=True, limit=2)
    with pytest.raises(InvalidResponseError, match="page 2 .* repeats page 1"):
        list(items)
    assert requests_mock.call_count == 2


def test_a_later_page_repeating_an_earlier_one_is_stopped(mini_spec_path, requests_mock, tally):
    tally.fault()
    pages = {1: _page(1), 2: _page(3), 3: _page(1)}
    requests_mock.get(BASE + "things/", json=lambda request, context: pages[
        int(request.qs["page_num"][0])])
    with pytest.raises(InvalidResponseError, match="page 3 .* repeats page 1"):
        list(mini_client(mini_spec_path).things.list(iterator=True, limit=2))


def test_pages_are_bounded_by_the_first_answers_total(mini_spec_path, requests_mock, tally):
    tally.fault()

    def answer(request, context):
        page = int(request.qs["page_num"][0])
        context.headers["X-Pagination-Total-Pages"] = str(3 if page == 1 else 10 ** 9)
        return _page(2 * page - 1)

    requests_mock.get(BASE + "things/", json=answer)
    items = list(mini_client(mini_spec_path).things.list(iterator=True, limit=2))
    assert [i.id for i in items] == [1, 2, 3, 4, 5, 6]
    assert requests_mock.call_count == 3


# -- 17. API text printed by the CLI carries no terminal escapes ---------------------------------
OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"        # writes "rm -rf ~" to the clipboard
CSI_CLEAR = "\x9b2J"                         # an 8-bit CSI: clear the screen


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
def test_cli_output_shows_escape_sequences_instead_of_sending_them(mini_spec_path, requests_mock,
                                                                  monkeypatch, fmt, tally):
    tally.fault()
    if fmt == "yaml":
        pytest.importorskip("yaml")
    from click.testing import CliRunner

    from civis_dyn.cli import cli

    for name, value in (("CIVIS_API_KEY", KEY), ("CIVIS_API_ENDPOINT", BASE),
                        ("CIVIS_DYN_SPEC", str(mini_spec_path))):
        monkeypatch.setenv(name, value)
    requests_mock.get(BASE + "things/", json=[
        {"id": 1, "name": f"evil{OSC52}name", f"k{CSI_CLEAR}": "x\u202eright-to-left"}])
    result = CliRunner().invoke(cli, ["things", "list", "-o", fmt], prog_name="civis-dyn")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert not any(c in out for c in "\x1b\x07\x9b\u202e"), repr(out)
    assert "]52;c;" in out                            # shown, as visible escapes


def test_cli_error_messages_show_escape_sequences_instead_of_sending_them(
        mini_spec_path, requests_mock, monkeypatch, tally):
    tally.fault()
    from click.testing import CliRunner

    from civis_dyn.cli import cli

    for name, value in (("CIVIS_API_KEY", KEY), ("CIVIS_API_ENDPOINT", BASE),
                        ("CIVIS_DYN_SPEC", str(mini_spec_path))):
        monkeypatch.setenv(name, value)
    requests_mock.get(BASE + "things/1", status_code=404,
                      json={"errorDescription": f"no such thing{OSC52}"})
    result = CliRunner().invoke(cli, ["things", "get", "1"], prog_name="civis-dyn")
    assert result.exit_code == 1
    assert "no such thing" in result.stderr and "\x1b" not in result.stderr


# -- 18. schema paths that would leave the base URL's path prefix ----------------------------------
@pytest.mark.parametrize("path", ["/things/../admin/keys", "/things/%2e%2e/admin",
                                  "/things/%252E%252E/admin", "/things/.%2e/{id}",
                                  "/things/a%2Fb", "/things/x?admin=1", "/things/./x"])
def test_schema_paths_that_escape_the_base_url_are_refused(mini_spec_path, path, tally):
    tally.fault()
    document = json.loads(mini_spec_path.read_bytes())
    document["paths"][path] = {"get": {"responses": {"200": {"description": "ok"}}}}
    with pytest.raises(SpecError, match="could leave the API's base URL"):
        civis_dyn.APIClient(api_key=KEY, local_api_spec=document,
                            base_url="https://host.example.test/api/v1/")


def test_an_escaping_path_in_a_cached_index_is_refused(mini_spec_path, cache_dir, tally):
    tally.fault()
    mini_client(mini_spec_path)
    rewrite_index(index_path(cache_dir, mini_spec_path), "things", "list_.._admin",
                  ["get", "/things/../admin", None])
    _source.clear_memory_cache()
    client = mini_client(mini_spec_path)
    with pytest.warns(RuntimeWarning, match="not an index of this schema"):
        assert "list_.._admin" not in dir(client.things)  # checked when the resource is used


# -- 14. the local server answers hostile requests, and never holds keyless bodies ---------------
@pytest.fixture
def local_api(mini_spec_path):
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(spec=str(mini_spec_path), api_key=KEY) as api:
        yield api


def _exchange(api, request, timeout=10):
    import socket

    with socket.create_connection(("127.0.0.1", api.port), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


def test_local_api_answers_a_5000_digit_id(local_api, tally):
    tally.fault()
    answer = _exchange(local_api, b"GET /things/" + b"9" * 5000 + b" HTTP/1.1\r\nHost: x\r\n"
                                  b"Authorization: Bearer " + KEY.encode() + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:100]


def test_local_api_refuses_a_negative_chunk_size(local_api, tally):
    tally.fault()
    answer = _exchange(local_api, b"POST /things/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                                  + KEY.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  b"-1\r\n" + b"x" * 1000)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:100]


def test_local_api_checks_the_key_before_reading_the_body(local_api, tally):
    tally.fault()
    # a keyless request announcing 60 MB, of which nothing is sent: answered at once
    answer = _exchange(local_api, b"POST /things/ HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Length: 60000000\r\n\r\n", timeout=5)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:100]
