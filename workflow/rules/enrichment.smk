# Gene-set enrichment (redoxseq.enrichment.gsea, gseapy, offline): per contrast x collection GSEA
# prerank and over-representation of the up/down lists; per-sample ssGSEA scores with a group
# comparison; one cross-contrast summary. Gene sets: bundled library (resources/genesets/) for
# config species, plus user GMT files (gsea.user_gene_sets).


rule gsea_check_symbols:
    input:
        annotation=get_gene_annotation,
        gmts=get_all_gmts,
        lib=get_library_sources("scripts/gsea_check_symbols.py"),
    output:
        coverage="results/gsea/gene_symbols.coverage.tsv",
    log:
        "logs/gsea_check_symbols/all.log",
    # right after the gene annotation exists: a wrong species or ID type stops the run
    # before the counting and model fit have been paid for
    priority: 50
    conda:
        "../../envs/gsea.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        collections=get_all_collections(),
        min_overlap=config["gsea"]["min_overlap"],
    script:
        "../../scripts/gsea_check_symbols.py"


rule gsea_prerank:
    input:
        results="results/deseq2/{contrast}.results.tsv",
        annotation=get_gene_annotation,
        gmt=get_gmt,
        coverage="results/gsea/gene_symbols.coverage.tsv",
        lib=get_library_sources("scripts/gsea_prerank.py"),
    output:
        table="results/gsea/{contrast}.{collection}.gsea.tsv",
        skipped="results/gsea/{contrast}.{collection}.gsea.skipped.tsv",
    log:
        "logs/gsea_prerank/{contrast}.{collection}.log",
    benchmark:
        "benchmarks/rules/gsea_prerank/{contrast}.{collection}.tsv"
    conda:
        "../../envs/gsea.yaml"
    threads: config["gsea"]["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        metric=config["gsea"]["ranking_metric"],
        min_size=config["gsea"]["min_size"],
        max_size=config["gsea"]["max_size"],
        permutations=config["gsea"]["permutations"],
        eps=config["gsea"]["eps"],
        min_overlap=config["gsea"]["min_overlap"],
        seed=config["seed"],
    script:
        "../../scripts/gsea_prerank.py"


rule gsea_ora:
    input:
        results="results/deseq2/{contrast}.results.tsv",
        up="results/deseq2/{contrast}.up.tsv",
        down="results/deseq2/{contrast}.down.tsv",
        annotation=get_gene_annotation,
        gmt=get_gmt,
        coverage="results/gsea/gene_symbols.coverage.tsv",
        lib=get_library_sources("scripts/ora_contrast.py"),
    output:
        table="results/gsea/{contrast}.{collection}.ora.tsv",
    log:
        "logs/gsea_ora/{contrast}.{collection}.log",
    conda:
        "../../envs/gsea.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        min_size=config["gsea"]["ora"]["min_size"],
        max_size=config["gsea"]["max_size"],
        min_overlap=config["gsea"]["min_overlap"],
    script:
        "../../scripts/ora_contrast.py"


rule ssgsea_scores:
    input:
        unpack(get_ssgsea_gmts),
        expression=get_ssgsea_expression,
        counts="results/counts/all.counts.tsv",
        annotation=get_gene_annotation,
        coverage="results/gsea/gene_symbols.coverage.tsv",
        lib=get_library_sources("scripts/ssgsea_scores.py"),
    output:
        scores="results/gsea/ssgsea.scores.tsv",
        comparison=report(
            "results/gsea/ssgsea.group_comparison.tsv",
            caption="../report/ssgsea_comparison.rst",
            category="4. Gene-set enrichment",
            labels={"table": "ssGSEA group comparison"},
        ),
    log:
        "logs/ssgsea_scores/all.log",
    benchmark:
        "benchmarks/rules/ssgsea_scores/all.tsv"
    conda:
        "../../envs/gsea.yaml"
    threads: config["gsea"]["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        collections=config["gsea"]["ssgsea"]["collections"],
        comparisons=get_ssgsea_comparisons(),
        min_size=config["gsea"]["ssgsea"]["min_size"],
        expression_filter=get_ssgsea_expression_filter(),
        max_size=config["gsea"]["max_size"],
        min_overlap=config["gsea"]["min_overlap"],
        seed=config["seed"],
    script:
        "../../scripts/ssgsea_scores.py"


rule gsea_summary:
    input:
        tables=get_gsea_tables,
        skipped=get_gsea_skipped_tables,
        lib=get_library_sources("scripts/gsea_summary.py"),
    output:
        summary=report(
            "results/gsea/summary.tsv",
            caption="../report/gsea_table.rst",
            category="4. Gene-set enrichment",
            labels={"table": "GSEA, all contrasts"},
        ),
        skipped=report(
            "results/gsea/skipped.tsv",
            caption="../report/gsea_skipped.rst",
            category="4. Gene-set enrichment",
            labels={"table": "gene sets not tested"},
        ),
    log:
        "logs/gsea_summary/all.log",
    conda:
        "../../envs/gsea.yaml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        table_keys=get_gsea_keys(),
    script:
        "../../scripts/gsea_summary.py"
