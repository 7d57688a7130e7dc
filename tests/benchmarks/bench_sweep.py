"""Throughput of a sweep: one process running its runs in a loop, against two Dask workers.

    make bench-sweep      # or: python tests/benchmarks/bench_sweep.py --repeats 3 --workers 2

The sweep: 126 short runs (2 policies x 9 worlds x 7 replicates, 24 months at 5% of the
population, ~0.2 s each), run to completion and stored as `smesim sweep` stores them.
- serial: `run_sweep` with the in-process executor (`--workers 0`): one process, a loop;
- dask: `run_sweep` on an embedded LocalCluster of `--workers` processes (one thread each),
  default chunking, started once and warmed up (each worker has imported the model) before
  it is timed; its start-up time is reported apart (a constant of a few seconds per sweep).
The two are measured alternately, `--repeats` times each; reported: runs per second
(median), the ratio dask / serial, and the issue's target: at least 80% of `workers` x the
serial rate. Results also go to results/bench/bench_sweep.json. Other work on the machine
slows either side; on a 2-core machine, run it idle.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from experiments.inputs.sweep_spec import parse_sweep_spec  # noqa: E402
from experiments.sweeps.executors import DaskExecutor, SerialExecutor  # noqa: E402
from experiments.sweeps.sweep import run_sweep  # noqa: E402

SPEC = """
description = "Benchmark: 126 short runs"
seed = 1
months = 24
scale = 0.05
replications = 7
[policies.baseline]
[policies.ministry_plan]
scenario = "ministry_plan"
[factors."uncertainties.inflation_rate"]
values = [0.3, 0.4, 0.55]
[factors."uncertainties.real_exchange_rate_drift"]
values = [-0.05, 0.0, 0.05]
"""
WARM_UP = SPEC.replace("replications = 7", "replications = 1").replace("months = 24", "months = 1")
TARGET_SHARE = 0.8


def timed_sweep(spec, executor, folder: Path) -> float:
    """Runs per second of a complete sweep into a fresh directory."""
    start = time.perf_counter()
    report = run_sweep(spec, folder, executor=executor, progress=False, resume=False)
    seconds = time.perf_counter() - start
    assert report.run_now == spec.runs_total and report.errors_now == 0, report
    return spec.runs_total / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="measurements of each (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench" / "bench_sweep.json")
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    spec = parse_sweep_spec(SPEC, str(ROOT / "bench_sweep.toml"), "bench_sweep")
    warm_up = parse_sweep_spec(WARM_UP, str(ROOT / "bench_sweep.toml"), "bench_sweep_warm_up")
    serial, dask = [], []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        started = time.perf_counter()
        with (
            LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            executor = DaskExecutor(client, f"embedded cluster, {args.workers} workers")
            client.wait_for_workers(args.workers)
            start_seconds = time.perf_counter() - started
            run_sweep(warm_up, scratch / "warm", executor=executor, progress=False, chunk_seconds=1e-6)
            run_sweep(warm_up, scratch / "warm_serial", executor=SerialExecutor(), progress=False)
            for repeat in range(args.repeats):
                dask.append(timed_sweep(spec, executor, scratch / f"dask{repeat}"))
                serial.append(timed_sweep(spec, SerialExecutor(), scratch / f"serial{repeat}"))
                print(f"repeat {repeat + 1}: serial {serial[-1]:.2f} runs/s, dask {dask[-1]:.2f} runs/s", flush=True)

    serial_rate, dask_rate = statistics.median(serial), statistics.median(dask)
    ratio = dask_rate / serial_rate
    target = TARGET_SHARE * args.workers
    figures = {
        "runs": spec.runs_total,
        "workers": args.workers,
        "repeats": args.repeats,
        "serial_runs_per_second": serial_rate,
        "dask_runs_per_second": dask_rate,
        "ratio": ratio,
        "target_ratio": target,
        "met": ratio >= target,
        "cluster_start_seconds": start_seconds,
        "serial_all": serial,
        "dask_all": dask,
    }
    print(f"\n{spec.runs_total} runs of {spec.months} months at scale {spec.scale}")
    print(f"serial (one process):      {serial_rate:6.2f} runs/s")
    print(
        f"dask ({args.workers} worker processes): {dask_rate:6.2f} runs/s   (cluster start-up {start_seconds:.1f} s, "
        "not counted)"
    )
    print(
        f"ratio dask / serial:       {ratio:6.2f}   target >= {target:.2f} ({TARGET_SHARE:.0%} of {args.workers}x): "
        f"{'met' if ratio >= target else 'NOT met'}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
