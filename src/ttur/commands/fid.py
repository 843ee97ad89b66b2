"""`ttur stats`, `ttur fid` and `ttur weights`: real statistics, a one-off FID, and the Inception weights file."""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

DEFAULT_EXTRACTOR = "inception-v3-compat"


def register(subparsers: argparse._SubParsersAction) -> None:
    stats = subparsers.add_parser("stats", help="feature statistics (mu, sigma) of a dataset or image folder")
    stats.add_argument("src", type=Path, help="prepared dataset folder (images.npy), image folder, or .npz to import")
    stats.add_argument("out", type=Path, help="output .npz (keys mu, sigma) with a .json sidecar")
    _add_extractor_flags(stats, default_extractor=DEFAULT_EXTRACTOR)
    stats.add_argument("--max-images", type=int, default=None, help="use only the first N images")
    stats.set_defaults(func=run_stats)

    fid = subparsers.add_parser("fid", help="FID between two image sources or statistics files")
    fid.add_argument("a", type=Path, help="image folder, prepared dataset folder or .npz statistics")
    fid.add_argument("b", type=Path, help="image folder, prepared dataset folder or .npz statistics")
    _add_extractor_flags(fid, default_extractor=None)
    fid.add_argument("--json", action="store_true", help='print {"fid": ..., "note": ...} instead of the number')
    fid.set_defaults(func=run_fid)

    weights = subparsers.add_parser("weights", help="fetch or register the Inception weights file (sha256-checked)")
    weights.add_argument("--out", type=Path, required=True, help="where the weights file goes")
    weights.add_argument("--url", action="append", default=None, help="mirror to try (repeatable; default: official)")
    weights.add_argument("--local", type=Path, default=None, help="a copy you already have: verify and link it")
    weights.set_defaults(func=run_weights)


def _add_extractor_flags(parser: argparse.ArgumentParser, default_extractor: str | None) -> None:
    from_sidecar = (
        " (default: the statistics' extractor, else inception-v3-compat)" if default_extractor is None else ""
    )
    parser.add_argument(
        "--extractor", default=default_extractor, help=f"inception-v3-compat or randconv64{from_sidecar}"
    )
    parser.add_argument("--weights", type=Path, default=None, help="Inception weights file ($TTUR_INCEPTION_WEIGHTS)")
    parser.add_argument("--batch-size", type=int, default=100, help="images per forward pass (no effect on results)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")


def _stats_meta(extractor, source, n: int, limit: int) -> dict:
    return {
        "n": n,
        "extractor": extractor.name,
        "dim": extractor.dim,
        "weights_sha256": extractor.weights_sha256,
        "preprocessing": extractor.preprocessing,
        "dataset": {
            "path": str(source.path),
            "kind": source.kind,
            "count": len(source),
            "used": limit,
            "digest": source.digest(limit),
        },
    }


def _image_moments(path: Path, extractor, batch_size: int, max_images: int | None):
    from ttur.metrics.fid import feature_moments
    from ttur.metrics.images import open_images

    source = open_images(path)
    limit = len(source) if max_images is None else min(max_images, len(source))
    if limit < 2:
        from ttur.errors import UserError

        raise UserError(f"{path} gives {limit} image(s); feature statistics need at least 2")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mu, sigma, n = feature_moments(source.batches(batch_size, limit), extractor)
    for warning in caught:  # one plain line each, not Python's two-line warning format
        print(f"[ttur] warning: {path}: {warning.message}", file=sys.stderr)
    return mu, sigma, _stats_meta(extractor, source, n, limit)


def run_stats(args: argparse.Namespace) -> int:
    from ttur.device import lease_device, log_device
    from ttur.io import sha256_file
    from ttur.metrics.features import load_extractor
    from ttur.metrics.images import is_stats_file
    from ttur.metrics.stats import load_stats, save_stats

    if is_stats_file(args.src):  # import published statistics (e.g. TTUR's) with a sidecar naming their origin
        mu, sigma, meta = load_stats(args.src)
        meta = meta or {
            "n": None,
            "extractor": args.extractor,
            "dim": int(mu.shape[0]),
            "weights_sha256": None,
            "preprocessing": "unknown: imported statistics file",
            "dataset": {"path": str(args.src), "kind": "imported-npz", "digest": sha256_file(args.src)},
        }
        save_stats(args.out, mu, sigma, meta)
        return 0
    lease = lease_device(args.device)
    log_device(lease)
    try:
        extractor = load_extractor(args.extractor, args.weights, lease.device)
        mu, sigma, meta = _image_moments(args.src, extractor, args.batch_size, args.max_images)
        save_stats(args.out, mu, sigma, meta)
    finally:
        lease.release()
    print(f"[ttur] stats: {meta['n']} images of {args.src} -> {args.out} ({extractor.name})", file=sys.stderr)
    return 0


def run_fid(args: argparse.Namespace) -> int:
    from ttur.device import lease_device, log_device
    from ttur.errors import UserError
    from ttur.metrics.features import load_extractor
    from ttur.metrics.fid import check_stats_match, frechet_distance
    from ttur.metrics.images import is_stats_file
    from ttur.metrics.stats import load_stats

    loaded = {path: load_stats(path) for path in (args.a, args.b) if is_stats_file(path)}
    sidecar_names = {meta["extractor"] for _, _, meta in loaded.values() if meta and meta.get("extractor")}
    if args.extractor is None and len(sidecar_names) > 1:
        raise UserError(f"{args.a} and {args.b} were made with different extractors {sorted(sidecar_names)}")
    name = args.extractor or (sidecar_names.pop() if sidecar_names else DEFAULT_EXTRACTOR)
    lease = lease_device(args.device)
    log_device(lease)
    try:
        extractor = None
        if len(loaded) < 2:
            extractor = load_extractor(name, args.weights, lease.device)
        sides = []
        for path in (args.a, args.b):
            if path in loaded:
                mu, sigma, meta = loaded[path]
                if extractor is not None:
                    check_stats_match(meta, extractor, path, mu.shape[0])
                elif meta and meta.get("extractor") not in (None, name):
                    raise UserError(f"{path} was made with extractor {meta.get('extractor')!r}, not {name!r}")
                sides.append((mu, sigma))
            else:
                mu, sigma, _ = _image_moments(path, extractor, args.batch_size, None)
                sides.append((mu, sigma))
        (mu_a, sigma_a), (mu_b, sigma_b) = sides
        if mu_a.shape != mu_b.shape:
            raise UserError(f"{args.a} is {mu_a.shape[0]}-d but {args.b} is {mu_b.shape[0]}-d; use one extractor")
        result = frechet_distance(*(_on(x, lease.device) for x in (mu_a, sigma_a, mu_b, sigma_b)))
    finally:
        lease.release()
    if result.note:
        print(f"[ttur] fid: note: {result.note}", file=sys.stderr)
    if args.json:
        value = result.value if math.isfinite(result.value) else None
        print(json.dumps({"fid": value, "note": result.note, "extractor": name}))
    else:
        print(f"{result.value:.6f}")
    return 0


def _on(array, device):
    import torch

    return torch.as_tensor(array).to(device)


def run_weights(args: argparse.Namespace) -> int:
    from ttur.errors import UserError
    from ttur.metrics.weights import INCEPTION_URLS, download_weights, install_local, verify_weights

    if args.local is not None:
        digest = install_local(args.local, args.out)
        print(f"[ttur] weights: {args.local} verified (sha256 {digest}) -> {args.out}", file=sys.stderr)
        return 0
    if args.out.exists():
        try:
            digest = verify_weights(args.out)
            print(f"[ttur] weights: {args.out} already present and verified (sha256 {digest})", file=sys.stderr)
            return 0
        except UserError:
            print(f"[ttur] weights: {args.out} fails verification; downloading again", file=sys.stderr)
    digest = download_weights(args.out, args.url or INCEPTION_URLS)
    print(f"[ttur] weights: downloaded {args.out} (sha256 {digest})", file=sys.stderr)
    return 0
