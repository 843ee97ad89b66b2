"""Peak memory of streaming feature statistics: 10,000 vs 1,000,000 random 2048-d vectors.

Each count runs in a fresh subprocess (peak RSS only grows within a process); both stream batches of the same
size through `StreamingMoments`, so the difference is what the accumulator itself costs as N grows.

    .venv/bin/python benchmarks/stats_memory.py [--counts 10000 1000000] [--batch 2000] [--dim 2048]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time


def stream(count: int, batch: int, dim: int) -> None:
    import torch

    from ttur.metrics.stats import StreamingMoments

    generator = torch.Generator().manual_seed(0)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    moments = StreamingMoments(dim, torch.device("cpu"))
    start = time.perf_counter()
    for done in range(0, count, batch):
        moments.update(torch.rand(min(batch, count - done), dim, generator=generator))  # float32, like pool3
    mu, sigma, n = moments.finalize()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n} {peak:.1f} {baseline:.1f} {seconds:.1f} {float(sigma.diagonal().mean()):.6f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        stream(args.child, args.batch, args.dim)
        return
    peaks = {}
    for count in args.counts:
        command = [sys.executable, __file__, "--child", str(count), "--batch", str(args.batch), "--dim", str(args.dim)]
        n, peak, baseline, seconds, variance = subprocess.run(
            command, check=True, capture_output=True, text=True
        ).stdout.split()
        peaks[count] = float(peak)
        print(
            f"N={int(n):>9,}: peak RSS {float(peak):7.1f} MB (after imports {float(baseline):.1f} MB), "
            f"{float(seconds):.1f} s, mean variance {variance} (uniform: 1/12 = 0.083333)"
        )
    low, high = min(args.counts), max(args.counts)
    print(f"peak RSS difference N={high:,} vs N={low:,}: {peaks[high] - peaks[low]:+.1f} MB (goal: within 100 MB)")


if __name__ == "__main__":
    main()
