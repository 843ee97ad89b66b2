# One job per model x dataset x method x learning-rate pair x seed. Each job evaluates FID or JSD in-process
# every `eval_every` generator updates. Its resume state (RUN/.resume/) is deliberately not an output:
# Snakemake deletes the outputs of failed jobs, and a preempted job must continue where it stopped.


rule train:
    input:
        data=lambda wc: prepared(wc.dataset),
        stats=lambda wc: stats_file(wc.dataset),
        weights=lambda wc: [] if wc.dataset in TEXT_DATASETS else weights_path(),
    output:
        metrics=f"{RUN}/metrics.csv",
        run=f"{RUN}/run.json",
    log:
        f"{RESULTS}/logs/train/{{model}}/{{dataset}}/{{method}}/d{{lr_d}}_g{{lr_g}}/seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{model}}/{{dataset}}/{{method}}/d{{lr_d}}_g{{lr_g}}/seed{{seed}}.tsv"
    conda:
        "../../envs/ttur.yaml"
    threads: config["train"].get("threads", 1)
    resources:
        gpu=uses_gpu(),
        mem_mb=config["train"].get("mem_mb", 16000),
        runtime=train_runtime,
    params:
        flags=train_flags,
        weights=lambda wc: "" if wc.dataset in TEXT_DATASETS else weights_flag(),
        data=lambda wc, input: Path(input.data).parent,
        out=lambda wc, output: Path(output.metrics).parent,
    shell:
        "ttur train --out {params.out} --data {params.data} --stats {input.stats} "
        "{params.weights} {params.flags} > {log} 2>&1"
