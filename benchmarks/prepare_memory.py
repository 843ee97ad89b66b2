"""Peak memory of `ttur prepare` on a 100,000-image PNG folder, next to the load-everything approach.

Generates N small PNGs (the shapes32 generator) into a temporary folder, then runs, each in a fresh process that
reports its own peak resident memory (ru_maxrss):
  ours:     ttur.data.prepare.prepare_dataset (streams chunks into a preallocated .npy)
  baseline: what the reference loaders and a naive script do: decode every file into a list, np.stack, np.save
  imports:  a process that only imports numpy + PIL + ttur.data (the floor)
Goal: ours < 500 MB whatever N. Usage: .venv/bin/python benchmarks/prepare_memory.py [--count 100000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = {
    "ours": """
from pathlib import Path
from ttur.data.prepare import prepare_dataset
prepare_dataset("shapes32", Path(RAW), Path(OUT))
""",
    "baseline": """
from pathlib import Path
import numpy as np
from PIL import Image
paths = sorted((Path(RAW) / "shapes32_train").iterdir())
images = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
Path(OUT).mkdir(parents=True, exist_ok=True)
np.save(Path(OUT) / "images.npy", np.stack(images))
""",
    "imports": """
import numpy, PIL.Image, ttur.data.prepare
""",
}
REPORT = """
import json, resource, sys
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(name: str, raw: Path, out: Path) -> tuple[float, float]:
    """Run one variant in a fresh interpreter; returns (peak resident MB, seconds)."""
    code = f"RAW, OUT = {str(raw)!r}, {str(out)!r}\n" + CHILD[name] + REPORT
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_mb"], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    from ttur.data.synthetic import write_shapes32

    with tempfile.TemporaryDirectory(prefix="prepare_memory_") as tmp:
        raw = Path(tmp) / "raw"
        start = time.perf_counter()
        write_shapes32(raw, args.count, seed=0)
        print(f"generated {args.count} PNGs (32x32) in {time.perf_counter() - start:.0f} s")
        array_mb = args.count * 32 * 32 * 3 / 2**20
        results = {name: run_child(name, raw, Path(tmp) / name) for name in ("imports", "ours", "baseline")}
        ours_bytes = (Path(tmp) / "ours" / "images.npy").read_bytes()
        same = ours_bytes == (Path(tmp) / "baseline" / "images.npy").read_bytes()
    print(f"prepared array: {args.count} x 32 x 32 x 3 uint8 = {array_mb:.0f} MB; ours == baseline bytes: {same}")
    for name, (peak, seconds) in results.items():
        print(f"{name:>9}: peak RSS {peak:7.0f} MB   {seconds:6.1f} s")
    ours, baseline = results["ours"][0], results["baseline"][0]
    verdict = "met" if ours < 500 else "MISSED"
    print(f"ratio ours/baseline peak memory: {ours / baseline:.2f}; goal ours < 500 MB: {verdict}")


if __name__ == "__main__":
    main()
