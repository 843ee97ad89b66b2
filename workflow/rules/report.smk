# Aggregation: Table 1 (and A2/A4), the training figures and the compute cost. Pure functions of the runs.


localrules:
    table,
    figures,
    cost,


rule table:
    input:
        run_metrics(),
    output:
        csv=report(
            f"{RESULTS}/table1.csv",
            caption="../report/table1.rst",
            category="Table 1",
        ),
        md=report(
            f"{RESULTS}/table1.md",
            caption="../report/table1.rst",
            category="Table 1",
        ),
    log:
        f"{RESULTS}/logs/table.log",
    conda:
        "../../envs/ttur.yaml"
    params:
        runs=run_dirs(),
    shell:
        "ttur table {params.runs} --csv {output.csv} --md {output.md} > {log} 2>&1"


rule figures:
    input:
        run_metrics(),
    output:
        [
            report(
                f,
                caption=f"../report/{Path(f).stem.split('_')[0]}.rst",
                category="Figures",
            )
            for f in figure_files()
        ],
    log:
        f"{RESULTS}/logs/figures.log",
    conda:
        "../../envs/ttur.yaml"
    params:
        runs=run_dirs(),
        only=",".join(figure_names()),
        out=lambda wc, output: Path(output[0]).parent,
    shell:
        "ttur figures {params.runs} --out-dir {params.out} --only {params.only} > {log} 2>&1"


rule cost:
    input:
        run_metrics(),
        paper_config=workflow.source_path("../../config/config.yaml"),
    output:
        csv=f"{RESULTS}/cost.csv",
        md=report(f"{RESULTS}/cost.md", caption="../report/cost.rst", category="Cost"),
    log:
        f"{RESULTS}/logs/cost.log",
    conda:
        "../../envs/ttur.yaml"
    params:
        runs=lambda wc, output: Path(output.csv).parent / "runs",
        benchmarks=lambda wc, output: Path(output.csv).parent / "benchmarks" / "train",
    shell:
        "ttur cost --runs-root {params.runs} --benchmarks-root {params.benchmarks} "
        "--paper-config {input.paper_config} --csv {output.csv} --md {output.md} > {log} 2>&1"
