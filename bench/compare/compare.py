#!/usr/bin/env python3
"""Runs the same workloads in anvil (its Google Benchmark binaries) and in PyTorch on this machine,
interleaved (A B A B ...) so that both see the same noise, at 1 and 2 threads, and prints the
medians and the anvil/PyTorch ratio (above 1.0: anvil is faster).

PyTorch is used only here, for comparison; anvil never depends on it. Use a PyTorch whose
torch.mm runs on a fast BLAS (Debian's python3-torch with libopenblas0-openmp installed, or a
PyPI torch).

    /usr/bin/python3 bench/compare/compare.py --build build [--rounds 5] [--filter sgemm]
"""
import argparse
import glob
import importlib.util
import json
import re
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F


def gemm(n):
    return dict(bench="bench_linalg", name=f"BM_sgemm/{n}", metric="GFLOP/s",
                work=2.0 * n ** 3 / 1e9, torch_setup=lambda: (torch.rand(n, n), torch.rand(n, n)),
                torch_fn=lambda a, b: torch.mm(a, b))


def elementwise(name, fn, arrays):
    n = 1 << 24
    return dict(bench="bench_binary" if name in ("add", "mul") else "bench_unary",
                name=f"BM_{name}/{n}", metric="GB/s", work=arrays * 4.0 * n / 1e9,
                torch_setup=lambda: (torch.rand(n), torch.rand(n)), torch_fn=fn)


def inplace(name, fn, arrays):
    """The kernel alone: both libraries write into an existing tensor (no allocation)."""
    n = 1 << 24
    return dict(bench="bench_binary" if name.startswith("add") else "bench_unary",
                name=f"BM_{name}/{n}", metric="GB/s", work=arrays * 4.0 * n / 1e9,
                torch_setup=lambda: (torch.rand(n), torch.rand(n)), torch_fn=fn)


def index_op(name, setup, fn):
    return dict(bench="bench_index", name=f"BM_{name}", metric="ms", work=None,
                torch_setup=setup, torch_fn=fn)


def rows(name, fn):
    n = 4096
    return dict(bench="bench_reduce", name=f"BM_{name}", metric="GB/s",
                work=(2 if "softmax" in name else 1) * 4.0 * n * n / 1e9,
                torch_setup=lambda: (torch.rand(n, n),), torch_fn=fn)


def linear16_setup():
    layer = torch.nn.Linear(16, 16)
    return layer, torch.rand(16, 16)


def linear16_step(layer, x):
    layer.zero_grad(set_to_none=False)
    layer(x).sum().backward()


def add_chain16(a):
    y = a
    for _ in range(16):
        y = y + a
    return y


WORKLOADS = [
    gemm(256), gemm(1024), gemm(4096),
    dict(bench="bench_linalg", name="BM_sgemm_transposed_b/1024", metric="GFLOP/s", work=2.0 * 1024 ** 3 / 1e9,
         torch_setup=lambda: (torch.rand(1024, 1024), torch.rand(1024, 1024)),
         torch_fn=lambda a, b: torch.mm(a, b.t())),
    elementwise("add", lambda a, b: a + b, 3),
    elementwise("mul", lambda a, b: a * b, 3),
    elementwise("gelu", lambda a, b: F.gelu(a), 2),
    elementwise("exp", lambda a, b: torch.exp(a), 2),
    elementwise("relu", lambda a, b: torch.relu(a), 2),
    elementwise("sigmoid", lambda a, b: torch.sigmoid(a), 2),
    inplace("add_inplace", lambda a, b: a.add_(b), 3),
    inplace("exp_inplace", lambda a, b: a.exp_(), 2),
    inplace("relu_inplace", lambda a, b: a.relu_(), 2),
    inplace("sigmoid_inplace", lambda a, b: a.sigmoid_(), 2),
    dict(bench="bench_reduce", name="BM_sum_all", metric="GB/s", work=4.0 * (1 << 24) / 1e9,
         torch_setup=lambda: (torch.rand(1 << 24),), torch_fn=lambda a: a.sum()),
    rows("sum_rows", lambda a: a.sum(-1)),
    rows("softmax_rows", lambda a: torch.softmax(a, -1)),
    rows("log_softmax_rows", lambda a: torch.log_softmax(a, -1)),
    dict(bench="bench_copy", name="BM_copy_transposed/4096", metric="GB/s", work=2 * 4.0 * 4096 ** 2 / 1e9,
         torch_setup=lambda: (torch.rand(4096, 4096),), torch_fn=lambda a: a.t().contiguous()),
    index_op("gather", lambda: (torch.rand(4096, 1024), torch.randint(0, 1024, (4096, 1024))),
             lambda x, i: torch.gather(x, 1, i)),
    index_op("index_select_rows", lambda: (torch.rand(50000, 512), torch.randint(0, 50000, (8192,))),
             lambda t, r: torch.index_select(t, 0, r)),
    index_op("scatter_add", lambda: (torch.zeros(4096, 1024), torch.randint(0, 1024, (4096, 1024)),
                                     torch.rand(4096, 1024)),
             lambda x, i, s: torch.scatter_add(x, 1, i, s)),
    index_op("masked_select", lambda: (torch.rand(4096, 1024), torch.rand(4096, 1024) < 0.5),
             lambda x, m: torch.masked_select(x, m)),
    index_op("cat_dim1", lambda: (torch.rand(4096, 1024),), lambda x: torch.cat([x, x], 1)),
    index_op("sort_rows", lambda: (torch.rand(1024, 4096),), lambda x: torch.sort(x)),
    index_op("topk10_rows", lambda: (torch.rand(1024, 4096),), lambda x: torch.topk(x, 10)),
    index_op("flip_last_dim", lambda: (torch.rand(4096, 1024),), lambda x: torch.flip(x, [-1])),
    dict(bench="bench_binary", name="BM_add_scalar_overhead/1", metric="ns/op", work=None,
         torch_setup=lambda: (torch.rand(1), torch.rand(1)), torch_fn=lambda a, b: torch.add(a, b)),
    dict(bench="bench_autograd", name="BM_add_backward_1elem", metric="us", work=None,
         torch_setup=lambda: (torch.rand(1, requires_grad=True), torch.rand(1, requires_grad=True)),
         torch_fn=lambda a, b: (a + b).backward()),
    dict(bench="bench_autograd", name="BM_linear16_step", metric="us", work=None,
         torch_setup=linear16_setup, torch_fn=linear16_step),
    dict(bench="bench_autograd", name="BM_record_add_chain16", metric="us", work=None,
         torch_setup=lambda: (torch.rand(1, requires_grad=True),), torch_fn=add_chain16),
]


# Each op family adds its own workloads in bench/compare/workloads_<family>.py (a WORKLOADS list).
for _path in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads_*.py"))):
    _spec = importlib.util.spec_from_file_location(os.path.basename(_path)[:-3], _path)
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    WORKLOADS.extend(_module.WORKLOADS)


def run_anvil(build, w, threads, min_time):
    exe = os.path.join(build, "bench", w["bench"])
    env = dict(os.environ, ANVIL_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run([exe, f"--benchmark_filter=^{w['name']}(/real_time)?$",
                          f"--benchmark_min_time={min_time}", f"--benchmark_min_warmup_time={min_time}",
                          "--benchmark_format=json"],
                         env=env, check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    if not runs:
        raise RuntimeError(f"{w['bench']} has no benchmark named {w['name']}")
    b = runs[0]
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
    return b["real_time"] * scale  # seconds per iteration


def run_torch(w, threads, min_time):
    torch.set_num_threads(threads)
    args = w["torch_setup"]()
    w["torch_fn"](*args)
    iters, elapsed = 0, 0.0
    start = time.perf_counter()
    while elapsed < min_time or iters < 3:
        w["torch_fn"](*args)
        iters += 1
        elapsed = time.perf_counter() - start
    return elapsed / iters


TIME_UNITS = {"ns/op": 1e9, "us": 1e6, "ms": 1e3}


def metric(w, seconds):
    return seconds * TIME_UNITS[w["metric"]] if w["work"] is None else w["work"] / seconds


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--min-time", type=float, default=0.3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--filter", default="", help="regular expression on workload names")
    a = p.parse_args()
    print(f"torch {torch.__version__}; BLAS: "
          f"{'OpenBLAS' if 'openblas' in torch.__config__.show().lower() else 'see torch.__config__.show()'}")
    rows_out = []
    for threads in [int(t) for t in a.threads.split(",")]:
        for w in WORKLOADS:
            if not re.search(a.filter, w["name"]):
                continue
            anvil_m, torch_m = [], []
            for _ in range(a.rounds):  # interleaved: A B A B ...
                anvil_m.append(metric(w, run_anvil(a.build, w, threads, a.min_time)))
                torch_m.append(metric(w, run_torch(w, threads, a.min_time)))
            am, tm = statistics.median(anvil_m), statistics.median(torch_m)
            ratio = tm / am if w["work"] is None else am / tm
            rows_out.append((threads, w["name"], w["metric"], am, tm, ratio))
            print(f"{threads}T {w['name']:<28} {w['metric']:>7}  anvil {am:10.2f}  torch {tm:10.2f}"
                  f"  anvil/torch {ratio:5.2f}", flush=True)
    print("\n| threads | workload | unit | anvil (median) | PyTorch (median) | ratio (>1: anvil faster) |")
    print("|---|---|---|---|---|---|")
    for t, name, unit, am, tm, r in rows_out:
        print(f"| {t} | {name} | {unit} | {am:.2f} | {tm:.2f} | {r:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
