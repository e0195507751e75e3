# FASTQ units: per unit, trimming (fastp, reports kept) -> spliced alignment (HISAT2) ->
# coordinate sort and index (samtools); the BAM is then counted like a BAM of the units
# sheet. The HISAT2 index is built once from annotation.genome_fasta and the GTF's splice
# sites and exons unless alignment.hisat2_index names a prebuilt one.


rule hisat2_index_annotation:
    input:
        gtf=config["annotation"]["gtf"],
        lib=get_library_sources("scripts/hisat2_index_annotation.py"),
    output:
        splice_sites="results/align/index/splice_sites.tsv",
        exons="results/align/index/exons.tsv",
    log:
        "logs/hisat2_index_annotation/hisat2_index_annotation.log",
    conda:
        "../../envs/align.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    script:
        "../../scripts/hisat2_index_annotation.py"


rule hisat2_build:
    input:
        unpack(get_hisat2_build_inputs),
        lib=get_library_sources("scripts/hisat2_build.py"),
    output:
        index=multiext(
            HISAT2_BUILT_PREFIX,
            ".1.ht2",
            ".2.ht2",
            ".3.ht2",
            ".4.ht2",
            ".5.ht2",
            ".6.ht2",
            ".7.ht2",
            ".8.ht2",
        ),
    log:
        "logs/hisat2_build/hisat2_build.log",
    benchmark:
        "benchmarks/rules/hisat2_build/hisat2_build.tsv"
    conda:
        "../../envs/align.yaml"
    threads: 8
    resources:
        mem_mb=get_hisat2_build_mem_mb,
        runtime=get_hisat2_build_runtime,
    script:
        "../../scripts/hisat2_build.py"


rule fastp:
    input:
        unpack(get_fastq),
        lib=get_library_sources("scripts/fastp.py"),
    output:
        trimmed=temp(directory("results/align/trimmed/{sample}/{unit}")),
        json="results/qc/fastp/{sample}.{unit}.fastp.json",
        html="results/qc/fastp/{sample}.{unit}.fastp.html",
    log:
        "logs/fastp/{sample}.{unit}.log",
    benchmark:
        "benchmarks/rules/fastp/{sample}.{unit}.tsv"
    conda:
        "../../envs/align.yaml"
    threads: get_fastp_threads
    resources:
        mem_mb=2000,
        runtime=get_align_runtime,
    params:
        extra=config["alignment"]["fastp_extra"],
    script:
        "../../scripts/fastp.py"


rule hisat2_align:
    input:
        trimmed="results/align/trimmed/{sample}/{unit}",
        index=get_hisat2_index_files,
        lib=get_library_sources("scripts/hisat2_align.py"),
    output:
        bam="results/align/bams/{sample}/{unit}.bam",
        bai="results/align/bams/{sample}/{unit}.bam.bai",
        summary="results/qc/hisat2/{sample}.{unit}.hisat2.txt",
    log:
        "logs/hisat2_align/{sample}.{unit}.log",
    benchmark:
        "benchmarks/rules/hisat2_align/{sample}.{unit}.tsv"
    conda:
        "../../envs/align.yaml"
    threads: get_hisat2_threads
    resources:
        mem_mb=get_hisat2_align_mem_mb,
        runtime=get_align_runtime,
    params:
        index=get_hisat2_index_prefix(),
        strandedness=get_hisat2_strandedness,
        extra=config["alignment"]["hisat2_extra"],
    script:
        "../../scripts/hisat2_align.py"
