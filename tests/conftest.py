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


FIXTURES = Path(__file__).resolve().parent / "fixtures"
FAKE_BASE = "https://api.example.test/"


@pytest.fixture(scope="session")
def mini_spec_path() -> Path:
    """A small hand-written schema covering every naming and parameter case."""
    return FIXTURES / "mini_spec.json"


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
