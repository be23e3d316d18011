#!/usr/bin/env python3
"""The 2 cores split between batch preparation and the model step, and OpenMP's wait policy,
measured side by side: training images/s of dermsim's own step (build/bench/peer_bench) in each
variant below, every variant once per round in a shuffled order, each run in its own process.
Prints per variant the median (min-max) images/s and the per-round ratio to the first variant
(the way `dermsim train` runs today), and how many rounds that ratio was above 1.

    cmake --build build -j2 --target peer_bench
    nice -n 5 python3 bench/loader_threads.py --rounds 5 --steps 8 --out /tmp/loader.json

Never a pass/fail test: on a shared host only ratios inside one run mean anything.
"""
import argparse
import json
import os
import random
import statistics
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
PEER_BENCH = os.path.join(HERE, "..", "build", "bench", "peer_bench")

# (name, peer_bench mode, intra-op threads, OMP_WAIT_POLICY or None for unset). The first is the
# baseline: the prefetch thread, 2 threads, the environment dermsim train gets by default.
VARIANTS = [
    ("prefetch thread, 2 threads (as now)", "train-pipeline", 2, None),
    ("no prefetch thread: batch made in the training thread", "train-inline", 2, None),
    ("prefetch thread, model step on 1 thread", "train-pipeline", 1, None),
    ("prefetch thread, 2 threads, OMP_WAIT_POLICY=passive", "train-pipeline", 2, "passive"),
    ("prefetch thread, 2 threads, OMP_WAIT_POLICY=active", "train-pipeline", 2, "active"),
]


def run(mode, threads, wait_policy, steps):
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy
    out = subprocess.run([PEER_BENCH, "--mode", mode, "--threads", str(threads), "--steps", str(steps)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0, help="of the per-round order")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    order = random.Random(args.seed)
    rates = {name: [] for name, *_ in VARIANTS}
    loads = []
    for r in range(args.rounds):
        variants = VARIANTS[:]
        order.shuffle(variants)
        for name, mode, threads, policy in variants:
            loads.append(os.getloadavg()[0])
            rates[name].append(run(mode, threads, policy, args.steps)["images_per_second"])
            print(f"round {r + 1}: {name}: {rates[name][-1]:.1f} img/s (load {loads[-1]:.1f})", flush=True)
    baseline = rates[VARIANTS[0][0]]
    print("\n| variant | images/s, median (min-max) | ratio to the first, median (min-max) | rounds > 1 |")
    print("|---|---|---|---|")
    for name, *_ in VARIANTS:
        ratios = [v / b for v, b in zip(rates[name], baseline)]
        print(f"| {name} | {statistics.median(rates[name]):.1f} ({min(rates[name]):.1f}-{max(rates[name]):.1f}) | "
              f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) | "
              f"{sum(x > 1 for x in ratios)} of {len(ratios)} |")
    print(f"\nload average (1 min) before the runs: {min(loads):.1f}-{max(loads):.1f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"rates": rates, "loads": loads, "steps": args.steps}, f, indent=1)


if __name__ == "__main__":
    main()
