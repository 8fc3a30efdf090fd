#!/usr/bin/env python3
"""pollutant-serve's two performance figures (docs/serve.md).

  scripts/serve-benchmark.py --bin .build/release --config configs/smoke.toml --data-dir DATA \
      [--model best] [--seconds 5] [--clients 4] [--fem-config configs/paper.toml] [--fem-repeats 3]

1. Throughput of a served surrogate: --clients processes, each a keep-alive HTTP session posting
   UM-Bridge Evaluate requests for --seconds; evaluations per second over all clients. Also the
   umbridge client's own loop (one new connection per call) in one process, for reference, and the
   server alone under wrk (C, 8 keep-alive connections) where wrk is installed.
2. A served FEM solve against the same solve by `pollutant-fem solve`, alternating: its printed
   in-process "# total" (no process start) and its whole run; medians over --fem-repeats, on --fem-config.
"""
import argparse
import json
import multiprocessing
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import numpy as np
    import requests
    import umbridge
except ImportError as missing:
    sys.exit(f"serve-benchmark: needs {missing.name} (pip install umbridge numpy)")


def start(bin_folder, config, data):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([os.path.join(bin_folder, "pollutant-serve"), "--config", config, "--data-dir", data, "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/Info", timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("serve-benchmark: the server did not start")


def client(url, body, seconds, out):
    session = requests.Session()
    count, end = 0, time.time() + seconds
    while time.time() < end:
        reply = session.post(url + "/Evaluate", data=body, headers={"Content-Type": "application/json"})
        assert reply.status_code == 200, reply.text
        count += 1
    out.put(count)


def wrk_throughput(url, model, theta, seconds):
    """The server alone: wrk (Debian's package, C) posts the same request over 8 keep-alive connections."""
    if not shutil.which("wrk"):
        print("serve-benchmark: wrk not installed (apt-get install wrk): no client-free figure")
        return
    body = json.dumps({"name": model, "input": [theta], "config": {}})
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\nwrk.headers["Content-Type"] = "application/json"\n')
    out = subprocess.run(["wrk", "-t1", "-c8", f"-d{int(seconds)}s", "-s", script.name, url + "/Evaluate"], capture_output=True, text=True).stdout
    os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: ([0-9]+)", out)
    print(f"serve-benchmark: {model}: {rate:.0f} evaluations/s (wrk, 1 thread, 8 keep-alive connections, {errors.group(1) if errors else 0} errors)")


def throughput(url, model, theta, seconds, clients):
    body = json.dumps({"name": model, "input": [theta], "config": {}})
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=client, args=(url, body, seconds, queue)) for _ in range(clients)]
    started = time.time()
    for w in workers:
        w.start()
    total = sum(queue.get() for _ in workers)
    for w in workers:
        w.join()
    rate = total / (time.time() - started)
    print(f"serve-benchmark: {model}: {rate:.0f} evaluations/s ({clients} keep-alive clients, {total} in {seconds} s)")
    m = umbridge.HTTPModel(url, model)
    count, end = 0, time.time() + min(seconds, 3)
    while time.time() < end:
        m([theta])
        count += 1
    print(f"serve-benchmark: {model}: {count / min(seconds, 3):.0f} evaluations/s (the umbridge client's loop, one process)")


def fem_cost(bin_folder, config, theta, repeats):
    """Served and direct solves alternate, so that a change of the machine's load hits both alike."""
    names = ["--K12", "--K3", "--D", "--U0", "--uh", "--uv"]
    served, direct, whole = [], [], []
    with tempfile.TemporaryDirectory() as data:
        process, url = start(bin_folder, config, data)
        try:
            model = umbridge.HTTPModel(url, "pollutant")
            for _ in range(repeats):
                t0 = time.time()
                model([theta])
                served.append(time.time() - t0)
                t0 = time.time()
                out = subprocess.run([os.path.join(bin_folder, "pollutant-fem"), "solve", "--config", config, "--data-dir", data]
                                     + [f"{n}={v!r}" for n, v in zip(names, theta)], check=True, capture_output=True, text=True).stdout
                whole.append(time.time() - t0)
                direct.append(float(re.search(r"# total ([0-9.]+) s", out).group(1)))
        finally:
            process.terminate()
            process.wait()
    s, d, w = statistics.median(served), statistics.median(direct), statistics.median(whole)
    print(f"serve-benchmark: FEM solve on {config}: served {s:.3f} s (round trip, median of {repeats}; first {served[0]:.3f} s); "
          f"pollutant-fem solve {d:.3f} s in-process (its '# total'), {w:.3f} s as a process: ratios {s / d:.3f} and {s / w:.3f}")


def first_solved(data):
    """The first sample the FEM solved (the first may lie where the wind has no solution)."""
    status = np.load(os.path.join(data, "fem", "status.npy"))
    return int(np.flatnonzero(status == 0)[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--model", default="best")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--fem-config")
    parser.add_argument("--fem-repeats", type=int, default=3)
    a = parser.parse_args()
    theta = [float(v) for v in np.load(os.path.join(a.data_dir, "samples", "params.npy"))[first_solved(a.data_dir)]]
    process, url = start(a.bin, a.config, a.data_dir)
    try:
        throughput(url, a.model, theta, a.seconds, a.clients)
        wrk_throughput(url, a.model, theta, a.seconds)
    finally:
        process.terminate()
        process.wait()
    fem_cost(a.bin, a.fem_config or a.config, theta, a.fem_repeats)


if __name__ == "__main__":
    main()
