"""Speed and memory of a full-scale run, against Mesa's own per-agent loop in the same run.

    make bench            # or: python tests/benchmarks/bench_model.py --repeats 3

Each measurement runs in a fresh Python process, so peak memory (max RSS) belongs to that
measurement alone. Reported, as medians over the repeats:
- model: construction time, 48 monthly steps, time per step, total, peak RSS;
- reference: `model.agents.shuffle_do("step")` of an empty `step` in a bare `mesa.Model`
  holding as many agents as the SMEModel holds at month 0 (the fewest it ever holds, so the
  reference is as fast as it gets and the ratio is conservative);
- ratio: mean SMEModel step / reference loop.
- interleaved ratios: the model and two references built in one process and stepped
  alternately, month by month, so all see the same machine state (on a noisy machine these
  are the steadier figures: the reference alone varies by up to 2x between fresh processes).
  One reference holds the model's month-0 agent count throughout; the other holds, each month,
  as many agents as the model holds that month (every unit is an agent, 135,000 -> ~212,000).
  The model's construction is timed in that process too.
Budgets, against the month-0 reference loop in the same process: step <= 0.1 loop,
construction <= 1 loop, construction + 48 steps <= 6 loops; peak memory <= 250 MB.
Results also go to results/bench/bench.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MODEL_RUN = """
import json, resource, time
t0 = time.perf_counter()
from simulation import SMEModel
imported = time.perf_counter()
model = SMEModel(rng={seed})
built = time.perf_counter()
agents_at_start = len(model.agents)
steps = []
for _ in range({months}):
    t = time.perf_counter(); model.step(); steps.append(time.perf_counter() - t)
print(json.dumps({{
    "construct_s": built - imported, "steps_s": sum(steps), "step_mean_s": sum(steps) / len(steps),
    "step_max_s": max(steps), "run_s": built - imported + sum(steps),
    "agents_at_start": agents_at_start, "agents_at_end": len(model.agents),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}}))
"""

INTERLEAVED_RUN = """
import gc, json, time, mesa
from simulation import SMEModel
class Empty(mesa.Agent):
    def step(self):
        pass
t = time.perf_counter(); model = SMEModel(rng={seed}); construct = time.perf_counter() - t
fixed, same = mesa.Model(rng=1), mesa.Model(rng=2)
for _ in range(len(model.agents)):
    Empty(fixed)
gc.collect()
steps, fixed_loops, same_loops = [], [], []
for _ in range({months}):
    t = time.perf_counter(); model.step(); steps.append(time.perf_counter() - t)
    t = time.perf_counter(); fixed.agents.shuffle_do("step"); fixed_loops.append(time.perf_counter() - t)
    for _ in range(len(model.agents) - len(same.agents)):  # the model's agents this month (not timed)
        Empty(same)
    t = time.perf_counter(); same.agents.shuffle_do("step"); same_loops.append(time.perf_counter() - t)
mean = lambda xs: sum(xs) / len(xs)
print(json.dumps({{"construct_s": construct, "step_s": mean(steps), "steps_s": sum(steps),
                  "loop_s": mean(fixed_loops), "same_loop_s": mean(same_loops)}}))
"""

REFERENCE_RUN = """
import json, time, mesa
class Empty(mesa.Agent):
    def step(self):
        pass
model = mesa.Model(rng=1)
for _ in range({agents}):
    Empty(model)
times = []
for _ in range({loops}):
    t = time.perf_counter(); model.agents.shuffle_do("step"); times.append(time.perf_counter() - t)
print(json.dumps({{"loop_s": sorted(times)[len(times) // 2]}}))
"""


def run_child(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "bench" / "bench.json")
    args = parser.parse_args()

    model_runs, reference_runs, interleaved = [], [], []
    for i in range(args.repeats):
        model_runs.append(run_child(MODEL_RUN.format(seed=i + 1, months=args.months)))
        reference_runs.append(run_child(REFERENCE_RUN.format(agents=model_runs[-1]["agents_at_start"], loops=7)))
        interleaved.append(run_child(INTERLEAVED_RUN.format(seed=i + 1, months=args.months)))
        print(
            f"repeat {i + 1}/{args.repeats}: run {model_runs[-1]['run_s']:.2f} s, "
            f"step {model_runs[-1]['step_mean_s'] * 1e3:.1f} ms, reference loop "
            f"{reference_runs[-1]['loop_s'] * 1e3:.1f} ms; "
            f"interleaved in one process: step {interleaved[-1]['step_s'] * 1e3:.1f} ms, "
            ""
            f"loop {interleaved[-1]['loop_s'] * 1e3:.1f} ms, same-agents loop "
            f"{interleaved[-1]['same_loop_s'] * 1e3:.1f} ms",
            file=sys.stderr,
        )

    med = {key: statistics.median(r[key] for r in model_runs) for key in model_runs[0]}
    ref = statistics.median(r["loop_s"] for r in reference_runs)
    ratios = [m["step_mean_s"] / r["loop_s"] for m, r in zip(model_runs, reference_runs, strict=True)]
    same_process = [r["step_s"] / r["loop_s"] for r in interleaved]
    same_agents = [r["step_s"] / r["same_loop_s"] for r in interleaved]
    construct_loops = [r["construct_s"] / r["loop_s"] for r in interleaved]
    run_loops = [(r["construct_s"] + r["steps_s"]) / r["loop_s"] for r in interleaved]
    result = {
        **med,
        "reference_loop_s": ref,
        "step_to_reference_ratio": statistics.median(ratios),
        "interleaved_ratio": statistics.median(same_process),
        "interleaved_ratios": same_process,
        "same_agents_ratio": statistics.median(same_agents),
        "same_agents_ratios": same_agents,
        "construct_in_loops": statistics.median(construct_loops),
        "run_in_loops": statistics.median(run_loops),
        "repeats": args.repeats,
        "months": args.months,
    }
    checks = {
        "step <= 0.1 x Mesa's bare loop over the month-0 agents": result["interleaved_ratio"] <= 0.1,
        "construction <= 1 bare loop": result["construct_in_loops"] <= 1.0,
        f"construction + {args.months} steps <= 6 bare loops": result["run_in_loops"] <= 6.0,
        "peak memory <= 250 MB": result["peak_rss_mb"] <= 250,
    }
    print(f"""
Full-scale SMEModel, {args.months} months, median of {args.repeats} (fresh process each)
  construction (85,000 units + 50,000 under construction): {med["construct_s"]:.3f} s
  {args.months} steps: {med["steps_s"]:.3f} s   mean step {med["step_mean_s"] * 1e3:.1f} ms   \
max step {med["step_max_s"] * 1e3:.1f} ms
  whole run (construction + steps): {med["run_s"]:.3f} s
  agents: {med["agents_at_start"]:,.0f} at month 0, {med["agents_at_end"]:,.0f} at month {args.months}
  peak RSS: {med["peak_rss_mb"]:.0f} MB
Reference: Mesa shuffle_do of an empty step over {med["agents_at_start"]:,.0f} agents: {ref * 1e3:.1f} ms
  ratio model step / that loop, separate processes: {result["step_to_reference_ratio"]:.3f}
  the same, model and reference alternating month by month in one process: {result["interleaved_ratio"]:.3f}
    (per repeat: {", ".join(f"{r:.3f}" for r in same_process)})
Reference over the same agents as the model each month, alternating in one process
  ratio model step / loop: {result["same_agents_ratio"]:.3f}   \
(per repeat: {", ".join(f"{r:.3f}" for r in same_agents)})
In bare loops over the month-0 agents, same process: construction {result["construct_in_loops"]:.2f}, \
construction + {args.months} steps {result["run_in_loops"]:.2f}""")
    for label, ok in checks.items():
        print(f"  [{'ok' if ok else 'OVER BUDGET'}] {label}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**result, "checks": checks}, indent=2))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
