#!/usr/bin/env python3
"""dermsim against the same network in Python PyTorch, measured side by side: each round runs every
measurement of both sides once, alternating dermsim and Python (the order flips every round), each
in its own process under /usr/bin/time -v (peak memory). Prints medians with min/max over rounds
and the per-round ratios dermsim / Python, and writes everything to --out as JSON.

    /usr/bin/python3 bench/peer/compare.py --rounds 3 --out /tmp/peer.json

needs build/bench/peer_bench (cmake --build build --target peer_bench). Never a pass/fail test.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peer_net import SmallEmbeddingNet, forward_flops_per_image  # noqa: E402

# (name, dermsim mode, Python mode, precision, forward passes per image: training = 3 (forward +
# backward ~ 2x forward), inference = 1). Each row is one dermsim-vs-Python comparison.
COMPARISONS = [
    ("training end to end (pre-loaded)", "train-pipeline", "train-preloaded", "fp32", 3),
    ("training end to end (DataLoader)", "train-pipeline", "train-dataloader", "fp32", 3),
    ("training compute only", "train-compute", "train-compute", "fp32", 3),
    ("inference, batch 64", "infer", "infer", "fp32", 1),
    ("single-image latency", "latency", "latency", "fp32", 1),
    ("training compute only, bf16", "train-compute", "train-compute", "bf16", 3),
    ("inference, batch 64, bf16", "infer", "infer", "bf16", 1),
]
# Latency runs do this many one-image calls; the others this many steps (--steps).
LATENCY_CALLS = 100


def run_one(command, env):
    """Runs command under /usr/bin/time -v; returns (its JSON line, peak RSS in MiB, load average)."""
    load = os.getloadavg()[0]
    done = subprocess.run(["/usr/bin/time", "-v"] + command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-2000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1]), int(rss.group(1)) / 1024, load


def side_command(side, mode, precision, steps, args):
    n = str(LATENCY_CALLS if mode == "latency" else steps)
    common = ["--mode", mode, "--steps", n, "--precision", precision, "--threads", str(args.threads)]
    if side == "dermsim":
        return [args.dermsim_bench] + common
    return ["/usr/bin/python3", os.path.join(HERE, "peer_bench.py")] + common


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def rate(result):
    """images/s, or for latency runs 1000 / median milliseconds (so that larger is faster too)."""
    if "latency_ms" in result:
        return 1e3 / statistics.median(result["latency_ms"])
    return result["images_per_second"]


def measure_peak_gflops(threads, dtype, size=2048, repeats=5):
    """Best of `repeats` square matrix products through torch.mm: the peak this machine reaches."""
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def summarise(rows, comparisons, forward_gflop, peak):
    lines = ["| comparison | dermsim | Python | dermsim / Python (per round) | dermsim GFLOP/s (% of peak) "
             "| Python GFLOP/s (% of peak) | peak RSS dermsim / Python (MiB) |",
             "|---|---|---|---|---|---|---|"]

    def spread(values, fmt):
        return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"

    for name, _, _, precision, passes in comparisons:
        runs = [r for r in rows if r["comparison"] == name]
        d = [rate(r["dermsim"]) for r in runs]
        p = [rate(r["python"]) for r in runs]
        ratios = [a / b for a, b in zip(d, p)]
        ratio_text = spread(ratios, "{:.2f}") + "x"
        if name == "single-image latency":
            d_ms = [x for r in runs for x in r["dermsim"]["latency_ms"]]
            p_ms = [x for r in runs for x in r["python"]["latency_ms"]]
            d_text = f"p50 {percentile(d_ms, 50):.1f} ms, p99 {percentile(d_ms, 99):.1f} ms"
            p_text = f"p50 {percentile(p_ms, 50):.1f} ms, p99 {percentile(p_ms, 99):.1f} ms"
        else:
            d_text, p_text = spread(d, "{:.0f}") + " img/s", spread(p, "{:.0f}") + " img/s"
        peak_here = peak[precision]

        def gflops(values):
            g = statistics.median(values) * passes * forward_gflop
            return f"{g:.1f} ({100 * g / peak_here:.0f} %)"

        rss = (f"{statistics.median(r['dermsim_rss_mib'] for r in runs):.0f} / "
               f"{statistics.median(r['python_rss_mib'] for r in runs):.0f}")
        lines.append(f"| {name} | {d_text} | {p_text} | {ratio_text} | {gflops(d)} | {gflops(p)} | {rss} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8, help="timed training steps / inference batches per run")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--dermsim-bench", default=os.path.join(HERE, "..", "..", "build", "bench", "peer_bench"))
    parser.add_argument("--only", help="run only these comparisons: names as in the table, separated by |")
    parser.add_argument("--python-heap-like-dermsim", action="store_true",
                        help="run Python with MALLOC_MMAP_MAX_=0, the allocator policy dermsim sets "
                             "for itself (src/common/allocator.h)")
    parser.add_argument("--out", help="write every run and the summary as JSON here")
    args = parser.parse_args()
    # Passive OpenMP waits on both sides: spinning workers make 2-thread timings erratic on a shared host.
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    python_env = dict(env, MALLOC_MMAP_MAX_="0") if args.python_heap_like_dermsim else env
    comparisons = [c for c in COMPARISONS if not args.only or c[0] in args.only.split("|")]
    forward_gflop = forward_flops_per_image(SmallEmbeddingNet(), 128) / 1e9
    peak = {"fp32": measure_peak_gflops(args.threads, torch.float32),
            "bf16": measure_peak_gflops(args.threads, torch.bfloat16)}
    print(f"forward pass: {forward_gflop:.3f} GFLOP per image; measured torch.mm peak on {args.threads} threads: "
          f"fp32 {peak['fp32']:.0f} GFLOP/s, bf16 {peak['bf16']:.0f} GFLOP/s", flush=True)
    rows = []
    for round_index in range(args.rounds):
        for name, d_mode, p_mode, precision, _ in comparisons:
            order = ["dermsim", "python"] if round_index % 2 == 0 else ["python", "dermsim"]
            row = {"comparison": name, "round": round_index}
            for side in order:
                mode, side_env = (d_mode, env) if side == "dermsim" else (p_mode, python_env)
                row[side], row[side + "_rss_mib"], row[side + "_load"] = run_one(
                    side_command(side, mode, precision, args.steps, args), side_env)
            rows.append(row)
            print(f"round {round_index + 1}/{args.rounds} {name}: dermsim {rate(row['dermsim']):.1f}, "
                  f"Python {rate(row['python']):.1f} (load {row['dermsim_load']:.1f}/{row['python_load']:.1f})",
                  flush=True)
    table = summarise(rows, comparisons, forward_gflop, peak)
    loads = [r[s + "_load"] for r in rows for s in ("dermsim", "python")]
    print(f"\n{table}\n\nload average (1 min) at the start of each run: median {statistics.median(loads):.1f}, "
          f"min {min(loads):.1f}, max {max(loads):.1f}; {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"rows": rows, "forward_gflop": forward_gflop, "peak_gflops": peak, "table": table}, f, indent=1)


if __name__ == "__main__":
    main()
