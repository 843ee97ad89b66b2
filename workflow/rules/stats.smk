# Real-data statistics, computed once per dataset and reused by every run: FID moments and n-gram counts.


rule fid_stats:
    input:
        data=f"{DATA}/prepared/{{dataset}}/images.npy",
        manifest=f"{DATA}/prepared/{{dataset}}/manifest.json",
        weights=weights_path(),
    output:
        npz=f"{RESULTS}/stats/{{dataset}}.{EXTRACTOR}.npz",
        sidecar=f"{RESULTS}/stats/{{dataset}}.{EXTRACTOR}.json",
    log:
        f"{RESULTS}/logs/stats/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/{{dataset}}.tsv"
    conda:
        "../../envs/ttur.yaml"
    threads: config["train"].get("threads", 1)
    resources:
        gpu=uses_gpu(),
        mem_mb=8000,
        runtime=600,
    params:
        weights=weights_flag(),
        batch_size=config.get("stats", {}).get("batch_size", 200),
        src=lambda wc, input: Path(input.manifest).parent,
        extractor=EXTRACTOR,
        device=config["device"],
    shell:
        "ttur stats {params.src} {output.npz} --extractor {params.extractor} {params.weights} "
        "--batch-size {params.batch_size} --device {params.device} > {log} 2>&1"


rule ngrams:
    input:
        data=f"{DATA}/prepared/{{dataset}}/tokens.npy",
        manifest=f"{DATA}/prepared/{{dataset}}/manifest.json",
    output:
        f"{RESULTS}/stats/{{dataset}}.ngrams.npz",
    log:
        f"{RESULTS}/logs/stats/{{dataset}}.ngrams.log",
    benchmark:
        f"{RESULTS}/benchmarks/stats/{{dataset}}.ngrams.tsv"
    conda:
        "../../envs/ttur.yaml"
    resources:
        mem_mb=16000,
        runtime=240,
    params:
        src=lambda wc, input: Path(input.manifest).parent,
    shell:
        "ttur ngrams {params.src} {output} --max-n 6 > {log} 2>&1"
