# Quality control: one MultiQC report over fastp (trimming), HISAT2 (alignment) and the
# read-counting summaries, linked from the Snakemake report.


rule multiqc:
    input:
        unpack(get_multiqc_inputs),
        lib=get_library_sources("scripts/multiqc.py"),
    output:
        report=report(
            "results/qc/multiqc_report.html",
            caption="../report/multiqc.rst",
            category="0. Quality control",
            labels={"report": "MultiQC"},
        ),
        data=directory("results/qc/multiqc_report_data"),
    log:
        "logs/multiqc/multiqc.log",
    conda:
        "../../envs/qc.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../../scripts/multiqc.py"
