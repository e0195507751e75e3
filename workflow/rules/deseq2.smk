# Differential expression (pyDESeq2): one fit per design, one job per contrast, one workbook.
# The design and every contrast were checked at parse time (common.smk, deseq2 section).


if DESEQ2_COUNT_MATRIX:

    rule import_count_matrix:
        input:
            unpack(get_count_matrix_inputs),
            lib=get_library_sources("scripts/import_count_matrix.py"),
        output:
            counts="results/counts/all.counts.tsv",
            annotation="results/counts/genes.annotation.tsv",
            id_mapping=report(
                "results/counts/id_mapping.tsv",
                caption="../report/id_mapping.rst",
                category="1. Read counting",
                labels={"table": "gene identifiers mapped to symbols"},
            ),
        log:
            "logs/import_count_matrix/all.log",
        conda:
            "../../envs/deseq2.yaml"
        resources:
            mem_mb=get_deseq2_mem_mb,
            runtime=20,
        params:
            warn_library_fraction=config["counting"]["warn_library_fraction"],
            species=config["species"],
        script:
            "../../scripts/import_count_matrix.py"


rule deseq2_fit:
    input:
        counts="results/counts/all.counts.tsv",
        samples=config["samples"],
        lib=get_library_sources("scripts/deseq2_fit.py"),
    output:
        model="results/deseq2/model.npz",
        normalized_counts="results/deseq2/normalized_counts.tsv",
        vst="results/deseq2/vst.tsv",
        vst_blind="results/deseq2/vst_blind.tsv",
        size_factors="results/deseq2/size_factors.tsv",
        dispersions="results/deseq2/dispersions.tsv",
        cooks_outliers="results/deseq2/cooks_outliers.tsv",
    log:
        "logs/deseq2_fit/all.log",
    benchmark:
        "benchmarks/rules/deseq2_fit/all.tsv"
    conda:
        "../../envs/deseq2.yaml"
    threads: 2
    resources:
        mem_mb=get_deseq2_mem_mb,
        runtime=120,
    params:
        settings=get_fit_settings(),
    script:
        "../../scripts/deseq2_fit.py"


rule deseq2_contrasts_table:
    input:
        samples=config["samples"],
        lib=get_library_sources("scripts/deseq2_contrasts_table.py"),
    output:
        contrasts=report(
            "results/deseq2/contrasts.tsv",
            caption="../report/contrasts.rst",
            category="3. Differential expression",
            subcategory="All contrasts",
            labels={"table": "contrasts in plain words"},
        ),
    log:
        "logs/deseq2_contrasts_table/all.log",
    conda:
        "../../envs/deseq2.yaml"
    params:
        deseq2=config["deseq2"],
        contrasts=config["contrasts"],
    script:
        "../../scripts/deseq2_contrasts_table.py"


rule deseq2_contrast:
    input:
        model="results/deseq2/model.npz",
        counts="results/counts/all.counts.tsv",
        annotation="results/counts/genes.annotation.tsv",
        samples=config["samples"],
        lib=get_library_sources("scripts/deseq2_contrast.py"),
    output:
        results="results/deseq2/{contrast}.results.tsv",
        up="results/deseq2/{contrast}.up.tsv",
        down="results/deseq2/{contrast}.down.tsv",
        summary="results/deseq2/{contrast}.summary.tsv",
    log:
        "logs/deseq2_contrast/{contrast}.log",
    benchmark:
        "benchmarks/rules/deseq2_contrast/{contrast}.tsv"
    conda:
        "../../envs/deseq2.yaml"
    threads: 2
    resources:
        mem_mb=get_deseq2_mem_mb,
        runtime=60,
    params:
        contrast=get_contrast,
    script:
        "../../scripts/deseq2_contrast.py"


rule deseq2_workbook:
    input:
        results=expand("results/deseq2/{contrast}.results.tsv", contrast=CONTRASTS),
        summaries=expand("results/deseq2/{contrast}.summary.tsv", contrast=CONTRASTS),
        lib=get_library_sources("scripts/deseq2_workbook.py"),
    output:
        workbook=report(
            "results/deseq2/significant_genes.xlsx",
            caption="../report/workbook.rst",
            category="3. Differential expression",
            subcategory="All contrasts",
            labels={"table": "significant genes (Excel)"},
        ),
    log:
        "logs/deseq2_workbook/all.log",
    conda:
        "../../envs/deseq2.yaml"
    params:
        contrasts=CONTRASTS,
    script:
        "../../scripts/deseq2_workbook.py"
