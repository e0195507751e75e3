# Cohort analysis (redoxseq.cohort): all samples of a count matrix or of the counted BAMs,
# no contrast. Blind VST, per-sample gene-set scores (exact vectorised ssGSEA or gseapy's),
# correlations between chosen genes and scores (Spearman/Pearson, p-values, BH FDR) overall
# and per stratum of a sample-sheet column, per-stratum distributions, figures.
# Included from the Snakefile only when the config has a `cohort:` section.


rule cohort_vst:
    input:
        counts="results/counts/all.counts.tsv",
        lib=get_library_sources("scripts/cohort_vst.py"),
    output:
        vst="results/cohort/vst.tsv",
    log:
        "logs/cohort_vst/all.log",
    benchmark:
        "benchmarks/rules/cohort_vst/all.tsv"
    conda:
        "../../envs/deseq2.yaml"
    threads: config["cohort"]["threads"]
    resources:
        mem_mb=get_deseq2_mem_mb,
        runtime=120,
    script:
        "../../scripts/cohort_vst.py"


rule cohort_scores:
    input:
        unpack(get_cohort_gmts),
        vst="results/cohort/vst.tsv",
        annotation="results/counts/genes.annotation.tsv",
        lib=get_library_sources("scripts/cohort_scores.py"),
    output:
        scores="results/cohort/scores.tsv",
        skipped="results/cohort/scores.skipped.tsv",
    log:
        "logs/cohort_scores/all.log",
    benchmark:
        "benchmarks/rules/cohort_scores/all.tsv"
    conda:
        "../../envs/gsea.yaml"
    threads: config["cohort"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        collections=config["cohort"]["collections"],
        method=config["cohort"]["score_method"],
        min_size=config["cohort"]["min_size"],
        max_size=config["cohort"]["max_size"],
        seed=config["seed"],
    script:
        "../../scripts/cohort_scores.py"


rule cohort_correlations:
    input:
        vst="results/cohort/vst.tsv",
        annotation="results/counts/genes.annotation.tsv",
        scores="results/cohort/scores.tsv",
        samples=config["samples"],
        lib=get_library_sources("scripts/cohort_correlations.py"),
    output:
        features="results/cohort/features.tsv",
        correlations=report(
            "results/cohort/correlations.tsv",
            caption="../report/cohort_correlations.rst",
            category="6. Cohort",
            labels={"table": "correlations"},
        ),
        distributions="results/cohort/distributions.tsv",
        strata_tests=(
            "results/cohort/strata_tests.tsv"
            if config["cohort"]["stratify_by"]
            else []
        ),
    log:
        "logs/cohort_correlations/all.log",
    conda:
        "../../envs/gsea.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        genes=config["cohort"]["genes"],
        scores=config["cohort"]["scores"],
        pairs=config["cohort"]["pairs"],
        methods=config["cohort"]["methods"],
        stratify_by=config["cohort"]["stratify_by"],
        min_stratum_size=config["cohort"]["min_stratum_size"],
    script:
        "../../scripts/cohort_correlations.py"


rule cohort_figures:
    input:
        features="results/cohort/features.tsv",
        correlations="results/cohort/correlations.tsv",
        scores="results/cohort/scores.tsv",
        samples=config["samples"],
        lib=get_library_sources("scripts/cohort_figures.py"),
    output:
        scatter_svg="results/figures/cohort/scatter.svg",
        scatter_pdf="results/figures/cohort/scatter.pdf",
        scatter_png=report(
            "results/figures/cohort/scatter.png",
            caption="../report/cohort_scatter.rst",
            category="6. Cohort",
            labels={"figure": "feature pairs"},
        ),
        correlation_heatmap_svg="results/figures/cohort/correlation_heatmap.svg",
        correlation_heatmap_pdf="results/figures/cohort/correlation_heatmap.pdf",
        correlation_heatmap_png=report(
            "results/figures/cohort/correlation_heatmap.png",
            caption="../report/cohort_correlation_heatmap.rst",
            category="6. Cohort",
            labels={"figure": "correlations per stratum"},
        ),
        scores_heatmap_svg="results/figures/cohort/scores_heatmap.svg",
        scores_heatmap_pdf="results/figures/cohort/scores_heatmap.pdf",
        scores_heatmap_png=report(
            "results/figures/cohort/scores_heatmap.png",
            caption="../report/cohort_scores_heatmap.rst",
            category="6. Cohort",
            labels={"figure": "gene-set scores"},
        ),
        score_distributions_svg="results/figures/cohort/score_distributions.svg",
        score_distributions_pdf="results/figures/cohort/score_distributions.pdf",
        score_distributions_png=report(
            "results/figures/cohort/score_distributions.png",
            caption="../report/cohort_score_distributions.rst",
            category="6. Cohort",
            labels={"figure": "score distributions"},
        ),
    log:
        "logs/cohort_figures/all.log",
    conda:
        "../../envs/plots.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        stratify_by=config["cohort"]["stratify_by"],
        method=config["cohort"]["methods"][0],
        heatmap_max_samples=config["cohort"]["heatmap_max_samples"],
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/cohort_figures.py"
