"""Shared fixtures.

Tests that need the real Civis schema or the published reference (both live in
``../shared`` beside the checkout) skip with a clear reason when it is absent,
and fail instead when ``CI=true``: CI always has ``../shared``.
"""
import json
import os
from pathlib import Path

import pytest
from scaffold.clock import FakeClock
from scaffold.schemas import mini_schema

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def _need(path: Path, what: str) -> Path:
    if path.exists():
        return path
    message = f"{what} not found at {path}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: ../shared must be beside the checkout)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def real_spec_path() -> Path:
    """Path of the real Civis API schema (``CIVIS_DYN_TEST_SPEC`` overrides)."""
    env = os.environ.get("CIVIS_DYN_TEST_SPEC")
    path = Path(env) if env else SHARED / "specs" / "civis_api_spec.json"
    return _need(path, "the real Civis API schema")


@pytest.fixture(scope="session")
def real_spec(real_spec_path) -> dict:
    """The real Civis API schema, parsed once per test session (do not mutate)."""
    with open(real_spec_path, "rb") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """Folder of the published API reference texts (``000…004*.txt``)."""
    return _need(SHARED / "reference", "the published API reference")


FAKE_BASE = "https://api.example.test/"


@pytest.fixture(scope="session")
def mini_spec_path(tmp_path_factory) -> Path:
    """The standard mini schema (:func:`scaffold.schemas.mini_schema`) as a file (do not modify)."""
    path = tmp_path_factory.mktemp("schemas") / "mini_spec.json"
    path.write_text(json.dumps(mini_schema(), indent=1))
    return path


@pytest.fixture
def api_key() -> str:
    """The API key test clients and the local API use (tests/faults uses a canary instead)."""
    return "test-key-123"


@pytest.fixture
def local_api(mini_spec_path, api_key):
    """The one HTTP fake: the shipped :class:`civis_dyn.testing.LocalCivisAPI` on the mini schema.

    It accepts ``api_key`` and holds things 1..7 (for lists and pages) and run 9
    of thing 4; its ``faults`` (:class:`civis_dyn.testing.Faults`) inject
    misbehaviour.
    """
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(spec=str(mini_spec_path), api_key=api_key) as api:
        for i in range(1, 8):
            api.seed("/things", {"name": f"thing {i}", "fromTemplateId": 0})
        api.seed("/things/4/runs", {"id": 9})
        yield api


@pytest.fixture
def mini_client(mini_spec_path):
    """Factory: an APIClient on the mini schema, pointed at a fake https host."""
    import civis_dyn

    def make(**kwargs):
        kwargs.setdefault("api_key", "test-key-123")
        kwargs.setdefault("base_url", FAKE_BASE)
        return civis_dyn.APIClient(local_api_spec=str(mini_spec_path), **kwargs)

    return make


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's real cache directory from a test (tests may override)."""
    monkeypatch.setenv("CIVIS_DYN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def clock():
    """A :class:`scaffold.clock.FakeClock` (``clock.sleeps`` lists every wait between retries)."""
    return FakeClock()
