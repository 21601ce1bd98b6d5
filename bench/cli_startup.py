"""CLI start-up benchmark: `dunbot --help` and configuration errors beside a bare interpreter.

    python -m bench.cli_startup            # 15 rounds
    python -m bench.cli_startup --rounds 40

Each round runs every scenario once, in turn (so load on the machine falls on all of them
alike), as a fresh process without configuration in an empty directory: `python -c pass` with
the same interpreter (the baseline), `dunbot --help`, `dunbot draft --help`, and three
configuration errors (`dunbot draft --invoice in_…`, `dunbot serve` and `dunbot worker`
without STRIPE_API_KEY). Reports wall time (median, p90) and CPU time (user + system, median)
per scenario, the ratio of each median to the baseline's measured in the same run, and the
goal: every `dunbot` scenario under 1 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

GOAL_S = 1.0
DUNBOT = str(Path(sys.executable).with_name("dunbot"))


@dataclass(frozen=True)
class Scenario:
    name: str
    argv: list[str]
    exit_code: int
    says: str  # what the output must contain (so a crash is never timed as a success)


SCENARIOS = [
    Scenario("python -c pass (baseline)", [sys.executable, "-c", "pass"], 0, ""),
    Scenario("dunbot --help", [DUNBOT, "--help"], 0, "Commands:"),
    Scenario("dunbot draft --help", [DUNBOT, "draft", "--help"], 0, "--invoice ID"),
    Scenario(
        "dunbot draft --invoice in_x (no key)",
        [DUNBOT, "draft", "--invoice", "in_bench"],
        2,
        "STRIPE_API_KEY is not set",
    ),
    Scenario("dunbot serve (no key)", [DUNBOT, "serve"], 2, "STRIPE_API_KEY is not set"),
    Scenario("dunbot worker (no key)", [DUNBOT, "worker"], 2, "STRIPE_API_KEY is not set"),
]


@dataclass
class Samples:
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)


def _environment(workdir: Path) -> dict[str, str]:
    """The caller's environment without any dunbot configuration."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(("_API_KEY", "_TOKEN", "_SECRET", "_PASSWORD"))
        and key not in {"DATABASE_URL", "LLM_PROVIDER", "PLAYBOOKS_FILE"}
    }
    env["DUNBOT_CONFIG"] = str(workdir / "absent.toml")
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(scenario: Scenario, *, workdir: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run; raises if it did not end as the scenario says."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        scenario.argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    output = result.stdout + result.stderr
    if result.returncode != scenario.exit_code or scenario.says not in output:
        raise RuntimeError(
            f"{scenario.name}: exit {result.returncode}, expected {scenario.exit_code} "
            f"saying {scenario.says!r}:\n{output[-2000:]}"
        )
    return wall, cpu


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def report(samples: dict[str, Samples], rounds: int) -> bool:
    """Print the table; True when every dunbot scenario's median is under the goal."""
    baseline = samples[SCENARIOS[0].name]
    base_wall = statistics.median(baseline.wall_s)
    base_cpu = statistics.median(baseline.cpu_s)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"CLI start-up, {rounds} rounds, load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"goal: every dunbot scenario under {GOAL_S:.1f} s (median wall time)\n")
    header = f"{'scenario':<38} {'wall p50':>9} {'wall p90':>9} {'cpu p50':>8} {'× bare':>8}  goal"
    print(header)
    print("-" * len(header))
    all_met = True
    for scenario in SCENARIOS:
        found = samples[scenario.name]
        wall, cpu = statistics.median(found.wall_s), statistics.median(found.cpu_s)
        is_baseline = scenario is SCENARIOS[0]
        met = wall < GOAL_S
        all_met = all_met and (met or is_baseline)
        ratio = "1.0" if is_baseline else f"{wall / base_wall:.1f}"
        verdict = "" if is_baseline else ("met" if met else "NOT MET")
        print(
            f"{scenario.name:<38} {wall * 1000:>7.0f}ms {_p90(found.wall_s) * 1000:>7.0f}ms "
            f"{cpu * 1000:>6.0f}ms {ratio:>8}  {verdict}"
        )
    print(
        f"\nbaseline: {base_wall * 1000:.0f} ms wall, {base_cpu * 1000:.0f} ms CPU "
        "(× bare is the ratio of median wall times, measured in this run)"
    )
    return all_met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    samples = {scenario.name: Samples() for scenario in SCENARIOS}
    with tempfile.TemporaryDirectory(prefix="dunbot-bench-cli-") as directory:
        workdir = Path(directory)
        env = _environment(workdir)
        for scenario in SCENARIOS:  # warm the OS file cache and the bytecode once
            run_once(scenario, workdir=workdir, env=env)
        for _ in range(args.rounds):
            for scenario in SCENARIOS:
                wall, cpu = run_once(scenario, workdir=workdir, env=env)
                samples[scenario.name].wall_s.append(wall)
                samples[scenario.name].cpu_s.append(cpu)
        leftovers = sorted(p.name for p in workdir.iterdir())
    if leftovers:
        print(f"note: the runs left files behind: {leftovers}")
    report(samples, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
