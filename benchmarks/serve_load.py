"""Load on `slant serve`: N concurrent clients on 127.0.0.1 for T seconds, POSTing an article.

    python benchmarks/serve_load.py [--clients 50] [--seconds 30] [--article examples/article900000001.txt]

Starts `slant serve` on a free 127.0.0.1 port, waits for /healthz, then every
client loops: POST /api/analyze with the article, wait for the answer, again.
Prints requests/s, p50/p99 latency and errors (goal: 0 errors).  Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--article", type=Path, default=REPO / "examples" / "article900000001.txt")
    args = parser.parse_args()
    body = json.dumps({"text": args.article.read_text(encoding="utf-8")}).encode()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "slant", "serve", "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        for _ in range(300):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("slant serve did not start")
        latencies: list[float] = []
        errors: dict[str, int] = {}
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    conn.request("POST", "/api/analyze", body, {"Content-Type": "application/json"})
                    r = conn.getresponse()
                    r.read()
                    ok = r.status == 200
                    key = None if ok else f"HTTP {r.status}"
                except (OSError, http.client.HTTPException) as ex:
                    key = type(ex).__name__
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                with lock:
                    if key is None:
                        latencies.append(time.perf_counter() - t0)
                    else:
                        errors[key] = errors.get(key, 0) + 1

        started = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
        q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
        print(f"clients {args.clients}, {wall:.1f} s (including requests in flight at the end), article "
              f"{args.article.name} ({len(body)} bytes)")
        print(f"requests ok {len(latencies)}, {len(latencies) / wall:.1f} requests/s")
        print(f"latency p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms")
        print(f"errors {sum(errors.values())} {errors or ''}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
