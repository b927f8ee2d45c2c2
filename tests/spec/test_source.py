"""Schema sources: memory and disk caches, ``/endpoints`` with ETags, fallbacks, ``cache_api_spec``.

Most tests talk real HTTP to the shipped :class:`~civis_dyn.testing.LocalCivisAPI`
on 127.0.0.1, serving a small widget schema (``publish_spec`` swaps it while
serving, its request record shows the conditional headers and statuses,
``faults.gather`` makes concurrent refreshes really concurrent); a few use
``requests-mock`` for retries; the ``*_process*`` tests run fresh Python
processes that share one cache directory.
"""

import hashlib
import inspect
import json
import os
import stat
import subprocess
import sys
import threading
import warnings

import pytest
from scaffold.clock import FakeClock
from scaffold.isolation import isolated_schema_loading
from scaffold.schemas import INTEGER, STRING, array, document, obj, op, param

import civis_dyn
from civis_dyn import CivisAPIError, CivisAPIKeyError, CivisConnectionError, RetryPolicy
from civis_dyn._config import ClientConfig
from civis_dyn._pipeline import SyncDriver
from civis_dyn.spec import _cache, _source
from civis_dyn.spec._cache import CachedSchema, DiskCache, index_entry_name
from civis_dyn.spec._source import (
    bundled_spec_path,
    key_fingerprint,
    load_api_spec,
    load_api_spec_with_info,
    spec_ttl,
)
from civis_dyn.testing import Fault, LocalCivisAPI

KEY = "test-key-5f1d8c0a9e7b4c26"
ENV_NAMES = ("CIVIS_API_KEY", "CIVIS_API_ENDPOINT", "CIVIS_DYN_SPEC_TTL", "CIVIS_DYN_CACHE_DIR")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No real home cache, no inherited settings, no memory of other tests."""
    yield from isolated_schema_loading(monkeypatch, tmp_path)


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"


def widget_schema(*, with_runs=False):
    """A small Swagger 2.0 schema: ``widgets`` with ``list`` and ``get``.

    ``with_runs=True`` adds ``POST /widgets/{id}/runs`` (method ``post_runs``).
    """
    id_param = param("id", "path", "integer", description="The widget's ID.")
    paths = {
        "/widgets/": {"get": op(array("Widget"), param("limit", kind="integer", required=False,
                                                       description="How many."),
                                summary="List widgets")},
        "/widgets/{id}": {"get": op("Widget", id_param, summary="Get a widget")},
    }
    if with_runs:
        paths["/widgets/{id}/runs"] = {"post": op("Widget", id_param, summary="Start a run")}
    return document(paths, {"Widget": obj(id=INTEGER, name=STRING)}, title="Widgets",
                    version="1.0")


def widget_api():
    """A started local API serving :func:`widget_schema`, holding widgets 1, 3 and 7."""
    api = LocalCivisAPI(widget_schema(), KEY).start()
    for number in (1, 3, 7):
        api.seed("/widgets", {"id": number, "name": "w"})
    return api


@pytest.fixture
def server():
    api = widget_api()
    yield api
    api.stop()


def endpoint_requests(api):
    """The ``GET /endpoints`` requests ``api`` received, oldest first."""
    return [r for r in api.requests if r.path == "/endpoints"]


def downloads(api):
    """How many ``/endpoints`` answers sent the whole schema (200)."""
    return sum(r.status == 200 for r in endpoint_requests(api))


def not_modified(api):
    """How many ``/endpoints`` answers were ``304 Not Modified`` (no schema bytes)."""
    return sum(r.status == 304 for r in endpoint_requests(api))


def serve_errors(api, fault):
    """Answer every ``/endpoints`` request of ``api`` with ``fault`` from now on."""
    api.faults.random(1.0, actions=(fault,), paths=["/endpoints"])


CAPTIVE_PORTAL = Fault("answer", 200, body=b"<html>sign in to the wifi</html>",
                       headers={"Content-Type": "text/html"})


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    """A bundled schema (the widget schema with runs) in place of the package's."""
    path = tmp_path / "bundle" / "civis_api_spec.json"
    path.parent.mkdir()
    path.write_text(json.dumps(widget_schema(with_runs=True)))
    monkeypatch.setattr(_source, "bundled_spec_path", lambda: path)
    return path


@pytest.fixture
def no_bundle(tmp_path, monkeypatch):
    monkeypatch.setattr(_source, "bundled_spec_path", lambda: tmp_path / "absent.json")


def client(server, **kw):
    return civis_dyn.APIClient(api_key=kw.pop("api_key", KEY), base_url=server.url, retries=0, **kw)


def load(server, *, clock=None, key=KEY, **kw):
    """Load the live schema through a transport, with an injectable clock."""
    transport = SyncDriver.from_config(ClientConfig.resolve(api_key=key, base_url=server.url,
                                                            retries=0))
    extra = {"clock": clock} if clock is not None else {}
    return load_api_spec_with_info(transport=transport, key_fingerprint=key_fingerprint(key),
                                   **extra, **kw)


def schema_files(cache_dir):
    return sorted(p.name for p in cache_dir.iterdir() if p.name.startswith("schema-"))


def the_entry(cache_dir):
    (name,) = schema_files(cache_dir)
    return CachedSchema.from_bytes((cache_dir / name).read_bytes())


# -- resolution order, in one process ---------------------------------------------
def test_first_client_downloads_once_then_clients_share_memory(server, cache_dir):
    first = client(server)
    second = client(server)
    assert downloads(server) == 1 and len(endpoint_requests(server)) == 1
    assert first.spec_info.source == "download"
    assert first.spec_info.location == server.url + "endpoints"
    assert second.spec_info.source == "memory"
    assert first.meta.spec is second.meta.spec
    assert first.widgets.get(7)["name"] == "w"
    assert first.spec_info.sha256 == hashlib.sha256(server.spec_bytes).hexdigest()
    assert first.spec_info.age < 60
    assert len(schema_files(cache_dir)) == 1


def test_fresh_disk_entry_is_used_without_a_request(server, cache_dir):
    client(server)
    _source.clear_memory_cache()  # as in a new process
    again = client(server)
    assert len(endpoint_requests(server)) == 1
    assert again.spec_info.source == "disk-cache"
    assert again.spec_info.location == str(cache_dir / schema_files(cache_dir)[0])
    assert again.meta.spec._document is None  # the cached index spared parsing the schema
    assert again.meta.spec.methods("widgets") == ["get", "list"]


def test_stale_entry_is_revalidated_and_304_sends_no_schema_bytes(server, cache_dir):
    clock = FakeClock(1_000_000.0)
    spec, info = load(server, clock=clock)
    assert info.source == "download"
    clock.now += 24 * 3600 + 1  # past the non-interactive TTL
    again, info = load(server, clock=clock)
    first, revalidation = endpoint_requests(server)
    assert first.status == 200 and "If-None-Match" not in first.headers
    assert revalidation.headers["If-None-Match"] == server.etag
    assert revalidation.headers["If-Modified-Since"] == server.last_modified
    assert revalidation.status == 304  # the answer that carries no schema bytes
    assert not_modified(server) == 1 and downloads(server) == 1
    assert again is spec and info.source == "disk-cache"
    assert info.fetched_at == clock.now and the_entry(cache_dir).fetched_at == clock.now
    load(server, clock=clock)  # renewed: fresh again, no request
    assert len(endpoint_requests(server)) == 2


def test_within_the_ttl_memory_and_disk_make_no_request(server):
    clock = FakeClock(1_000_000.0)
    load(server, clock=clock)
    clock.now += 24 * 3600 - 5
    assert load(server, clock=clock)[1].source == "memory"
    _source.clear_memory_cache()
    assert load(server, clock=clock)[1].source == "disk-cache"
    assert len(endpoint_requests(server)) == 1


def test_changed_schema_is_picked_up_and_its_new_methods_appear(server, cache_dir, monkeypatch):
    old = client(server)
    assert not hasattr(old.widgets, "post_runs")
    old_index = cache_dir / index_entry_name(old.spec_info.sha256)
    assert old_index.exists()
    server.publish_spec(widget_schema(with_runs=True))
    monkeypatch.setenv("CIVIS_DYN_SPEC_TTL", "0")
    new = client(server)
    assert downloads(server) == 2 and not_modified(server) == 0
    assert new.spec_info.source == "download"
    assert new.widgets.post_runs(3)["id"] == 1
    assert the_entry(cache_dir).etag == server.etag
    assert not old_index.exists()  # the old schema's index went with it
    assert len(schema_files(cache_dir)) == 1


def test_force_refresh_skips_both_caches_and_downloads_unconditionally(server):
    client(server)
    forced = client(server, force_refresh_api_spec=True)
    assert downloads(server) == 2
    (forced_request,) = endpoint_requests(server)[1:]
    assert "If-None-Match" not in forced_request.headers
    assert forced.spec_info.source == "download"


def test_each_key_has_its_own_entry(server, cache_dir):
    server.api_key = "key-one"
    client(server, api_key="key-one")
    server.api_key = "key-two"
    two = client(server, api_key="key-two")
    assert two.spec_info.source == "download" and downloads(server) == 2
    assert len(schema_files(cache_dir)) == 2


def test_threads_starting_clients_at_once_download_once(server):
    start = threading.Barrier(8)
    sources = []

    def build():
        start.wait(10)
        sources.append(client(server).spec_info.source)

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert downloads(server) == 1
    assert sorted(sources) == ["download"] + ["memory"] * 7


def test_retries_of_the_client_apply_to_the_download(requests_mock):
    url = "https://api.example.test/endpoints"
    body = json.dumps(widget_schema()).encode()
    requests_mock.get(url, [{"status_code": 503}, {"status_code": 200, "content": body}])
    transport = SyncDriver.from_config(ClientConfig.resolve(
        api_key=KEY, base_url="https://api.example.test/",
        retries=RetryPolicy(max_attempts=3, backoff_base=0.01, sleep=lambda seconds: None)))
    spec, info = load_api_spec_with_info(transport=transport, key_fingerprint=key_fingerprint(KEY))
    assert requests_mock.call_count == 2 and info.source == "download"
    assert requests_mock.last_request.headers["Authorization"] == f"Bearer {KEY}"


# -- what is not a fallback -----------------------------------------------------
def test_refused_key_raises_instead_of_falling_back(server, bundle):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CivisAPIKeyError):
            client(server, api_key="not-the-key")


def test_wrong_base_url_raises(requests_mock, bundle):
    requests_mock.get("https://api.example.test/endpoints", status_code=404)
    with pytest.raises(CivisAPIError) as raised:
        civis_dyn.APIClient(api_key=KEY, base_url="https://api.example.test/", retries=0)
    assert raised.value.status_code == 404


def test_no_key_uses_the_bundle_silently(server, bundle):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer = civis_dyn.APIClient(base_url=server.url)
    assert server.requests == []
    assert explorer.spec_info.source == "bundle"
    assert explorer.spec_info.location == str(bundle)
    assert "post_runs" in explorer.meta.spec.methods("widgets")


def test_unknown_api_version_is_refused(server):
    with pytest.raises(ValueError, match="api_version '2.0'"):
        client(server, api_version="2.0")
    assert server.requests == []


def test_a_local_spec_bypasses_the_live_schema(server, tmp_path):
    path = tmp_path / "local.json"
    path.write_text(json.dumps(widget_schema(with_runs=True)))
    local = client(server, local_api_spec=path)
    assert local.spec_info.source == "file" and local.spec_info.location == str(path)
    assert server.requests == []


# -- offline fallbacks ------------------------------------------------------------
def test_unreachable_api_falls_back_to_the_stale_entry_with_one_warning(server, cache_dir):
    clock = FakeClock(1_000_000.0)
    spec, _ = load(server, clock=clock)
    clock.now += 3 * 3600
    server.stop()
    expected = r"could not refresh .* cached copy downloaded 3 h ago"
    with pytest.warns(RuntimeWarning, match=expected) as caught:
        stale, info = load(server, clock=clock, ttl=3600)
    assert len(caught) == 1
    assert stale is spec and info.source == "stale-cache"
    assert info.fetched_at == clock.now - 3 * 3600
    assert the_entry(cache_dir).fetched_at == clock.now - 3 * 3600  # not renewed
    with warnings.catch_warnings():  # reused for a while without retrying or warning again
        warnings.simplefilter("error")
        assert load(server, clock=clock, ttl=3600)[1].source == "stale-cache"


@pytest.mark.parametrize("mode", ["503", "garbage"])
def test_server_errors_and_non_schemas_fall_back_and_are_not_cached(server, cache_dir, mode,
                                                                    monkeypatch):
    client(server)
    before = (cache_dir / schema_files(cache_dir)[0]).read_bytes()
    serve_errors(server, 503 if mode == "503" else CAPTIVE_PORTAL)
    monkeypatch.setenv("CIVIS_DYN_SPEC_TTL", "0")
    with pytest.warns(RuntimeWarning, match="using the cached copy"):
        fallback = client(server)
    assert fallback.spec_info.source == "stale-cache"
    assert (cache_dir / schema_files(cache_dir)[0]).read_bytes() == before


def test_unreachable_api_without_cache_falls_back_to_the_bundle(server, bundle, cache_dir):
    server.stop()
    with pytest.warns(RuntimeWarning, match=r"could not download .* bundled with civis_dyn .* "
                                            r"file dated \d{4}-\d\d-\d\d") as caught:
        fallback = client(server)
    assert len(caught) == 1
    assert fallback.spec_info.source == "bundle"
    assert fallback.meta.spec.methods("widgets") == ["get", "list", "post_runs"]
    assert not cache_dir.exists() or schema_files(cache_dir) == []


def test_unreachable_api_with_nothing_to_fall_back_on_raises(server, no_bundle):
    server.stop()
    with pytest.raises(CivisConnectionError) as raised:
        client(server)
    assert "no cached or bundled schema" in " ".join(raised.value.__notes__)


def test_missing_bundle_without_key_is_a_clear_spec_error(no_bundle):
    with pytest.raises(civis_dyn.SpecError, match="bundled with civis_dyn is missing"):
        civis_dyn.APIClient(base_url="https://api.example.test/")


# -- corruption and degraded caches ---------------------------------------------
def _truncate(path):
    path.write_bytes(path.read_bytes()[:-50])


def _garbage(path):
    path.write_bytes(os.urandom(3000).replace(b"\n", b" "))


def _wrong_hash(path):
    path.write_bytes(path.read_bytes().replace(b'"Widgets"', b'"Gadgets"'))


@pytest.mark.parametrize("damage", [_truncate, _garbage, _wrong_hash])
def test_corrupt_entry_is_reported_removed_and_fetched_again(server, cache_dir, damage):
    client(server)
    damage(cache_dir / schema_files(cache_dir)[0])
    _source.clear_memory_cache()
    with pytest.warns(RuntimeWarning, match="is corrupt") as caught:
        recovered = client(server)
    assert len(caught) == 1
    assert downloads(server) == 2
    assert recovered.spec_info.source == "download"
    assert recovered.meta.spec.methods("widgets") == ["get", "list"]
    assert the_entry(cache_dir).sha256 == recovered.spec_info.sha256


def test_entry_whose_bytes_match_but_are_not_a_schema_is_replaced(server, cache_dir):
    client(server)
    name = schema_files(cache_dir)[0]
    not_a_schema = CachedSchema.from_download(b"[1, 2, 3]", fetched_at=1e12)
    (cache_dir / name).write_bytes(not_a_schema.to_bytes())
    _source.clear_memory_cache()
    with pytest.warns(RuntimeWarning, match="is corrupt") as caught:
        recovered = client(server)
    assert len(caught) == 1 and recovered.spec_info.source == "download"


def test_corrupt_index_is_reported_when_used_and_rebuilt_next_time(server, cache_dir):
    first = client(server)
    sha = first.spec_info.sha256
    index = cache_dir / index_entry_name(sha)
    _truncate(index)                              # the slice of "widgets" loses its end
    _source.clear_memory_cache()
    again = client(server)                        # reads only the header: nothing noticed yet
    with pytest.warns(RuntimeWarning, match="is corrupt") as caught:
        assert "id" in inspect.signature(again.widgets.get).parameters   # from the schema
    assert len(caught) == 1 and not index.exists()
    assert again.meta.spec.methods("widgets") == ["get", "list"]
    _source.clear_memory_cache()
    client(server)                                # cold again: the index is written anew
    assert DiskCache(cache_dir).read_index(sha) == first.meta.spec.index


def test_garbage_index_header_is_reported_at_construction_and_rebuilt(server, cache_dir):
    first = client(server)
    index = cache_dir / index_entry_name(first.spec_info.sha256)
    _garbage(index)
    _source.clear_memory_cache()
    with pytest.warns(RuntimeWarning, match="is corrupt") as caught:
        again = client(server)
    assert len(caught) == 1
    assert again.meta.spec.methods("widgets") == ["get", "list"]
    assert DiskCache(cache_dir).read_index(first.spec_info.sha256) == again.meta.spec.index


def test_unwritable_cache_dir_degrades_to_memory_with_one_warning(server, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(blocker / "cache"))
    with pytest.warns(RuntimeWarning, match="caching in memory only") as caught:
        first = client(server)
        second = client(server)
    assert len(caught) == 1
    assert first.spec_info.source == "download" and second.spec_info.source == "memory"
    assert first.widgets.get(1)["id"] == 1


def test_cache_files_are_private(server, cache_dir):
    client(server)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    for path in cache_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_the_key_appears_nowhere_under_the_cache_dir(server, cache_dir, tmp_path, monkeypatch):
    client(server)
    monkeypatch.setenv("CIVIS_DYN_SPEC_TTL", "0")
    client(server)                           # a revalidation rewrites the entry
    monkeypatch.setenv("CIVIS_API_ENDPOINT", server.url)
    civis_dyn.cache_api_spec(api_key=KEY)
    secrets = [KEY.encode(), key_fingerprint(KEY).encode()]
    files = [p for p in cache_dir.rglob("*")]
    assert len(files) >= 2
    for path in files:
        assert not any(s.decode() in path.name for s in secrets), path.name
        if path.is_file():
            content = path.read_bytes()
            assert not any(s in content for s in secrets), path.name


# -- the TTL ------------------------------------------------------------------------
def test_ttl_is_a_day_in_scripts_and_a_quarter_hour_interactively(monkeypatch):
    monkeypatch.delattr(sys, "ps1", raising=False)
    assert spec_ttl() == 24 * 3600
    monkeypatch.setattr(sys, "ps1", ">>> ", raising=False)
    assert spec_ttl() == 15 * 60


def test_ttl_can_be_set_by_env_or_parameter(monkeypatch):
    monkeypatch.setenv("CIVIS_DYN_SPEC_TTL", "120")
    assert spec_ttl() == 120.0
    assert spec_ttl(5) == 5.0
    monkeypatch.setenv("CIVIS_DYN_SPEC_TTL", "soon")
    with pytest.raises(ValueError, match="CIVIS_DYN_SPEC_TTL must be a number of seconds"):
        spec_ttl()
    with pytest.raises(ValueError, match="ttl must be a number"):
        spec_ttl(-1)


# -- cache_api_spec ---------------------------------------------------------------
def test_cache_api_spec_writes_the_served_bytes_to_a_file(server, tmp_path, monkeypatch):
    monkeypatch.setenv("CIVIS_API_ENDPOINT", server.url)
    target = tmp_path / "spec.json"
    written = civis_dyn.cache_api_spec(str(target), api_key=KEY)
    assert written == target and target.read_bytes() == server.spec_bytes
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    local = civis_dyn.APIClient(api_key=KEY, local_api_spec=target, base_url=server.url)
    assert local.spec_info.source == "file"


def test_cache_api_spec_without_a_path_refreshes_the_client_cache(server, cache_dir, monkeypatch):
    monkeypatch.setenv("CIVIS_API_ENDPOINT", server.url)
    monkeypatch.setenv("CIVIS_API_KEY", KEY)
    written = civis_dyn.cache_api_spec()
    assert written.parent == cache_dir and written.name == schema_files(cache_dir)[0]
    _source.clear_memory_cache()
    later = civis_dyn.APIClient(retries=0)
    assert later.spec_info.source == "disk-cache"
    assert downloads(server) == 1


def test_cache_api_spec_refuses_other_versions_and_bad_answers(server, tmp_path, monkeypatch):
    monkeypatch.setenv("CIVIS_API_ENDPOINT", server.url)
    with pytest.raises(ValueError, match="api_version"):
        civis_dyn.cache_api_spec(tmp_path / "x.json", api_key=KEY, api_version="3")
    serve_errors(server, CAPTIVE_PORTAL)
    with pytest.raises(civis_dyn.SpecError):
        civis_dyn.cache_api_spec(tmp_path / "x.json", api_key=KEY)
    assert not (tmp_path / "x.json").exists()


# -- the bundle and local files -----------------------------------------------------
def test_bundled_schema_path_points_into_the_package():
    path = bundled_spec_path()
    assert path.name in ("civis_api_spec.json", "civis_api_spec.json.gz")
    assert "schemas" in str(path)


def test_gzipped_bundle_is_read(tmp_path, monkeypatch):
    import gzip

    path = tmp_path / "civis_api_spec.json.gz"
    path.write_bytes(gzip.compress(json.dumps(widget_schema()).encode()))
    monkeypatch.setattr(_source, "bundled_spec_path", lambda: path)
    spec = load_api_spec()
    assert spec.methods("widgets") == ["get", "list"]


def test_warm_start_from_the_real_schema_does_not_parse_it(real_spec_path, cache_dir):
    first = civis_dyn.APIClient(api_key=KEY, local_api_spec=real_spec_path)
    assert (cache_dir / index_entry_name(first.spec_info.sha256)).exists()
    _source.clear_memory_cache()
    warm = civis_dyn.APIClient(api_key=KEY, local_api_spec=real_spec_path)
    assert warm.meta.spec is not first.meta.spec
    assert warm.meta.spec._document is None
    assert warm.meta.spec.index == first.meta.spec.index
    assert "list_runs" in dir(warm.jobs)


# -- several processes ----------------------------------------------------------------
PROCESS_SCRIPT = r"""
import json, sys, warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import civis_dyn
    client = civis_dyn.APIClient(retries=0)
    result = {"source": client.spec_info.source, "sha256": client.spec_info.sha256,
              "methods": client.meta.spec.methods("widgets"),
              "first_call": client.widgets.get(1)["id"]}
result["warnings"] = [str(w.message) for w in caught]
print(json.dumps(result))
"""


def process_env(server, cache_dir, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(CIVIS_API_KEY=KEY, CIVIS_API_ENDPOINT=server.url, CIVIS_DYN_CACHE_DIR=str(cache_dir),
               **extra)
    return env


def run_process(server, cache_dir, **extra):
    done = subprocess.run([sys.executable, "-c", PROCESS_SCRIPT],
                          env=process_env(server, cache_dir, **extra),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_processes_share_the_disk_cache_and_revalidate_with_etags(server, cache_dir):
    first = run_process(server, cache_dir)
    assert first["source"] == "download" and downloads(server) == 1
    second = run_process(server, cache_dir)
    assert second["source"] == "disk-cache" and len(endpoint_requests(server)) == 1
    third = run_process(server, cache_dir, CIVIS_DYN_SPEC_TTL="0")
    assert not_modified(server) == 1 and downloads(server) == 1
    assert endpoint_requests(server)[-1].headers["If-None-Match"] == server.etag
    assert third["sha256"] == first["sha256"]
    server.publish_spec(widget_schema(with_runs=True))
    fourth = run_process(server, cache_dir, CIVIS_DYN_SPEC_TTL="0")
    assert downloads(server) == 2
    assert "post_runs" in fourth["methods"] and "post_runs" not in first["methods"]
    assert all(r["warnings"] == [] and r["first_call"] == 1 for r in (first, second, third, fourth))


def test_four_processes_refreshing_at_once_leave_one_valid_file(server, cache_dir):
    run_process(server, cache_dir)
    server.publish_spec(widget_schema(with_runs=True))
    server.faults.gather("GET", "/endpoints", 4)  # all four requests are in flight together
    env = process_env(server, cache_dir, CIVIS_DYN_SPEC_TTL="0")
    procs = [subprocess.Popen([sys.executable, "-c", PROCESS_SCRIPT], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert downloads(server) == 1 + 4
    assert all(r["source"] == "download" and r["warnings"] == [] for r in results)
    names = sorted(p.name for p in cache_dir.iterdir())
    assert [n for n in names if n.endswith(".tmp")] == []
    entry = DiskCache(cache_dir).read_schema(schema_files(cache_dir)[0])
    assert entry is not None and entry.raw == server.spec_bytes and entry.etag == server.etag
    assert len(schema_files(cache_dir)) == 1


def test_many_servers_do_not_fill_the_cache(cache_dir, monkeypatch):
    monkeypatch.setattr(_cache, "KEEP_SCHEMAS", 3)
    for _ in range(5):
        api = widget_api()
        try:
            client(api)
        finally:
            api.stop()
    assert len(schema_files(cache_dir)) == 3


# -- warm starts that read no schema bytes -----------------------------------------------
def test_an_unchanged_cache_entry_is_read_by_its_header_alone(server, cache_dir, monkeypatch):
    monkeypatch.setattr(_cache, "RACY_SECONDS", -1.0)  # stamp entries however recent
    first = client(server)
    _source.clear_memory_cache()
    client(server)                                    # read and checked whole, then stamped
    _source.clear_memory_cache()
    warm = client(server)
    assert warm.spec_info.source == "disk-cache" and warm.spec_info.sha256 == first.spec_info.sha256
    assert warm.meta.spec._raw is None and warm.meta.spec._document is None
    assert "id" in inspect.signature(warm.widgets.get).parameters
    assert warm.meta.spec.raw == first.meta.spec.raw  # read again (and checked) when asked
    assert downloads(server) == 1


def test_a_changed_cache_entry_is_read_whole_and_checked(server, cache_dir, monkeypatch):
    monkeypatch.setattr(_cache, "RACY_SECONDS", -1.0)
    client(server)
    _source.clear_memory_cache()
    client(server)                                    # stamped
    _truncate(cache_dir / schema_files(cache_dir)[0])  # the stamp no longer matches
    _source.clear_memory_cache()
    with pytest.warns(RuntimeWarning, match="is corrupt"):
        recovered = client(server)
    assert recovered.spec_info.source == "download" and downloads(server) == 2


def test_a_schema_file_is_not_read_again_while_unchanged(mini_spec_path, tmp_path, cache_dir,
                                                         monkeypatch):
    monkeypatch.setattr(_cache, "RACY_SECONDS", -1.0)
    path = tmp_path / "schema.json"
    path.write_bytes(mini_spec_path.read_bytes())
    first = civis_dyn.APIClient(api_key=KEY, local_api_spec=path)   # read, hashed, stamped
    _source.clear_memory_cache()
    reads = []
    real = _source.read_schema_file
    monkeypatch.setattr(_source, "read_schema_file", lambda *a: reads.append(a) or real(*a))
    warm = civis_dyn.APIClient(api_key=KEY, local_api_spec=path)
    assert reads == [] and warm.spec_info.sha256 == first.spec_info.sha256
    assert warm.meta.spec.methods("things") == first.meta.spec.methods("things")
    path.write_bytes(mini_spec_path.read_bytes() + b" ")          # changed: read again
    _source.clear_memory_cache()
    changed = civis_dyn.APIClient(api_key=KEY, local_api_spec=path)
    assert len(reads) == 1 and changed.spec_info.sha256 != first.spec_info.sha256


def test_a_schema_file_changed_under_a_client_is_refused_when_reread(mini_spec_path, tmp_path,
                                                                     cache_dir):
    path = tmp_path / "schema.json"
    path.write_bytes(mini_spec_path.read_bytes())
    spec = civis_dyn.APIClient(api_key=KEY, local_api_spec=path).meta.spec
    assert spec._raw is None                                   # the bytes are not kept
    path.write_bytes(mini_spec_path.read_bytes() + b" ")
    with pytest.raises(civis_dyn.SpecError, match="changed while a client built from it"):
        spec.raw


def test_a_stamped_schema_file_still_obeys_the_size_limit(mini_spec_path, tmp_path, cache_dir,
                                                          monkeypatch):
    monkeypatch.setattr(_cache, "RACY_SECONDS", -1.0)
    path = tmp_path / "schema.json"
    path.write_bytes(mini_spec_path.read_bytes())
    civis_dyn.APIClient(api_key=KEY, local_api_spec=path)
    _source.clear_memory_cache()
    with pytest.raises(civis_dyn.SpecError, match="larger than 100 bytes"):
        civis_dyn.APIClient(api_key=KEY, local_api_spec=path, max_schema_bytes=100)
