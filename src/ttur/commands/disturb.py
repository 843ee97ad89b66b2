"""`ttur disturb`: FID and Inception Score of disturbed real images (paper Fig. 3 / A8)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "disturb",
        help="FID and Inception Score/IND of real images under six disturbances at four levels (Fig. A8)",
        description=__doc__,
    )
    parser.add_argument("prep_dir", type=Path, metavar="PREP_DIR", help="prepared dataset folder with images.npy")
    parser.add_argument("--stats", type=Path, required=True, help="real statistics .npz of the same extractor")
    parser.add_argument("--out-csv", type=Path, required=True, help="disturbances.csv to write")
    parser.add_argument("--out-fig", type=Path, required=True, help="figure (.png; a .pdf is written beside it)")
    parser.add_argument("--extractor", default="inception-v3-compat", help="feature extractor (default: %(default)s)")
    parser.add_argument("--weights", type=Path, default=None, help="Inception weights file")
    parser.add_argument("--n-images", type=int, default=50_000, help="images per level (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=100, help="extractor batch size (default: %(default)s)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the subset and every disturbance")
    parser.add_argument(
        "--contamination", type=Path, default=None, help="folder of images of another dataset (ImageNet in the paper)"
    )
    parser.add_argument(
        "--disturbances",
        default=None,
        help="comma-separated subset of gaussian_noise,gaussian_blur,black_rectangles,swirl,salt_and_pepper,"
        "contamination (default: all)",
    )
    parser.add_argument(
        "--swirl-radius", type=float, default=None, help="swirl radius in pixels (default: 70 × image side / 64)"
    )
    parser.add_argument("--splits", type=int, default=10, help="Inception Score splits (default: %(default)s)")
    parser.set_defaults(func=run)


def parse_disturbances(text: str | None) -> tuple[str, ...]:
    """The comma-separated names, validated, in the order given; all six when `text` is None."""
    from ttur.errors import UserError
    from ttur.experiments.disturbances import DISTURBANCES

    if text is None:
        return tuple(DISTURBANCES)
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in DISTURBANCES]
    if unknown or not names:
        raise UserError(f"unknown disturbance(s) {unknown or text!r}; choose from {','.join(DISTURBANCES)}")
    return names


def run(args: argparse.Namespace) -> int:
    from ttur.device import lease_device, log_device
    from ttur.errors import UserError
    from ttur.experiments.disturb_run import DisturbSettings, load_image_pool, plot, run_disturbances, write_csv
    from ttur.experiments.disturbances import DISTURBANCES
    from ttur.metrics.features import load_extractor
    from ttur.metrics.fid import check_stats_match
    from ttur.metrics.images import PreparedSource
    from ttur.metrics.stats import load_stats

    for flag, value in (("--n-images", args.n_images), ("--batch-size", args.batch_size), ("--splits", args.splits)):
        if value < 1:
            raise UserError(f"{flag} must be a positive integer, got {value}")
    if not (args.prep_dir / "images.npy").is_file():
        raise UserError(f"{args.prep_dir} holds no images.npy; give a folder made by `ttur prepare`")
    source = PreparedSource(args.prep_dir)
    names = parse_disturbances(args.disturbances)
    settings = DisturbSettings(
        n_images=args.n_images,
        batch_size=args.batch_size,
        seed=args.seed,
        disturbances=names,
        swirl_radius=args.swirl_radius,
        splits=args.splits,
    )
    mu, sigma, meta = load_stats(args.stats)
    height, width = source.array.shape[1:3]
    pool = None
    if args.contamination is not None and "contamination" in names:
        needed = round(max(DISTURBANCES["contamination"].levels) * min(args.n_images, len(source)))
        pool = load_image_pool(args.contamination, height, width, max(needed, 1), args.seed)
    lease = lease_device(args.device)
    log_device(lease)
    try:
        extractor = load_extractor(args.extractor, args.weights, lease.device)
        check_stats_match(meta, extractor, args.stats, mu.shape[0])
        rows, examples = run_disturbances(source.array, mu, sigma, extractor, settings, pool)
    finally:
        lease.release()
    write_csv(rows, args.out_csv)
    dataset = source.manifest.get("dataset", args.prep_dir.name)
    n = min(args.n_images, len(source))
    plot(rows, examples, args.out_fig, f"{dataset}: FID and IND vs disturbance level ({extractor.name}, {n} images)")
    return 0
