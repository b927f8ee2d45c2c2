"""Render civis_dyn's notebook HTML views in headless Chromium and save screenshots.

Builds a notebook-like page (a job list as a ``ListResponse`` and one nested job as a
``Response``) from the embedded local API, writes it to ``OUT/html_reprs.html`` and, when
Chromium is installed (Debian: ``apt-get install chromium``), saves
``OUT/html_repr_list.png`` and ``OUT/html_repr_job.png``.

Usage::

    python tools/render_html_reprs.py [--out docs] [--chromium /usr/bin/chromium]
"""

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 13px;
       margin: 16px; color: #222; }
.cell { border-left: 3px solid #42a5f5; padding: 4px 12px; margin-bottom: 18px; }
.prompt { color: #303f9f; font-family: monospace; margin-bottom: 6px; }
table { border-collapse: collapse; } th, td { padding: 3px 10px; text-align: left; }
thead { border-bottom: 1px solid #999; } tbody tr:nth-child(odd) { background: #f5f5f5; }
ul { list-style: none; padding-left: 18px; margin: 2px 0; }
.civis-str { color: #a31515; } .civis-number { color: #098658; } .civis-null { color: #888; }
"""


def build_page():
    """Return the page's HTML: two 'cells' with the views of real local-API results."""
    from civis_dyn.testing import LocalCivisAPI

    with LocalCivisAPI(run_delays=(0.0, 0.0)) as api:
        client = api.client()
        for n in range(25):
            client.scripts.post_containers(
                required_resources={"cpu": 256, "memory": 512}, docker_image_name="python",
                docker_command=f"python step_{n}.py", name=f"nightly step {n} <etl>")
        jobs = client.jobs.list(limit=25)
        job = client.jobs.get(jobs[0].id)
    cells = [("client.jobs.list(limit=25)", jobs._repr_html_()),
             (f"client.jobs.get({job.id})", job._repr_html_())]
    body = "".join(f'<div class="cell"><div class="prompt">In: {code}</div>{html}</div>'
                   for code, html in cells)
    return f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style>" \
           f"</head><body>{body}</body></html>"


def screenshot(chromium, page, png, size):
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--hide-scrollbars",
             f"--window-size={size}", f"--screenshot={png}", page.as_uri()],
            check=True, capture_output=True, timeout=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs", type=pathlib.Path)
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    page = (args.out / "html_reprs.html").resolve()
    page.write_text(build_page(), encoding="utf-8")
    print("wrote", page)
    if not args.chromium:
        print("Chromium not found: no screenshots (apt-get install chromium)", file=sys.stderr)
        return 1
    png = (args.out / "html_reprs.png").resolve()
    screenshot(args.chromium, page, png, "1000,880")
    print("wrote", png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
