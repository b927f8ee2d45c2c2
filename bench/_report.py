"""From every round's raw figures to the table, its targets, and ``bench/results.json``.

Each table row is built by one function from the rounds of one measurement.
Figures are medians over rounds; a figure relative to a baseline (``0.93x bare``)
is the median of the per-round ratios, each taken between measurements made
moments apart in the same round.
"""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from _measure import median

__all__ = ["Row", "build_rows", "format_rst", "format_table", "medians", "write_results"]

CIVIS = "civis"
DYN = "civis_dyn"
MIB = 1024  # KiB per MiB


@dataclass
class Row:
    """One line of the table.

    ``met`` is True or False against the target, or None when the row has no
    target or cannot be judged (a client missing, an error).
    """

    metric: str
    baseline: str
    civis_python: str
    civis_dyn: str
    ratio: str
    target: str
    met: bool | None
    values: dict = field(default_factory=dict)
    note: str = ""


# -- number formatting ---------------------------------------------------------------
def ms(seconds):
    if seconds is None:
        return "?"
    value = seconds * 1000
    return f"{value:.1f} ms" if abs(value) < 10 else f"{value:.0f} ms"


def secs(seconds):
    if seconds is None:
        return "?"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def mib(kib):
    return "?" if kib is None else f"{kib / MIB:.1f} MiB"


def per_s(rate):
    return "?" if rate is None else f"{rate:,.0f}/s"


def times(ratio, digits=2):
    return "?" if ratio is None else f"{ratio:.{digits}f}x"


def signed_ms(seconds):
    """``"+ 12 ms"`` or ``"− 40 ms"``."""
    if seconds is None:
        return "?"
    return f"{'+' if seconds >= 0 else '−'} {ms(abs(seconds))}"


def factor(better, worse, word):
    """``"2.7x faster"``: how many times ``better`` beats ``worse`` (None-safe)."""
    if not better or not worse:
        return "—"
    value = worse / better
    return f"{value:.1f}x {word}" if value < 100 else f"{value:.0f}x {word}"


# -- access to the rounds ---------------------------------------------------------------
class Rounds:
    """The raw rounds: ``raw[measurement][client] -> [dict per round]``."""

    def __init__(self, raw):
        self.raw = raw

    def of(self, measurement, client):
        return [r for r in self.raw.get(measurement, {}).get(client, []) if r is not None]

    def aligned(self, first, second):
        """Pairs of same-round dicts for two ``(measurement, client)`` keys (both present)."""
        a = self.raw.get(first[0], {}).get(first[1], [])
        b = self.raw.get(second[0], {}).get(second[1], [])
        return [(x, y) for x, y in zip(a, b) if x is not None and y is not None]

    def has(self, measurement, client):
        return bool(self.of(measurement, client))

    def med(self, measurement, client, key):
        return median(r.get(key) for r in self.of(measurement, client))

    def ratio(self, measurement, client, numerator, denominator):
        """Median over rounds of ``numerator / denominator``."""
        values = []
        for r in self.of(measurement, client):
            top, bottom = r.get(numerator), r.get(denominator)
            if top is not None and bottom:
                values.append(top / bottom)
        return median(values)

    def difference(self, measurement, client, minuend, subtrahend):
        values = [r[minuend] - r[subtrahend] for r in self.of(measurement, client)
                  if r.get(minuend) is not None and r.get(subtrahend) is not None]
        return median(values)


MISSING = "not installed"


def _cell(rounds, measurement, client, render, anchor_missing):
    if client == CIVIS and anchor_missing:
        return MISSING
    if not rounds.has(measurement, client):
        return "error"
    return render()


# -- rows ------------------------------------------------------------------------------
def _row_import(r, anchor_missing):
    m = "import"
    req = r.med(m, DYN, "requests_s")
    over = r.difference(m, DYN, "client_s", "requests_s")
    civis_over = r.difference(m, CIVIS, "client_s", "requests_s")
    dyn, civis = r.med(m, DYN, "client_s"), r.med(m, CIVIS, "client_s")
    return Row(
        "import time over a bare interpreter", f"import requests: {ms(req)}",
        _cell(r, m, CIVIS, lambda: f"{ms(civis)} (requests {signed_ms(civis_over)})",
              anchor_missing),
        _cell(r, m, DYN, lambda: f"{ms(dyn)} (requests {signed_ms(over)})", anchor_missing),
        factor(dyn, civis, "faster") if not anchor_missing else "—",
        "<= import requests + 20 ms", None if over is None else over <= 0.020,
        {"requests_s": req, "civis_dyn_s": dyn, "civis_dyn_over_requests_s": over,
         "civis_python_s": civis, "civis_python_over_requests_s": civis_over})


def _row_construct(r, anchor_missing, temperature):
    m = "construct"
    base = r.med(m, DYN, "json_load_s")
    key = f"{temperature}_s"
    dyn, civis = r.med(m, DYN, key), r.med(m, CIVIS, key)
    dyn_x, civis_x = r.ratio(m, DYN, key, "json_load_s"), r.ratio(m, CIVIS, key, "json_load_s")
    warm = temperature == "warm"
    label = ("APIClient(local_api_spec=…), fresh process, warm index cache" if warm else
             "APIClient(local_api_spec=…), fresh process, cold (empty CIVIS_DYN_CACHE_DIR)")
    note = "" if warm else ("the first run on a machine parses the schema and caches its index; "
                            "civis-python has no cache (same figure as above)")
    return Row(
        label, f"json.load: {ms(base)}",
        _cell(r, m, CIVIS, lambda: f"{secs(civis)} ({times(civis_x, 1)} json.load)",
              anchor_missing),
        _cell(r, m, DYN, lambda: f"{ms(dyn)} ({times(dyn_x)} json.load)", anchor_missing),
        factor(dyn, civis, "faster") if not anchor_missing else "—",
        "<= 1x json.load" if warm else "— (informative)",
        (None if dyn_x is None else dyn_x <= 1.0) if warm else None,
        {"json_load_s": base, "civis_dyn_s": dyn, "civis_dyn_x_json_load": dyn_x,
         "civis_python_s": civis, "civis_python_x_json_load": civis_x}, note)


def _row_ready(r, anchor_missing):
    """Import and construction together, both timed in the same fresh process."""
    base_values = []
    for imported, built in r.aligned(("import", DYN), ("construct", DYN)):
        base_values.append(imported["requests_s"] + built["json_load_s"])
    base = median(base_values)

    def total(client):
        return median(x["warm_import_s"] + x["warm_s"] for x in r.of("construct", client)
                      if x.get("warm_import_s") is not None)

    dyn, civis = total(DYN), total(CIVIS)
    return Row(
        "import + APIClient(local_api_spec=…), warm, one fresh process",
        f"import requests + json.load: {ms(base)}",
        _cell(r, "construct", CIVIS, lambda: secs(civis), anchor_missing),
        _cell(r, "construct", DYN, lambda: ms(dyn), anchor_missing),
        factor(dyn, civis, "faster") if not anchor_missing else "—",
        "— (informative)", None,
        {"requests_plus_json_load_s": base, "civis_dyn_s": dyn, "civis_python_s": civis},
        "what a script waits for before its first call, whichever of import or "
        "construction pays for what")


def _row_rss(r, anchor_missing, temperature):
    m = "construct"
    key = f"{temperature}_rss_kib"
    base = r.med("import", DYN, "requests_rss_kib")
    dyn, civis = r.med(m, DYN, key), r.med(m, CIVIS, key)
    warm = temperature == "warm"
    label = "peak RSS after construction" + ("" if warm else ", cold index cache")
    return Row(
        label, f"python + import requests: {mib(base)}",
        _cell(r, m, CIVIS, lambda: mib(civis), anchor_missing),
        _cell(r, m, DYN, lambda: mib(dyn), anchor_missing),
        factor(dyn, civis, "less") if not anchor_missing else "—",
        "<= 30 MiB" if warm else "— (informative)",
        (None if dyn is None else dyn <= 30 * MIB) if warm else None,
        {"python_requests_kib": base, "civis_dyn_kib": dyn, "civis_python_kib": civis},
        "" if warm else "the first run parses the whole schema once")


def _row_rss_first_call(r, anchor_missing):
    m = "first_call"
    dyn, civis = r.med(m, DYN, "rss_kib"), r.med(m, CIVIS, "rss_kib")
    return Row(
        "peak RSS after the first call (schema not given, warm cache)", "—",
        _cell(r, m, CIVIS, lambda: mib(civis), anchor_missing),
        _cell(r, m, DYN, lambda: mib(dyn), anchor_missing),
        factor(dyn, civis, "less") if not anchor_missing else "—",
        "— (informative)", None, {"civis_dyn_kib": dyn, "civis_python_kib": civis},
        "civis_dyn imports requests on its first request, not when the client is built")


def _row_first_call(r, anchor_missing):
    m = "first_call"
    base = r.med(m, DYN, "bare_s")
    dyn, civis = r.med(m, DYN, "client_s"), r.med(m, CIVIS, "client_s")
    dyn_downloads = [x.get("endpoints_requests") for x in r.of(m, DYN)]
    civis_downloads = r.med(m, CIVIS, "endpoints_requests")

    def count(n):
        return "?" if n is None else f"{n:g} GET /endpoints"

    return Row(
        "new process to first call, schema not given", f"bare requests.get: {secs(base)}",
        _cell(r, m, CIVIS, lambda: f"{secs(civis)} ({count(civis_downloads)})", anchor_missing),
        _cell(r, m, DYN, lambda: f"{secs(dyn)} ({count(max(dyn_downloads))})", anchor_missing),
        factor(dyn, civis, "faster") if not anchor_missing else "—",
        "warm disk cache: no download",
        None if not dyn_downloads else max(dyn_downloads) == 0,
        {"bare_s": base, "civis_dyn_s": dyn, "civis_python_s": civis,
         "civis_dyn_endpoints_requests": dyn_downloads,
         "civis_python_endpoints_requests": civis_downloads})


def _row_calls(r, anchor_missing, which, goal):
    m = "calls"
    base = r.med(m, DYN, f"{which}_bare")
    dyn, civis = r.med(m, DYN, f"{which}_client"), r.med(m, CIVIS, f"{which}_client")
    dyn_x = r.med(m, DYN, f"{which}_ratio")  # each round: median of adjacent-block ratios
    civis_x = r.med(m, CIVIS, f"{which}_ratio")
    label = ("jobs.get(1) calls/s vs bare requests.Session" if which == "get" else
             "jobs.list() (50 objects) calls/s vs bare")
    return Row(
        label, f"bare Session: {per_s(base)}",
        _cell(r, m, CIVIS, lambda: f"{per_s(civis)} ({times(civis_x)} bare)", anchor_missing),
        _cell(r, m, DYN, lambda: f"{per_s(dyn)} ({times(dyn_x)} bare)", anchor_missing),
        factor(civis, dyn, "the calls/s") if not anchor_missing else "—",
        f">= {goal}x bare", None if dyn_x is None else dyn_x >= goal,
        {"bare_per_s": base, "civis_dyn_per_s": dyn, "civis_dyn_x_bare": dyn_x,
         "civis_python_per_s": civis, "civis_python_x_bare": civis_x})


def _row_pages_speed(r, anchor_missing, settings, goal):
    m = "calls"
    base = r.med(m, DYN, "pages_bare")
    dyn, civis = r.med(m, DYN, "pages_client"), r.med(m, CIVIS, "pages_client")
    dyn_x = r.med(m, DYN, "pages_ratio")  # each round: median of adjacent-block ratios
    civis_x = r.med(m, CIVIS, "pages_ratio")
    pages, size = settings.canned_pages, settings.list_size
    return Row(
        f"{pages} pages of {size}: iterator=True vs a hand-written loop",
        f"requests loop: {per_s(base)}",
        _cell(r, m, CIVIS, lambda: f"{per_s(civis)} ({times(civis_x)} loop)", anchor_missing),
        _cell(r, m, DYN, lambda: f"{per_s(dyn)} ({times(dyn_x)} loop)", anchor_missing),
        factor(civis, dyn, "the speed") if not anchor_missing else "—",
        f">= {goal}x loop", None if dyn_x is None else dyn_x >= goal,
        {"loop_per_s": base, "civis_dyn_per_s": dyn, "civis_dyn_x_loop": dyn_x,
         "civis_python_per_s": civis, "civis_python_x_loop": civis_x},
        "all pages per second, .id read from every object; the loop follows page_num and "
        "X-Pagination-Total-Pages with a bare requests.Session")


def _row_wrap(r, anchor_missing, read, goal):
    m = "wrap"
    key = "wrap_read_seconds" if read else "wrap_seconds"
    base = r.med(m, DYN, "decode_seconds")
    dyn, civis = r.med(m, DYN, key), r.med(m, CIVIS, key)
    dyn_x = r.ratio(m, DYN, key, "decode_seconds")
    civis_x = r.ratio(m, CIVIS, key, "decode_seconds")
    label = ("decode + wrap a 1,000-object page vs json.loads" if not read else
             "… and read .name of every object")
    return Row(
        label, f"json.loads: {ms(base)}",
        _cell(r, m, CIVIS, lambda: f"{ms(civis)} ({times(civis_x, 1)})", anchor_missing),
        _cell(r, m, DYN, lambda: f"{ms(dyn)} ({times(dyn_x)})", anchor_missing),
        factor(dyn, civis, "faster") if not anchor_missing else "—",
        f"<= {goal}x json.loads", None if dyn_x is None else dyn_x <= goal,
        {"json_loads_s": base, "civis_dyn_s": dyn, "civis_dyn_x_json_loads": dyn_x,
         "civis_python_s": civis, "civis_python_x_json_loads": civis_x},
        "" if not read else "the lazy wrapping's deferred cost, paid on access")


def _row_paged_cpu(r, anchor_missing, settings):
    m = "wrap"
    base = r.med(m, DYN, "pages_dicts_seconds")
    dyn = r.med(m, DYN, "pages_seconds")
    dyn_x = r.ratio(m, DYN, "pages_seconds", "pages_dicts_seconds")
    pages, size = settings.gc_pages, settings.page_size
    return Row(
        f"{pages} pages of {size:,} through PaginatedResponse vs json.loads, CPU",
        f"json.loads of the pages: {ms(base)}",
        _cell(r, m, CIVIS, lambda: "— (not measured)", anchor_missing),
        _cell(r, m, DYN, lambda: f"{ms(dyn)} ({times(dyn_x)})", anchor_missing),
        "—", "— (informative)", None,
        {"json_loads_s": base, "civis_dyn_s": dyn, "civis_dyn_x_json_loads": dyn_x},
        ".id read from every object; no network. A page is freed once iterated, not held "
        "while the next is decoded (holding it cost 6-8% here)")


def _row_memory(r, anchor_missing, goal):
    m = "wrap"
    dyn, civis = r.med(m, DYN, "memory_ratio"), r.med(m, CIVIS, "memory_ratio")
    return Row(
        "memory of 100k objects after reading .name of each vs dicts", "json.loads: 1x",
        _cell(r, m, CIVIS, lambda: times(civis), anchor_missing),
        _cell(r, m, DYN, lambda: times(dyn), anchor_missing),
        factor(dyn, civis, "less memory") if not anchor_missing and dyn and civis else "—",
        f"<= {goal}x dicts", None if dyn is None else dyn <= goal,
        {"civis_dyn_x_dicts": dyn, "civis_python_x_dicts": civis})


def _row_threads_16(r, anchor_missing, goal):
    m = "calls"
    dyn = r.ratio(m, DYN, "client_16_threads", "bare_16_threads")
    civis = r.ratio(m, CIVIS, "client_16_threads", "bare_16_threads")
    base = r.med(m, DYN, "bare_16_threads")
    return Row(
        "16 threads, server latency 0 ms, calls/s vs bare", f"bare Session: {per_s(base)}",
        _cell(r, m, CIVIS, lambda: f"{times(civis)} bare", anchor_missing),
        _cell(r, m, DYN, lambda: f"{times(dyn)} bare", anchor_missing),
        "—", f">= {goal}x bare", None if dyn is None else dyn >= goal,
        {"civis_dyn_x_bare": dyn, "civis_python_x_bare": civis, "bare_per_s": base})


def _row_threads(r, anchor_missing):
    m = "calls"
    base = r.ratio(m, DYN, "bare_4_threads", "bare_1_thread")
    dyn = r.ratio(m, DYN, "client_4_threads", "client_1_thread")
    civis = r.ratio(m, CIVIS, "client_4_threads", "client_1_thread")
    one, four = r.med(m, DYN, "client_1_thread"), r.med(m, DYN, "client_4_threads")
    c_one, c_four = r.med(m, CIVIS, "client_1_thread"), r.med(m, CIVIS, "client_4_threads")
    return Row(
        "4 threads vs 1, server latency 20 ms", f"bare Session: {times(base)}",
        _cell(r, m, CIVIS, lambda: f"{times(civis)} ({c_one:.0f} → {c_four:.0f}/s)",
              anchor_missing),
        _cell(r, m, DYN, lambda: f"{times(dyn)} ({one:.0f} → {four:.0f}/s)", anchor_missing),
        (f"{four / c_four:.1f}x the calls/s" if four and c_four else "—"),
        ">= 3.5x", None if dyn is None else dyn >= 3.5,
        {"bare_x": base, "civis_dyn_x": dyn, "civis_python_x": civis,
         "civis_dyn_1_per_s": one, "civis_dyn_4_per_s": four,
         "civis_python_1_per_s": c_one, "civis_python_4_per_s": c_four})


def _row_pages(r, anchor_missing, settings):
    m = "local"
    pages = settings.total_jobs // settings.page_limit
    dyn, civis = r.med(m, DYN, "page_requests"), r.med(m, CIVIS, "page_requests")

    def show(n):
        return "?" if n is None else f"{n:g} requests"

    return Row(
        f"requests to iterate N = {pages} full pages", f"N = {pages}",
        _cell(r, m, CIVIS, lambda: show(civis), anchor_missing),
        _cell(r, m, DYN, lambda: show(dyn), anchor_missing),
        (f"{civis - dyn:g} fewer" if dyn is not None and civis is not None else "—"),
        "N", None if dyn is None else dyn == pages,
        {"pages": pages, "civis_dyn_requests": dyn, "civis_python_requests": civis})


def _row_futures(r, anchor_missing, settings, max_threads):
    m = "local"
    started = r.med(m, DYN, "futures_threads_started")
    wall = r.med(m, DYN, "futures_wall_s")
    c_started = r.med(m, CIVIS, "futures_threads_started")
    c_alive = r.med(m, CIVIS, "futures_most_threads_alive")
    c_wall = r.med(m, CIVIS, "futures_wall_s")
    alive = r.med(m, DYN, "futures_most_threads_alive")
    n = settings.futures
    return Row(
        f"{n:,} concurrent run futures (0.2 s runs): threads", f"{n:,} futures",
        _cell(r, m, CIVIS, lambda: f"{c_started:g} threads ({c_alive:g} at once), "
              f"all done in {secs(c_wall)}", anchor_missing),
        _cell(r, m, DYN, lambda: f"{started:g} threads ({alive:g} at once), "
              f"all done in {secs(wall)}", anchor_missing),
        (factor(started, c_started, "fewer threads") if started and c_started else "—"),
        f"1 poller (<= {max_threads} threads)", None if started is None else started <= max_threads,
        {"futures": n, "civis_dyn_threads_started": started, "civis_dyn_most_alive": alive,
         "civis_dyn_wall_s": wall, "civis_python_threads_started": c_started,
         "civis_python_most_alive": c_alive, "civis_python_wall_s": c_wall},
        "each client's default polling (1 s, growing 1.2x)")


def _row_cli(r, anchor_missing):
    m = "cli"
    dyn, civis = r.med(m, DYN, "seconds"), r.med(m, CIVIS, "seconds")
    share = None
    if not anchor_missing:
        values = [d["seconds"] / c["seconds"] for d, c in r.aligned((m, DYN), (m, CIVIS))]
        share = median(values)
    python = r.med(m, DYN, "python_s")
    return Row(
        "CLI `jobs list --help` process time (warm schema cache)",
        f"python -c pass: {secs(python)}",
        _cell(r, m, CIVIS, lambda: secs(civis), anchor_missing),
        _cell(r, m, DYN, lambda: f"{secs(dyn)}" + (f" ({share:.2f} of civis)" if share else ""),
              anchor_missing),
        factor(dyn, civis, "faster") if not anchor_missing else "—",
        "<= 1/3 of civis", None if share is None else share <= 1 / 3,
        {"python_s": python, "civis_dyn_s": dyn, "civis_python_s": civis,
         "civis_dyn_share_of_civis": share})


def build_rows(raw, settings, anchor_missing, max_threads):
    """The table's rows from the raw rounds (see :class:`Row`)."""
    r = Rounds(raw)
    return [
        _row_import(r, anchor_missing),
        _row_construct(r, anchor_missing, "warm"),
        _row_construct(r, anchor_missing, "cold"),
        _row_ready(r, anchor_missing),
        _row_rss(r, anchor_missing, "warm"),
        _row_rss(r, anchor_missing, "cold"),
        _row_rss_first_call(r, anchor_missing),
        _row_first_call(r, anchor_missing),
        _row_calls(r, anchor_missing, "get", 1.5),
        _row_calls(r, anchor_missing, "list", 1.2),
        _row_pages_speed(r, anchor_missing, settings, 1.2),
        _row_wrap(r, anchor_missing, read=False, goal=1.1),
        _row_wrap(r, anchor_missing, read=True, goal=1.5),
        _row_memory(r, anchor_missing, 1.15),
        _row_paged_cpu(r, anchor_missing, settings),
        _row_threads_16(r, anchor_missing, 1.3),
        _row_threads(r, anchor_missing),
        _row_pages(r, anchor_missing, settings),
        _row_futures(r, anchor_missing, settings, max_threads),
        _row_cli(r, anchor_missing),
    ]


def medians(raw):
    """``{measurement: {client: {key: median over rounds}}}`` of every raw figure."""
    out = {}
    for measurement, by_client in raw.items():
        for client, rounds in by_client.items():
            kept = [r for r in rounds if r is not None]
            keys = sorted({k for r in kept for k, v in r.items() if isinstance(v, (int, float))})
            out.setdefault(measurement, {})[client] = {
                k: median(r.get(k) for r in kept) for k in keys}
    return out


# -- output ------------------------------------------------------------------------------
HEADERS = ("metric", "baseline", "civis-python", "civis_dyn", "civis_dyn vs civis-python",
           "target", "met?")


def met_text(met):
    return "—" if met is None else ("yes" if met else "NO")


def _cells(row):
    return (row.metric, row.baseline, row.civis_python, row.civis_dyn, row.ratio, row.target,
            met_text(row.met))


def format_table(rows):
    """The rows as an aligned plain-text table."""
    lines = [HEADERS] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    rule = "-+-".join("-" * w for w in widths)
    text = [" | ".join(cell.ljust(w) for cell, w in zip(lines[0], widths)), rule]
    text += [" | ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in lines[1:]]
    return "\n".join(line.rstrip() for line in text)


def _rst_escape(text):
    return text.replace("`", "").replace("*", r"\*").replace("|", r"\|")


def format_rst(rows):
    """The rows as an reStructuredText ``list-table``."""
    out = [".. list-table::", "   :header-rows: 1", ""]
    for line in [HEADERS] + [_cells(row) for row in rows]:
        first = True
        for cell in line:
            out.append(f"   {'* -' if first else '  -'} {_rst_escape(cell)}")
            first = False
    return "\n".join(out)


def write_results(path, document):
    """Write ``document`` as JSON to ``path`` atomically (a temporary file, then a rename)."""
    from civis_dyn._files import write_atomically

    data = json.dumps(document, indent=2, sort_keys=False, default=_jsonable) + "\n"
    write_atomically(path, data.encode("utf-8"), mode=0o644)
    return Path(path)


def _jsonable(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")

