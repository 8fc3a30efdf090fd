#!/usr/bin/env python3
"""pollutant-serve against the real UM-Bridge Python client (PyPI `umbridge`).

  scripts/test-serve.py --bin BIN --config CONFIG --data-dir DATA

DATA must hold a finished pipeline run (samples, fem, fitted models): `./pipeline.sh test` runs this on
its smoke data. Starts the server on a free port and checks: the models and their support flags;
Evaluate of the FEM bit-identical to `pollutant-fem solve --observations` for the same parameters; the
Jacobian (ApplyJacobian, Gradient) against central differences through the client and the adjoint
identity <J v, s> = <v, J^T s>, for the FEM and for surrogates; bad input (wrong sizes, NaN, out of the
box, blow-off, unknown model) answered with the protocol's error while the server stays up; 20
concurrent clients with nothing lost; queued solves of clients that closed their connections dropped;
a clean exit on SIGTERM. Exits 0 with a "skipped" line when the
umbridge or numpy module is absent.
"""
import argparse
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import numpy as np
    import umbridge
except ImportError as missing:
    print(f"test-serve: skipped: {missing.name} is not installed (pip install umbridge numpy)")
    sys.exit(0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, bin_folder, config, data):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        self.process = subprocess.Popen([os.path.join(bin_folder, "pollutant-serve"), "--config", config, "--data-dir", data,
                                         "--port", str(self.port)], stdout=self.log, stderr=self.log,
                                        env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/Info", timeout=2).read()
                return
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"test-serve: the server did not start:\n{self.output()}")
                time.sleep(0.1)

    def output(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()


FAILURES = []


def check(condition, what):
    print(f"  {'ok  ' if condition else 'FAIL'} {what}")
    if not condition:
        FAILURES.append(what)


def expect_error(model, call, fragment, what):
    try:
        call(model)
    except Exception as e:  # the client raises a bare Exception with the server's type and message
        check(fragment in str(e), f"{what}: {e}")
        return
    check(False, f"{what}: no error")


def fem_solve(bin_folder, config, data, theta, folder, overrides=()):
    out = os.path.join(folder, "x.npy")
    names = ["--K12", "--K3", "--D", "--U0", "--uh", "--uv"]
    args = [os.path.join(bin_folder, "pollutant-fem"), "solve", "--config", config, "--data-dir", data, "--observations", out]
    args += [f"--set={o}" for o in overrides]
    args += [f"{n}={repr(float(v))}" for n, v in zip(names, theta)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    return np.load(out)[:, 2]


def central_jacobian(model, theta, steps):
    columns = []
    for k, h in enumerate(steps):
        plus, minus = list(theta), list(theta)
        plus[k] += h
        minus[k] -= h
        f1, f0 = np.array(model([plus])[0]), np.array(model([minus])[0])
        columns.append((f1 - f0) / (plus[k] - minus[k]))
    return np.stack(columns, axis=1)


def served_jacobian(model, theta):
    return np.stack([model.apply_jacobian(0, 0, [theta], list(np.eye(6)[k])) for k in range(6)], axis=1)


def check_jacobian(model, theta, steps, tolerance):
    j = served_jacobian(model, theta)
    fd = central_jacobian(model, theta, steps)
    error = np.abs(j - fd).max() / max(np.abs(fd).max(), 1e-300)
    check(error < tolerance, f"{model.name}: ApplyJacobian against central differences: max error {error:.2e} of max |J| (< {tolerance})")
    rng = np.random.default_rng(1)
    v, s = rng.standard_normal(6), rng.standard_normal(j.shape[0])
    jv = np.array(model.apply_jacobian(0, 0, [theta], list(v)))
    jts = np.array(model.gradient(0, 0, [theta], list(s)))
    check(abs(jv @ s - v @ jts) <= 1e-10 * (abs(jv) @ abs(s)), f"{model.name}: <J v, s> = <v, J^T s> ({jv @ s:.6e}, {v @ jts:.6e})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--data-dir", required=True)
    a = parser.parse_args()
    started = time.time()
    params = np.load(os.path.join(a.data_dir, "samples", "params.npy"))
    status = np.load(os.path.join(a.data_dir, "fem", "status.npy"))
    good = [i for i in range(len(status)) if status[i] == 0]
    server = Server(a.bin, a.config, a.data_dir)
    try:
        run_checks(a, server, params, good)
        stop(server)
    finally:
        if server.process.poll() is None:
            server.process.kill()
    print(f"test-serve: {len(FAILURES)} failure(s) in {time.time() - started:.1f} s")
    if FAILURES:
        print(server.output())
        sys.exit(1)


def run_checks(a, server, params, good):
    models = umbridge.supported_models(server.url)
    print(f"test-serve: {server.url} serves {models}")
    check("pollutant" in models and "best" in models, "the FEM and the best surrogate are served")
    fem = umbridge.HTTPModel(server.url, "pollutant")
    check(fem.supports_evaluate() and fem.supports_gradient() and fem.supports_apply_jacobian() and not fem.supports_apply_hessian(),
          "pollutant supports Evaluate, Gradient, ApplyJacobian, not ApplyHessian")
    check(fem.get_input_sizes() == [6], "pollutant's input sizes are [6]")
    theta = [float(v) for v in params[good[0]]]
    with tempfile.TemporaryDirectory() as folder:
        reference = fem_solve(a.bin, a.config, a.data_dir, theta, folder)
    served = np.array(fem([theta])[0])
    check(fem.get_output_sizes() == [len(reference)], f"pollutant's output sizes are [{len(reference)}]")
    check(served.shape == reference.shape and np.array_equal(served, reference), "Evaluate's c3 is bit-identical to pollutant-fem solve's")
    # The config chooses another mesh: the same c3 as pollutant-fem solve on it.
    with tempfile.TemporaryDirectory() as folder:
        coarse_reference = fem_solve(a.bin, a.config, a.data_dir, theta, folder, ["fem.nx=12", "fem.ny=8"])
    coarse = np.array(fem([theta], {"nx": 12, "ny": 8})[0])
    check(np.array_equal(coarse, coarse_reference) and not np.array_equal(coarse, served),
          "config {nx: 12, ny: 8}: c3 bit-identical to pollutant-fem solve --set fem.nx=12 --set fem.ny=8")
    expect_error(fem, lambda m: m([theta], {"mesh": 3}), "no config key", "pollutant: an unknown config key")
    # Steps: 1e-4 of the parameter's scale for the FEM (its Newton tolerance limits the differences).
    check_jacobian(fem, theta, [1e-4 * max(abs(t), 1e-2) for t in theta], 2e-3)
    # Surrogates: the networks' exact Jacobian, POD-GP's served central differences. The networks are
    # float32: a step of 1e-2 keeps their rounding (1e-7 / step) below the difference's truncation.
    for name in [m for m in ["tuned", "pod_gp", "plain"] if m in models]:
        model = umbridge.HTTPModel(server.url, name)
        check(model.supports_gradient() and model.supports_apply_jacobian(), f"{name} supports Gradient and ApplyJacobian")
        check_jacobian(model, theta, [1e-2 * max(abs(t), 1e-2) for t in theta], 1e-3)
    check_bad_input(fem, umbridge.HTTPModel(server.url, "best"), theta, server)
    check_concurrency(server, params, good)
    check_closed_connections(server, params, good)


def check_bad_input(fem, best, theta, server):
    blow_off = list(theta)
    blow_off[4], blow_off[5] = -0.05, 0.2  # u_h ≤ 0 and u_v ≫ 0.619 sqrt(ν U0): no wind
    blow_off[3] = 0.02
    for model in (fem, best):
        expect_error(model, lambda m: m([theta[:5]]), "InvalidInput", f"{model.name}: 5 parameters")
        expect_error(model, lambda m: m([theta, theta]), "InvalidInput", f"{model.name}: two input vectors")
        expect_error(model, lambda m: m([[1e6] + theta[1:]]), "outside the box", f"{model.name}: K12 out of the box")
        expect_error(model, lambda m: m([blow_off]), "blow-off", f"{model.name}: the blow-off region")
        expect_error(model, lambda m: m.apply_jacobian(0, 0, [theta], [1.0] * 5), "InvalidInput", f"{model.name}: ApplyJacobian with 5 directions")
        expect_error(model, lambda m: m.gradient(1, 0, [theta], [1.0] * m.get_output_sizes()[0]), "outWrt", f"{model.name}: Gradient outWrt 1")
    # The client refuses to send NaN (requests writes strict JSON); Python's json writes the token NaN.
    for name in ("pollutant", "best"):
        body = json.dumps({"name": name, "input": [theta[:3] + [float("nan")] + theta[4:]]}).encode()
        reply = json.loads(post(server.url + "/Evaluate", body))
        check(reply.get("error", {}).get("type") == "InvalidInput" and "finite" in reply["error"]["message"], f"{name}: NaN: {reply}")
    reply = json.loads(post(server.url + "/Evaluate", json.dumps({"name": "nope", "input": [[1]]}).encode()))
    check(reply.get("error", {}).get("type") == "ModelNotFound", f"an unknown model: {reply}")
    check(umbridge.supported_models(server.url) is not None and server.process.poll() is None, "the server is still up after bad input")


def post(url, body):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        return urllib.request.urlopen(request, timeout=30).read()
    except urllib.error.HTTPError as e:
        return e.read()


def check_concurrency(server, params, good):
    rows = [[float(v) for v in params[good[i % len(good)]]] for i in range(20)]
    for name in ["pollutant", "best"]:
        model = umbridge.HTTPModel(server.url, name)
        sequential = [model([row])[0] for row in rows]
        started = time.time()
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            concurrent_results = list(pool.map(lambda row: umbridge.HTTPModel(server.url, name)([row])[0], rows))
        same = all(np.array_equal(x, y) for x, y in zip(sequential, concurrent_results))
        check(len(concurrent_results) == 20 and same, f"{name}: 20 concurrent clients, every answer equal to the sequential one ({time.time() - started:.2f} s)")


def check_closed_connections(server, params, good):
    """40 FEM Jacobian requests sent on raw connections that are closed at once: the requests still
    queued when the server notices (it looks every 50 ms) are never solved, and the server goes on."""
    rows = [[float(v) for v in params[good[i % len(good)]]] for i in range(40)]
    sockets = []
    for row in rows:
        body = json.dumps({"name": "pollutant", "input": [row], "outWrt": 0, "inWrt": 0, "vec": [1.0] * 6}).encode()
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(b"POST /ApplyJacobian HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        sockets.append(s)
    for s in sockets:
        s.close()
    deadline = time.time() + 30
    while time.time() < deadline and server.output().count("not computed") == 0:
        time.sleep(0.2)
    time.sleep(2)
    dropped = server.output().count("closed its connection before it was computed")
    model = umbridge.HTTPModel(server.url, "pollutant")
    check(0 < dropped <= 40 and len(model([rows[0]])[0]) > 0,
          f"40 closed connections: {dropped} queued solves dropped, never computed; the server still answers")


def stop(server):
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        code = None
    check(code == 0 and "stopped" in server.output(), f"SIGTERM: exit status {code} and a clean stop")


if __name__ == "__main__":
    main()
