# Download (or generate, for the smoke datasets), verify and prepare every dataset; fetch the Inception weights.
# Downloads need the network: on a cluster run them on a login node first (README, "Clusters").


localrules:
    download,
    weights,


rule download:
    output:
        f"{DATA}/raw/{{dataset}}/download.json",
    log:
        f"{RESULTS}/logs/download/{{dataset}}.log",
    conda:
        "../../envs/ttur.yaml"
    params:
        local=lambda wc: (
            f"--local {dataset_option(wc.dataset, 'local')}"
            if dataset_option(wc.dataset, "local")
            else ""
        ),
        mirrors=lambda wc: " ".join(
            f"--mirror {m}" for m in dataset_option(wc.dataset, "mirrors", [])
        ),
        generated=lambda wc: " ".join(
            f"--{key} {dataset_option(wc.dataset, key)}"
            for key in ("seed", "count")
            if dataset_option(wc.dataset, key) is not None
        ),
        out=lambda wc, output: Path(output[0]).parent,
    shell:
        "ttur download {wildcards.dataset} --out {params.out} {params.local} "
        "{params.mirrors} {params.generated} > {log} 2>&1"


rule prepare_images:
    input:
        f"{DATA}/raw/{{dataset}}/download.json",
    output:
        data=f"{DATA}/prepared/{{dataset}}/images.npy",
        manifest=f"{DATA}/prepared/{{dataset}}/manifest.json",
    log:
        f"{RESULTS}/logs/prepare/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/prepare/{{dataset}}.tsv"
    wildcard_constraints:
        dataset="celeba|cifar10|svhn|lsun|shapes32",
    conda:
        "../../envs/ttur.yaml"
    resources:
        mem_mb=4000,
        runtime=600,
    params:
        options=prepare_options,
        raw=lambda wc, input: Path(input[0]).parent,
        out=lambda wc, output: Path(output.manifest).parent,
    shell:
        "ttur prepare {wildcards.dataset} --raw {params.raw} --out {params.out} "
        "{params.options} > {log} 2>&1"


rule prepare_text:
    input:
        f"{DATA}/raw/{{dataset}}/download.json",
    output:
        data=f"{DATA}/prepared/{{dataset}}/tokens.npy",
        charmap=f"{DATA}/prepared/{{dataset}}/charmap.json",
        manifest=f"{DATA}/prepared/{{dataset}}/manifest.json",
    log:
        f"{RESULTS}/logs/prepare/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/prepare/{{dataset}}.tsv"
    wildcard_constraints:
        dataset="billion_word|tinytext",
    conda:
        "../../envs/ttur.yaml"
    resources:
        mem_mb=8000,
        runtime=120,
    params:
        options=prepare_options,
        raw=lambda wc, input: Path(input[0]).parent,
        out=lambda wc, output: Path(output.manifest).parent,
    shell:
        "ttur prepare {wildcards.dataset} --raw {params.raw} --out {params.out} "
        "{params.options} > {log} 2>&1"


ruleorder: prepare_text > prepare_images


rule weights:
    output:
        f"{RESOURCES}/weights/{INCEPTION_FILE}",
    log:
        f"{RESULTS}/logs/weights.log",
    conda:
        "../../envs/ttur.yaml"
    params:
        urls=" ".join(f"--url {u}" for u in config.get("inception_urls", [])),
    shell:
        "ttur weights --out {output} {params.urls} > {log} 2>&1"
