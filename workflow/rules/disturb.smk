# Fig. A8: FID and the Inception Score under six disturbances of real images (paper appendix A1).


rule disturb:
    input:
        data=lambda wc: f"{DATA}/prepared/{disturb_option('dataset')}/images.npy",
        manifest=lambda wc: prepared(disturb_option("dataset")),
        stats=lambda wc: stats_file(disturb_option("dataset")),
        weights=weights_path(),
    output:
        csv=f"{RESULTS}/disturb/disturbances.csv",
        fig=report(
            f"{RESULTS}/figures/figA8_disturbances.png",
            caption="../report/figA8.rst",
            category="Figures",
        ),
        pdf=f"{RESULTS}/figures/figA8_disturbances.pdf",
    log:
        f"{RESULTS}/logs/disturb.log",
    benchmark:
        f"{RESULTS}/benchmarks/disturb.tsv"
    conda:
        "../../envs/ttur.yaml"
    threads: config["train"].get("threads", 1)
    resources:
        gpu=uses_gpu(),
        mem_mb=16000,
        runtime=600,
    params:
        src=lambda wc, input: Path(input.manifest).parent,
        weights=weights_flag(),
        contamination=(
            f"--contamination {disturb_option('contamination')}"
            if disturb_option("contamination")
            else ""
        ),
        n_images=disturb_option("n_images", 50000),
        seed=disturb_option("seed", 0),
        extractor=EXTRACTOR,
        device=config["device"],
    shell:
        "ttur disturb {params.src} --stats {input.stats} --out-csv {output.csv} "
        "--out-fig {output.fig} --extractor {params.extractor} {params.weights} "
        "--n-images {params.n_images} --seed {params.seed} {params.contamination} "
        "--device {params.device} > {log} 2>&1"
