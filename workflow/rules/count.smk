# Read quantification: GTF -> gene index once; per sample (all its units) -> counts, summary
# and strand evidence; all samples -> genes x samples matrix. Not used when
# counting.count_matrix is set (the analysis then starts from a count matrix).


rule build_gene_index:
    input:
        gtf=config["annotation"]["gtf"],
        lib=get_library_sources("scripts/build_gene_index.py"),
    output:
        index="results/counts/gene_index.pkl",
        annotation="results/counts/genes.annotation.tsv",
    log:
        "logs/build_gene_index/build_gene_index.log",
    benchmark:
        "benchmarks/rules/build_gene_index/build_gene_index.tsv"
    conda:
        "../../envs/count.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    script:
        "../../scripts/build_gene_index.py"


rule count_sample:
    input:
        bams=get_unit_bams,
        index="results/counts/gene_index.pkl",
        lib=get_library_sources("scripts/count_sample.py"),
    output:
        counts="results/counts/{sample}.counts.tsv",
        summary="results/counts/{sample}.counts.tsv.summary",
        strandedness="results/counts/{sample}.strandedness.tsv",
        units_summary="results/counts/{sample}.units.summary.tsv",
    log:
        "logs/count_sample/{sample}.log",
    benchmark:
        "benchmarks/rules/count_sample/{sample}.tsv"
    conda:
        "../../envs/count.yaml"
    threads: 4
    resources:
        mem_mb=2000,
        runtime=120,
    params:
        strandedness=get_strandedness,
        units=get_unit_names,
        counting=config["counting"],
        reference=config["annotation"]["genome_fasta"],
    script:
        "../../scripts/count_sample.py"


rule merge_counts:
    input:
        counts=expand("results/counts/{sample}.counts.tsv", sample=SAMPLES),
        summaries=expand("results/counts/{sample}.counts.tsv.summary", sample=SAMPLES),
        strandedness=expand("results/counts/{sample}.strandedness.tsv", sample=SAMPLES),
        lib=get_library_sources("scripts/count_merge.py"),
    output:
        counts="results/counts/all.counts.tsv",
        summary=report(
            "results/counts/all.summary.tsv",
            caption="../report/assignment_table.rst",
            category="1. Quality control",
            labels={"table": "read assignment"},
        ),
        strandedness=report(
            "results/counts/all.strandedness.tsv",
            caption="../report/strandedness.rst",
            category="1. Quality control",
            labels={"table": "strandedness evidence"},
        ),
    log:
        "logs/merge_counts/merge_counts.log",
    benchmark:
        "benchmarks/rules/merge_counts/merge_counts.tsv"
    conda:
        "../../envs/count.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        samples=SAMPLES,
        warn_library_fraction=config["counting"]["warn_library_fraction"],
    script:
        "../../scripts/count_merge.py"
