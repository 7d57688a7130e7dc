"""Many runs: the design (run ids and seeds), chunks, executors (in process, Dask), the result
store, the sweep itself, its status, merging shards and replaying stored runs."""

from experiments.sweeps.design import Run, RunPlan
from experiments.sweeps.executors import Executor, ExecutorOptions, open_executor
from experiments.sweeps.store import Store, read_manifest, read_policies, read_runs, read_series, verified_files
from experiments.sweeps.sweep import Shard, run_sweep

__all__ = [
    "Executor",
    "ExecutorOptions",
    "Run",
    "RunPlan",
    "Shard",
    "Store",
    "open_executor",
    "read_manifest",
    "read_policies",
    "read_runs",
    "read_series",
    "run_sweep",
    "verified_files",
]
