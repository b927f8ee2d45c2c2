"""Upload and download a large file through ``civis_dyn.io`` and civis-python's ``civis.io``.

Usage::

    python bench/io_transfer.py [--mb 200]

A local Civis API (``LocalCivisAPI``) runs in its own process on 127.0.0.1, so
the figures are the client's alone. Each client runs in a fresh process that
uploads the same file (multipart above 50 MiB, as civis-python does), downloads
it back, and checks the bytes (SHA-256). Printed per client: upload and
download throughput, and the growth of peak RSS over the process's peak before
the transfer (``ru_maxrss``). civis-python is measured when it is importable.
Never asserted in tests.
"""

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

CHUNK = 1024 * 1024


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def serve(key):
    from civis_dyn.testing import LocalCivisAPI

    api = LocalCivisAPI(api_key=key, run_delays=(0, 0)).start()
    print(api.url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    api.stop()


def client_run(which, url, key, path, expected):
    if which == "civis_dyn":
        import civis_dyn
        import civis_dyn.io as cio

        client = civis_dyn.APIClient(api_key=key, base_url=url, allow_insecure_http=True)
    else:
        os.environ.update(CIVIS_API_KEY=key, CIVIS_API_ENDPOINT=url)
        import civis
        import civis.io as cio

        client = civis.APIClient()
    client.files.post("warm-up")  # imports, schema and connections before the baseline
    base = _peak_mb()
    t0 = time.perf_counter()
    fid = cio.file_to_civis(path, "bench.bin", client=client)
    t1 = time.perf_counter()
    out = path + f".{which}.out"
    cio.civis_to_file(fid, out, client=client)
    t2 = time.perf_counter()
    ok = _digest(out) == expected
    os.unlink(out)
    size = os.path.getsize(path) / 2 ** 20
    print(json.dumps({"client": which, "upload_mib_s": round(size / (t1 - t0), 1),
                      "download_mib_s": round(size / (t2 - t1), 1),
                      "peak_rss_growth_mib": round(_peak_mb() - base, 1), "bytes_ok": ok}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--serve", metavar="KEY")
    parser.add_argument("--client", nargs=5, metavar=("WHICH", "URL", "KEY", "PATH", "SHA"))
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve)
    if args.client:
        return client_run(*args.client)
    key = "bench-" + os.urandom(8).hex()
    server = subprocess.Popen([sys.executable, __file__, "--serve", key],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bench.bin")
            with open(path, "wb") as f:
                for _ in range(args.mb):
                    f.write(os.urandom(CHUNK))
            expected = _digest(path)
            clients = ["civis_dyn"]
            probe = subprocess.run([sys.executable, "-c", "import civis"], capture_output=True)
            if probe.returncode == 0:
                clients.append("civis-python")
            else:
                print("civis-python is not installed: measuring civis_dyn alone")
            for which in clients:
                subprocess.run([sys.executable, __file__, "--client", which, url, key, path,
                                expected], check=True)
    finally:
        server.stdin.close()
        server.wait(30)


if __name__ == "__main__":
    main()
