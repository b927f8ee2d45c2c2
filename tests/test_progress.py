"""Progress bars: shown for long pagination, counting right, off when asked."""

import io

import pytest

from civis_dyn import PaginatedResponse
from civis_dyn import _progress

tqdm_auto = pytest.importorskip("tqdm.auto", reason="tqdm (the [notebook] extra) is not installed")


def pages(total=250, per_page=100):
    def fetch_page(page):
        start = (page - 1) * per_page
        items = [{"id": i} for i in range(start, min(start + per_page, total))]
        return items, {"X-Pagination-Total-Pages": str(-(-total // per_page)),
                       "X-Pagination-Total-Entries": str(total)}
    return fetch_page


@pytest.fixture
def bars(monkeypatch):
    """Every tqdm bar made, with its output captured."""
    made = []
    real = tqdm_auto.tqdm

    def recording(*args, **kwargs):
        kwargs["file"] = io.StringIO()
        bar = real(*args, **kwargs)
        made.append(bar)
        return bar

    monkeypatch.setattr(tqdm_auto, "tqdm", recording)
    monkeypatch.delenv("CIVIS_DYN_PROGRESS", raising=False)
    return made


def test_full_pagination_shows_a_bar_that_counts_every_item(bars):
    items = list(PaginatedResponse(pages(), progress=True))
    assert len(items) == 250
    assert len(bars) == 1 and bars[0].total == 250 and bars[0].n == 250


def test_no_bar_for_a_single_page(bars):
    assert len(list(PaginatedResponse(pages(total=40), progress=True))) == 40
    assert bars == []


@pytest.mark.parametrize("setting", ["0", "false", "off"])
def test_environment_turns_bars_off(bars, monkeypatch, setting):
    monkeypatch.setenv("CIVIS_DYN_PROGRESS", setting)
    assert len(list(PaginatedResponse(pages(), progress=True))) == 250
    assert bars == []


def test_progress_false_turns_bars_off(bars):
    assert len(list(PaginatedResponse(pages(), progress=False))) == 250
    assert bars == []


def test_auto_shows_bars_only_in_a_terminal_or_notebook(bars, monkeypatch):
    monkeypatch.setattr(_progress, "_interactive", lambda: False)
    list(PaginatedResponse(pages()))
    assert bars == []
    monkeypatch.setattr(_progress, "_interactive", lambda: True)
    list(PaginatedResponse(pages()))
    assert len(bars) == 1 and bars[0].n == 250


def test_without_tqdm_the_bar_does_nothing(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)
    bar = _progress.progress_bar(total=3, progress=True)
    bar.update(3)
    bar.close()
    assert not _progress.progress_enabled(True)


def test_run_and_wait_shows_the_run_state_and_counts_polls(bars):
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(run_delays=(0.02, 0.02)) as api:
        client = api.client()
        script = client.scripts.post_containers(
            required_resources={"cpu": 256, "memory": 512}, docker_image_name="python",
            name="etl")
        run = client.scripts.run_and_wait(script.id, kind="containers", polling_interval=0.005,
                                          progress=True)
        polls = api.count("GET", f"/scripts/containers/{script.id}/runs/{run.id}")
        client.scripts.run_and_wait(script.id, kind="containers", polling_interval=0.005,
                                    progress=False)
    assert run.state == "succeeded" and len(bars) == 1
    assert bars[0].n == polls - 1  # one sleep between consecutive polls
    assert bars[0].desc == f"run {run.id}: succeeded"


def test_future_result_shows_a_bar_until_the_run_is_final(bars):
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(run_delays=(0.02, 0.02)) as api:
        client = api.client()
        script = client.scripts.post_containers(
            required_resources={"cpu": 256, "memory": 512}, docker_image_name="python",
            name="etl")
        future = client.scripts.run(script.id, kind="containers", polling_interval=0.005)
        run = future.result(timeout=30, progress=True)
        client.scripts.run(script.id, kind="containers").result(timeout=30, progress=False)
    assert run.state == "succeeded" and len(bars) == 1
    assert bars[0].desc == f"run {future.run_id}: succeeded"


def test_file_transfers_show_byte_bars(bars, monkeypatch):
    from civis_dyn import _progress
    from civis_dyn import io as cio
    from civis_dyn.testing import LocalCivisAPI

    monkeypatch.setattr(_progress, "_interactive", lambda: True)
    data = b"x" * 300_000
    with LocalCivisAPI() as api:
        client = api.client()
        file_id = cio.file_to_civis(io.BytesIO(data), "data.bin", client=client)
        out = io.BytesIO()
        cio.civis_to_file(file_id, out, client=client)
    assert out.getvalue() == data
    assert [(b.total, b.n, b.unit) for b in bars] == [(len(data), len(data), "B")] * 2
    monkeypatch.setenv("CIVIS_DYN_PROGRESS", "0")
    with LocalCivisAPI() as api:
        cio.file_to_civis(io.BytesIO(data), "data.bin", client=api.client())
    assert len(bars) == 2
