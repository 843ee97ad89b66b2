# Fig. 4: the toy saddle problem f(x, y) = (1 + x^2)(100 - y^2), one time-scale vs TTUR, seeded.


localrules:
    toy,


rule toy:
    output:
        csv=f"{RESULTS}/toy/toy.csv",
        fig=report(
            f"{RESULTS}/figures/fig4_toy.png",
            caption="../report/fig4.rst",
            category="Figures",
        ),
        pdf=f"{RESULTS}/figures/fig4_toy.pdf",
    log:
        f"{RESULTS}/logs/toy.log",
    conda:
        "../../envs/ttur.yaml"
    params:
        seed=config.get("toy", {}).get("seed", 0),
        iterations=config.get("toy", {}).get("iterations", 5000),
    shell:
        "ttur toy --out-csv {output.csv} --out-fig {output.fig} --seed {params.seed} "
        "--iterations {params.iterations} > {log} 2>&1"
