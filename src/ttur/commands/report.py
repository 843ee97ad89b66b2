"""`ttur table`, `ttur figures`, `ttur toy`, `ttur cost`: the pipeline's products from the run directories."""

from __future__ import annotations

import argparse
from pathlib import Path

from ttur.errors import UserError

FIGURE_NAMES = ("fig5", "fig6", "fig7", "figA14", "samples")
# --only also accepts the file stems (fig5_dcgan, ...), which is how the workflow names its outputs.
FIGURE_STEMS = {"fig5_dcgan": "fig5", "fig6_wgangp": "fig6", "fig7_jsd": "fig7", "figA14_losses": "figA14"}


def register(subparsers: argparse._SubParsersAction) -> None:
    table = subparsers.add_parser("table", help="Table 1 (CSV + Markdown) from run directories")
    table.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="run folders, or folders holding them")
    table.add_argument("--csv", required=True, type=Path, help="table1.csv to write")
    table.add_argument("--md", required=True, type=Path, help="table1.md to write")
    table.add_argument("--stats-csv", type=Path, help="also write the TTUR-vs-orig tests as CSV")
    table.add_argument("--n-boot", type=int, default=10_000, help="bootstrap resamples (default 10000)")
    table.add_argument("--ci-level", type=float, default=0.95, help="bootstrap interval level (default 0.95)")
    table.add_argument("--bootstrap-seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    table.set_defaults(func=run_table)

    figures = subparsers.add_parser("figures", help="Fig. 5, 6, 7, A14 and sample grids from run directories")
    figures.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="run folders, or folders holding them")
    figures.add_argument("--out-dir", required=True, type=Path, help="folder for the PNG and PDF files")
    figures.add_argument(
        "--only",
        type=_figure_list,
        default=FIGURE_NAMES,
        help=f"comma-separated subset of {','.join(FIGURE_NAMES)} (or their file stems, e.g. fig5_dcgan)",
    )
    figures.add_argument(
        "--time",
        choices=("minutes", "wall_minutes"),
        default="minutes",
        help="time axis of Fig. 6/7: training minutes (default) or wall minutes including evaluation",
    )
    figures.set_defaults(func=run_figures)

    toy = subparsers.add_parser("toy", help="Fig. 4: noisy gradient descent/ascent on a saddle, four learning rates")
    toy.add_argument("--out-csv", required=True, type=Path)
    toy.add_argument("--out-fig", required=True, type=Path, help="figure file (.png or .pdf; both are written)")
    toy.add_argument("--seed", type=int, default=0)
    toy.add_argument("--iterations", type=int, default=5000)
    toy.add_argument("--sigma", type=float, default=1.0, help="standard deviation of the gradient noise")
    toy.set_defaults(func=run_toy)

    cost = subparsers.add_parser("cost", help="device-hours spent per cell and the projected cost of the paper grid")
    cost.add_argument("--runs-root", required=True, type=Path, help="{results}/runs")
    cost.add_argument("--benchmarks-root", required=True, type=Path, help="{results}/benchmarks/train")
    cost.add_argument("--paper-config", required=True, type=Path, help="config/config.yaml (the paper grid)")
    cost.add_argument("--csv", required=True, type=Path)
    cost.add_argument("--md", required=True, type=Path)
    cost.set_defaults(func=run_cost)


def _figure_list(text: str) -> tuple[str, ...]:
    names = tuple(FIGURE_STEMS.get(name.strip(), name.strip()) for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in FIGURE_NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown figure(s) {', '.join(unknown)}; choose from {','.join(FIGURE_NAMES)}"
        )
    return names


def run_table(args: argparse.Namespace) -> int:
    from ttur.io import write_text
    from ttur.report.runs import discover_runs
    from ttur.report.table import build_table, render_markdown, stats_frame, table_frame, to_csv

    if args.n_boot < 1 or not 0 < args.ci_level < 1:
        raise UserError("--n-boot must be positive and --ci-level between 0 and 1 (e.g. 10000 and 0.95)")
    runs, missing = discover_runs(args.runs)
    if not runs:
        raise UserError("none of the given run folders holds a finished run (run.json + metrics.csv)")
    table = build_table(runs, missing, n_boot=args.n_boot, level=args.ci_level, seed=args.bootstrap_seed)
    write_text(args.csv, to_csv(table_frame(table)))
    write_text(args.md, render_markdown(table))
    if args.stats_csv:
        write_text(args.stats_csv, to_csv(stats_frame(table)))
    print(f"table: {len(runs)} runs, {len(missing)} missing; wrote {args.csv} and {args.md}")
    return 0


def run_figures(args: argparse.Namespace) -> int:
    from ttur.report.figures import write_figures
    from ttur.report.runs import discover_runs

    runs, _ = discover_runs(args.runs)
    if not runs:
        raise UserError("none of the given run folders holds a finished run (run.json + metrics.csv)")
    written = write_figures(runs, args.out_dir, only=args.only, time_column=args.time)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("no figure written: the runs hold none of the requested models")
    return 0


def run_toy(args: argparse.Namespace) -> int:
    from ttur.experiments.toy import plot_toy, run_toy_experiment, toy_frame
    from ttur.io import write_text

    if args.iterations < 1 or args.sigma < 0:
        raise UserError("--iterations must be positive and --sigma non-negative")
    results = run_toy_experiment(seed=args.seed, iterations=args.iterations, sigma=args.sigma)
    write_text(args.out_csv, toy_frame(results).to_csv(index=False, lineterminator="\n"))
    written = plot_toy(results, args.out_fig)
    for path in [args.out_csv, *written]:
        print(f"wrote {path}")
    return 0


def run_cost(args: argparse.Namespace) -> int:
    from ttur.io import write_text
    from ttur.report.cost import build_cost_report, load_paper_cells

    cells = load_paper_cells(args.paper_config)
    report = build_cost_report(args.runs_root, args.benchmarks_root, cells)
    write_text(args.csv, report.csv())
    write_text(args.md, report.markdown())
    print(f"cost: wrote {args.csv} and {args.md}")
    return 0
