# Reproduction of Heusel et al. (2017), "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
# Equilibrium": TTUR vs one time-scale training, evaluated with FID (images) and n-gram JSD (language).
#   snakemake --cores 8 --resources gpu=4 results/table1.csv            # the paper (config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml                  # offline CPU smoke preset
from snakemake.utils import min_version

min_version("9.20")


# The paper config is the default. A preset given with --configfile replaces it (instead of being merged into
# it, which would mix the paper's datasets into the smoke preset); --config KEY=VALUE still overrides either.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/toy.smk"
include: "workflow/rules/disturb.smk"


rule all:
    default_target: True
    input:
        final_targets(),


onstart:
    require_ttur_command()
