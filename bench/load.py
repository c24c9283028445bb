"""Concurrent page load from a process of its own: ``--concurrency`` threads request ``--url``
for ``--seconds`` with a signed-in session's cookie, and the latencies are printed as JSON.

    .venv/bin/python bench/load.py --base http://127.0.0.1:8765 --url /schools/bench-1/ \\
        --session SESSION_KEY --concurrency 8 --seconds 20

bench/run.py starts it next to a gunicorn serving the benchmark database.
"""

import argparse
import json
import statistics
import threading
import time

import requests


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(base, url, cookies, concurrency, seconds):
    latencies, statuses, lock = [], {}, threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        session = requests.Session()
        session.cookies.update(cookies)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = session.get(base + url, timeout=60, allow_redirects=False)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    session = requests.Session()  # warm up: first request of each worker process
    session.cookies.update(cookies)
    for _ in range(4):
        session.get(base + url, timeout=60)
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    return {
        "url": url,
        "requests": len(latencies),
        "statuses": statuses,
        "concurrency": concurrency,
        "per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--session", required=True, help="a signed-in session's key")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    options = parser.parse_args()
    cookies = {"sessionid": options.session}
    result = run(options.base, options.url, cookies, options.concurrency, options.seconds)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
