"""create_client_mock as civis-python's: ``cache=``, the freshest schema, the container-tests mock."""
import time

import pytest

import civis_dyn
from civis_dyn._config import DEFAULT_BASE_URL
from civis_dyn.spec._cache import CachedSchema, DiskCache, schema_entry_name
from civis_dyn.tests import create_client_mock, create_client_mock_for_container_tests


def test_cache_keyword_names_the_schema_file(mini_spec_path):
    """civis-python: ``create_client_mock(cache=path)`` builds the mock from that schema file."""
    client = create_client_mock(cache=str(mini_spec_path))
    assert client.spec_info.source == "file" and client.things.get
    with pytest.raises(AttributeError, match="no resource 'jobs'"):
        client.jobs


def test_default_is_the_freshest_cached_live_schema(real_spec_path, tmp_path, monkeypatch):
    """civis-python mocks its copy of the live schema; ours uses the live schema last downloaded."""
    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("CIVIS_API_ENDPOINT", raising=False)
    assert create_client_mock().spec_info.source == "bundle"
    entry = CachedSchema.from_download(real_spec_path.read_bytes(), fetched_at=time.time(),
                                       base_url=DEFAULT_BASE_URL, api_version="1.0")
    DiskCache(tmp_path).write_schema(schema_entry_name(DEFAULT_BASE_URL, "1.0", "fp"), entry)
    client = create_client_mock()
    assert client.spec_info.source == "disk-cache" and client.spec_info.sha256 == entry.sha256
    client.databases.get_schemas_tables  # only in the live schema (not in the bundle)
    monkeypatch.setenv("CIVIS_API_ENDPOINT", "https://elsewhere.example.test/")
    assert create_client_mock().spec_info.source == "bundle"  # a cache of another API is not used


def test_mock_rejects_wrong_names_and_arguments():
    """civis-python's test_mocks: an unknown endpoint raises AttributeError, a bad parameter TypeError."""
    client = create_client_mock()
    with pytest.raises(AttributeError):
        client.not_an_endpoint()
    client.tables.list(database_id=1)
    with pytest.raises(TypeError):
        client.tables.list(db_id=1)


def test_container_tests_mock():
    """civis-python: ``create_client_mock_for_container_tests`` answers the container-run calls."""
    client = create_client_mock_for_container_tests(script_id=5, run_id=6, state="failed",
                                                    run_outputs=["out"])
    assert isinstance(client, civis_dyn.APIClient)
    assert client.scripts.post_containers(required_resources={}, docker_image_name="i").id == 5
    assert client.scripts.post_containers_runs(5).state == "queued"
    run = client.scripts.get_containers_runs(5, 6)
    assert (run.id, run.state, run.error) == (6, "failed", "None")
    assert client.jobs.list_runs_outputs(5, 6) == ["out"] and client.jobs.list_runs_logs(5, 6) == []
    assert client.scripts.post_cancel(5).state == "cancelled"
