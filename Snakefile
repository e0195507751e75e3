# redoxseq: RNA-seq differential expression for redox and ferroptosis biology.
# Orchestration only; the science lives in redoxseq/, the rules in workflow/rules/.
from snakemake.utils import min_version

min_version("9.1")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


# Read counting is skipped when the analysis starts from a count matrix.
if not DESEQ2_COUNT_MATRIX:

    include: "workflow/rules/count.smk"
    include: "workflow/rules/qc.smk"


# FASTQ units are trimmed and aligned first.
if FASTQ_UNITS:

    include: "workflow/rules/align.smk"


include: "workflow/rules/deseq2.smk"
include: "workflow/rules/enrichment.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/record.smk"


# cohort: the cohort stage runs only when the config has a `cohort:` section.
if COHORT is not None:

    include: "workflow/rules/cohort.smk"


rule all:
    default_target: True
    input:
        get_final_outputs(),
        "results/run_record.json",
