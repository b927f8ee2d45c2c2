"""Per-resource schema slices: a warm start decodes only what the resources it uses need."""
import json

import pytest

from civis_dyn.spec._cache import DiskCache, index_entry_name
from civis_dyn.spec._model import ApiSpec


def warm_model(raw, disk):
    """A model as a warm start builds it: cached index, operations from slices."""
    cold = ApiSpec.from_bytes(raw)
    disk.write_index(cold.sha256, cold.index, cold.slices())
    warm = ApiSpec(loader=lambda: raw, source="file", sha256=cold.sha256)
    warm._index = disk.open_index(cold.sha256, rebuild=warm.build_index)
    warm.use_slices(warm._index.slice)
    return cold, warm


def test_slices_give_every_operation_of_the_real_schema_without_parsing_it(real_spec_path, tmp_path):
    raw = real_spec_path.read_bytes()
    cold, warm = warm_model(raw, DiskCache(tmp_path))
    count = 0
    for resource in cold.resources():
        for name in cold.methods(resource):
            a, b = cold.operation(resource, name), warm.operation(resource, name)
            assert (a.signature, a.doc, a.returns) == (b.signature, b.doc, b.returns), (resource, name)
            count += 1
    assert count > 900
    assert warm._document is None  # never parsed the 2.4 MB schema


def test_a_slice_holds_only_its_resource_and_the_definitions_it_reaches(mini_spec_path):
    spec = ApiSpec.from_bytes(mini_spec_path.read_bytes())
    things = json.loads(spec.slices()["things"])
    assert all(path.startswith("/things/") for path in things["paths"])
    assert set(things["definitions"]) == {"Thing", "Schedule", "ThingCreate", "Run", "Shares"}
    assert "Me" not in things["definitions"]


def test_a_damaged_slice_falls_back_to_the_document_and_is_rebuilt_next_time(
        mini_spec_path, tmp_path):
    raw = mini_spec_path.read_bytes()
    disk = DiskCache(tmp_path)
    cold, warm = warm_model(raw, disk)
    last = cold.resources()[-1]                 # its slice is the last part of the file
    name = cold.methods(last)[0]
    path = disk.path(index_entry_name(cold.sha256))
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.warns(RuntimeWarning, match=r"index-v3-.*is corrupt \(checksum mismatch\)"):
        op = warm.operation(last, name)
    assert op.signature == cold.operation(last, name).signature
    assert warm._document is not None  # parsed after all
    assert not path.exists()


def test_a_missing_index_file_falls_back_silently(mini_spec_path, tmp_path, recwarn):
    raw = mini_spec_path.read_bytes()
    disk = DiskCache(tmp_path)
    cold, warm = warm_model(raw, disk)
    disk.remove(index_entry_name(cold.sha256))  # pruned by another process, say
    assert warm.operation("things", "get").doc == cold.operation("things", "get").doc
    assert warm.index == cold.index
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_resource_is_read_from_the_index_file_only_when_used(mini_spec_path, tmp_path):
    raw = mini_spec_path.read_bytes()
    disk = DiskCache(tmp_path)
    cold, warm = warm_model(raw, disk)
    assert list(warm.index) == sorted(cold.index)   # the names come from the header
    assert warm.index._methods == {}
    assert warm.methods("things") == cold.methods("things")
    assert list(warm.index._methods) == ["things"]
    assert warm.index == cold.index                 # every part read and checked


def test_prune_bounds_indexes_and_stamps_and_removes_older_formats(tmp_path):
    disk = DiskCache(tmp_path)
    for i in range(5):
        disk.write_index(f"{i:064x}", {"jobs": {}}, {"jobs": b"{}"})
    for old in ("index-v2-a.json", "slices-v1-a.bin", "index-v1-a.json"):
        disk.path(old).write_bytes(b"{}")
    removed = disk.prune(keep_indexes=2)
    assert len([n for n in removed if n.startswith("index-v3-")]) == 3
    assert {"index-v2-a.json", "slices-v1-a.bin", "index-v1-a.json"} <= set(removed)


def test_a_warm_process_documents_a_method_without_parsing_the_schema(real_spec_path, tmp_path):
    import os
    import subprocess
    import sys

    code = ("import civis_dyn, inspect; "
            f"c = civis_dyn.APIClient(api_key='k', local_api_spec={str(real_spec_path)!r}); "
            "inspect.signature(c.jobs.get); c.jobs.get.__doc__; c.workflows.post.__doc__; "
            "print(c.meta.spec._document is None)")
    env = {**os.environ, "CIVIS_DYN_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                           check=True).stdout.strip() for _ in range(2)]
    assert runs == ["False", "True"]  # cold: parsed once to build the cache; warm: never


def test_an_unsorted_index_header_is_damage_found_on_lookup(mini_spec_path, tmp_path):
    raw = mini_spec_path.read_bytes()
    disk = DiskCache(tmp_path)
    cold, warm = warm_model(raw, disk)
    names = warm.index._names
    names.reverse()                               # as a damaged header would list them
    with pytest.warns(RuntimeWarning, match="not sorted"):
        assert warm.methods("things") == cold.methods("things")   # from the schema itself
    assert warm.index == cold.index
