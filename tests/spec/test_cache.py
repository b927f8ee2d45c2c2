"""The disk cache: entry formats, integrity checks, atomic private files, degraded modes."""

import hashlib
import json
import os
import stat
import types
import threading
import warnings

import pytest

from civis_dyn.spec import _cache
from civis_dyn.spec._cache import (
    CachedSchema,
    DiskCache,
    default_cache_dir,
    index_entry_name,
    schema_entry_name,
)

SCHEMA = b'{"swagger": "2.0", "paths": {}}'
INDEX = {"widgets": {"list": ["get", "/widgets/", None], "get": ["get", "/widgets/{id}", None]}}


@pytest.fixture(autouse=True)
def _fresh_warning_memory(monkeypatch):
    # each test sees the once-per-process warnings afresh
    monkeypatch.setattr(_cache, "_WARNED", set())


def entry(raw=SCHEMA, **kw):
    fields = {"fetched_at": 1000.0, "etag": '"abc"',
              "last_modified": "Mon, 01 Jan 2024 00:00:00 GMT",
              "base_url": "https://api.example.test/", "api_version": "1.0", **kw}
    return CachedSchema.from_download(raw, **fields)


# -- names and places ----------------------------------------------------------
def test_cache_dir_prefers_explicit_env_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("CIVIS_DYN_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "xdg" / "civis_dyn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "civis_dyn"


def test_schema_entry_name_is_per_base_version_and_key_and_hides_the_fingerprint():
    fingerprint = hashlib.sha256(b"secret-key").hexdigest()
    name = schema_entry_name("https://api.example.test/", "1.0", fingerprint)
    assert name.startswith("schema-v1-") and name.endswith(".json")
    assert fingerprint not in name and fingerprint[:12] not in name
    others = {schema_entry_name("https://other.example.test/", "1.0", fingerprint),
              schema_entry_name("https://api.example.test/", "2.0", fingerprint),
              schema_entry_name("https://api.example.test/", "1.0", "0" * 64)}
    assert name not in others and len(others) == 3
    assert name == schema_entry_name("https://api.example.test/", "1.0", fingerprint)


# -- the schema entry format ----------------------------------------------------
def test_cached_schema_round_trips_with_its_validators():
    original = entry()
    assert original.sha256 == hashlib.sha256(SCHEMA).hexdigest()
    restored = CachedSchema.from_bytes(original.to_bytes())
    assert restored == original
    assert restored.validators() == {"If-None-Match": '"abc"',
                                     "If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}
    assert entry(etag=None, last_modified=None).validators() == {}


def test_renewed_entry_keeps_its_bytes_and_validators():
    original = entry()
    renewed = original.renewed(2000.0)
    assert renewed.fetched_at == 2000.0
    assert renewed.raw is original.raw and renewed.etag == original.etag


@pytest.mark.parametrize("damage, reason", [
    (lambda data: data[: len(data) - 7], "truncated"),
    (lambda data: data.split(b"\n", 1)[0][:20], "truncated"),
    (lambda data: b"\x00\xff garbage \x13" * 50, "not a cache entry"),
    (lambda data: b"[1, 2]\n" + SCHEMA, "unreadable header"),
    (lambda data: data.replace(b'"paths"', b'"pathz"'), "sha256 mismatch"),
    (lambda data: b'{"format": "civis_dyn.schema/1"}\n' + SCHEMA, "incomplete header"),
])
def test_damaged_entries_are_rejected_with_the_reason(damage, reason):
    with pytest.raises(ValueError, match=reason):
        CachedSchema.from_bytes(damage(entry().to_bytes()))


def test_entry_of_another_civis_dyn_format_is_ignored_not_corrupt():
    data = b'{"format": "civis_dyn.schema/99"}\n' + SCHEMA
    assert CachedSchema.from_bytes(data) is None


# -- files ------------------------------------------------------------------------
def test_write_creates_private_dir_and_files_atomically(tmp_path):
    cache = DiskCache(tmp_path / "a" / "cache")
    assert cache.write("one.json", b"first")
    assert cache.write("one.json", b"second")
    assert cache.read("one.json") == b"second"
    assert stat.S_IMODE(os.stat(cache.directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache.path("one.json")).st_mode) == 0o600
    assert sorted(os.listdir(cache.directory)) == ["one.json"]  # no temporary file left


def test_concurrent_writers_leave_one_whole_file(tmp_path):
    cache = DiskCache(tmp_path)
    payloads = [bytes([65 + i]) * 200_000 for i in range(8)]
    start = threading.Barrier(len(payloads))

    def write(payload):
        start.wait(10)
        assert cache.write("shared.bin", payload)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert cache.read("shared.bin") in payloads
    assert os.listdir(tmp_path) == ["shared.bin"]


def test_unusable_directory_degrades_with_one_warning(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    cache = DiskCache(blocker / "cache")  # its parent is a file: cannot be created
    with pytest.warns(RuntimeWarning, match="caching in memory only") as caught:
        assert cache.write("x.json", b"data") is False
        assert DiskCache(blocker / "cache").write("y.json", b"data") is False
    assert len(caught) == 1
    assert cache.read("x.json") is None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_directory_degrades_with_a_warning(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    try:
        with pytest.warns(RuntimeWarning, match="not writable"):
            assert DiskCache(folder).write("x.json", b"data") is False
    finally:
        folder.chmod(0o700)


def test_remove_of_a_missing_entry_is_quiet(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DiskCache(tmp_path).remove("nothing.json")


# -- schema and index entries ------------------------------------------------------
def test_read_schema_returns_the_written_entry(tmp_path):
    cache = DiskCache(tmp_path)
    assert cache.write_schema("schema-v1-x.json", entry())
    assert cache.read_schema("schema-v1-x.json") == entry()
    assert cache.read_schema("schema-v1-missing.json") is None


def test_corrupt_schema_entry_is_reported_and_removed(tmp_path):
    cache = DiskCache(tmp_path)
    cache.write_schema("schema-v1-x.json", entry())
    data = cache.read("schema-v1-x.json")
    cache.path("schema-v1-x.json").write_bytes(data[:-100])
    with pytest.warns(RuntimeWarning, match=r"corrupt \(truncated"):
        assert cache.read_schema("schema-v1-x.json") is None
    assert not cache.path("schema-v1-x.json").exists()


def test_index_round_trip_is_keyed_by_schema_hash(tmp_path):
    cache = DiskCache(tmp_path)
    sha = hashlib.sha256(SCHEMA).hexdigest()
    assert cache.write_index(sha, INDEX)
    assert cache.read_index(sha) == INDEX
    assert cache.read_index("0" * 64) is None
    assert stat.S_IMODE(os.stat(cache.path(index_entry_name(sha))).st_mode) == 0o600


def _index_file(cache, sha, index):
    cache.write_index(sha, index)
    return cache.path(index_entry_name(sha)).read_bytes()


@pytest.mark.parametrize("content", [
    lambda cache, sha: b'{"format": "civis_dyn.index/3", "schema_sha256": "',     # truncated
    lambda cache, sha: _index_file(cache, "f" * 64, INDEX),                     # another schema
    lambda cache, sha: _index_file(cache, sha, {"widgets": {"list": ["fetch", "/widgets/", None]}}),
    lambda cache, sha: _index_file(cache, sha, INDEX)[:-3],                     # a part cut short
    lambda cache, sha: json.dumps({"format": "civis_dyn.index/3", "schema_sha256": sha,
                                   "resources": ["x"]}).encode() + b"\n",
    lambda cache, sha: json.dumps({"format": "civis_dyn.index/3", "schema_sha256": sha,
                                   "resources": "b/a"}).encode() + b"\n" + b"0" * 200,
])
def test_bad_index_files_are_reported_and_removed(tmp_path, content):
    cache = DiskCache(tmp_path)
    sha = hashlib.sha256(SCHEMA).hexdigest()
    data = content(cache, sha)
    for name in os.listdir(tmp_path):
        os.unlink(tmp_path / name)
    cache.path(index_entry_name(sha)).write_bytes(data)
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert cache.read_index(sha) is None
    assert not cache.path(index_entry_name(sha)).exists()


def _info(**changes):
    fields = {"st_dev": 1, "st_ino": 2, "st_size": 31, "st_mtime_ns": 10**18,
              "st_ctime_ns": 10**18, "st_mtime": 1e9, "st_ctime": 1e9}
    return types.SimpleNamespace(**{**fields, **changes})


def test_a_file_stamp_gives_the_hash_until_the_file_changes(tmp_path):
    cache = DiskCache(tmp_path / "cache")
    path = str(tmp_path / "schema.json")
    sha = hashlib.sha256(SCHEMA).hexdigest()
    assert cache.known_digest(path, _info()) is None
    assert cache.remember_digest(path, _info(), sha, len(SCHEMA))
    assert cache.known_digest(path, _info()) == sha
    assert cache.known_digest(str(tmp_path / "other.json"), _info()) is None
    for change in ({"st_size": 32}, {"st_mtime_ns": 10**18 + 1}, {"st_ino": 3},
                   {"st_dev": 2}, {"st_ctime_ns": 10**18 + 1}):  # e.g. rewritten, same mtime
        assert cache.known_digest(path, _info(**change)) is None, change


def test_a_file_changed_within_the_racy_window_gets_no_stamp(tmp_path):
    cache = DiskCache(tmp_path / "cache")
    schema = tmp_path / "schema.json"
    schema.write_bytes(SCHEMA)
    info = os.stat(schema)                                # modified just now
    assert not cache.remember_digest(str(schema), info, "0" * 64, len(SCHEMA))
    assert cache.known_digest(str(schema), info) is None
    later = info.st_ctime + 10
    assert cache.remember_digest(str(schema), info, "0" * 64, len(SCHEMA), now=later)


def test_prune_keeps_the_most_recent_entries_and_drops_leftovers(tmp_path):
    cache = DiskCache(tmp_path)
    for age, name in enumerate(["schema-v1-a.json", "schema-v1-b.json", "schema-v1-c.json",
                                "index-v3-a.bin", "index-v3-b.bin", "index-v1-old.json",
                                ".schema-v1-a.json.x.tmp", "notes.txt"]):
        path = cache.path(name)
        path.write_bytes(b"x")
        os.utime(path, (10_000 - age * 1000, 10_000 - age * 1000))
    fresh_tmp = cache.path(".index-v3-a.bin.y.tmp")
    fresh_tmp.write_bytes(b"x")
    os.utime(fresh_tmp, (12_000, 12_000))
    removed = cache.prune(keep_schemas=2, keep_indexes=1, now=12_000)
    assert sorted(removed) == [".schema-v1-a.json.x.tmp", "index-v1-old.json", "index-v3-b.bin",
                               "schema-v1-c.json"]
    assert sorted(os.listdir(tmp_path)) == [".index-v3-a.bin.y.tmp", "index-v3-a.bin", "notes.txt",
                                            "schema-v1-a.json", "schema-v1-b.json"]


def test_reading_an_index_marks_it_recently_used(tmp_path):
    cache = DiskCache(tmp_path)
    sha = hashlib.sha256(SCHEMA).hexdigest()
    cache.write_index(sha, INDEX)
    os.utime(cache.path(index_entry_name(sha)), (1000, 1000))
    cache.read_index(sha)
    assert os.stat(cache.path(index_entry_name(sha))).st_mtime > 1000


def test_prune_of_a_missing_directory_is_a_no_op(tmp_path):
    assert DiskCache(tmp_path / "nothing").prune() == []
