# Figures (redoxseq.plots) and the report's table pages. Layout (an interface, see
# config/README.md): results/figures/qc/, results/figures/contrasts/{contrast}/,
# results/figures/summary/; every figure as SVG and PDF, and as PNG for the report.


wildcard_constraints:
    gene_set="[A-Za-z0-9_]+",


if not DESEQ2_COUNT_MATRIX:

    rule plot_qc_counts:
        input:
            counts="results/counts/all.counts.tsv",
            size_factors="results/deseq2/size_factors.tsv",
            samples=config["samples"],
            summary="results/counts/all.summary.tsv",
            strandedness="results/counts/all.strandedness.tsv",
            lib=get_library_sources("scripts/plot_qc_counts.py"),
        output:
            library_sizes_svg="results/figures/qc/library_sizes.svg",
            library_sizes_pdf="results/figures/qc/library_sizes.pdf",
            library_sizes_png=report(
                "results/figures/qc/library_sizes.png",
                caption="../report/library_sizes.rst",
                category="1. Quality control",
                labels={"figure": "library_sizes"},
            ),
            read_assignment_svg="results/figures/qc/read_assignment.svg",
            read_assignment_pdf="results/figures/qc/read_assignment.pdf",
            read_assignment_png=report(
                "results/figures/qc/read_assignment.png",
                caption="../report/read_assignment.rst",
                category="1. Quality control",
                labels={"figure": "read_assignment"},
            ),
            strandedness_svg="results/figures/qc/strandedness.svg",
            strandedness_pdf="results/figures/qc/strandedness.pdf",
            strandedness_png=report(
                "results/figures/qc/strandedness.png",
                caption="../report/strandedness_figure.rst",
                category="1. Quality control",
                labels={"figure": "strandedness"},
            ),
        log:
            "logs/plot_qc_counts/all.log",
        conda:
            "../../envs/plots.yaml"
        params:
            group_by=get_plot_group_by(),
            dpi=config["plots"]["dpi"],
        script:
            "../../scripts/plot_qc_counts.py"

else:

    rule plot_qc_counts:
        input:
            counts="results/counts/all.counts.tsv",
            size_factors="results/deseq2/size_factors.tsv",
            samples=config["samples"],
            lib=get_library_sources("scripts/plot_qc_counts.py"),
        output:
            library_sizes_svg="results/figures/qc/library_sizes.svg",
            library_sizes_pdf="results/figures/qc/library_sizes.pdf",
            library_sizes_png=report(
                "results/figures/qc/library_sizes.png",
                caption="../report/library_sizes.rst",
                category="1. Quality control",
                labels={"figure": "library_sizes"},
            ),
        log:
            "logs/plot_qc_counts/all.log",
        conda:
            "../../envs/plots.yaml"
        params:
            group_by=get_plot_group_by(),
            dpi=config["plots"]["dpi"],
        script:
            "../../scripts/plot_qc_counts.py"


rule plot_qc_samples:
    input:
        vst="results/deseq2/vst_blind.tsv",
        dispersions="results/deseq2/dispersions.tsv",
        samples=config["samples"],
        lib=get_library_sources("scripts/plot_qc_samples.py"),
    output:
        sample_distances_svg="results/figures/qc/sample_distances.svg",
        sample_distances_pdf="results/figures/qc/sample_distances.pdf",
        sample_distances_png=report(
            "results/figures/qc/sample_distances.png",
            caption="../report/sample_distances.rst",
            category="2. Samples",
            labels={"figure": "sample_distances"},
        ),
        pca_svg="results/figures/qc/pca.svg",
        pca_pdf="results/figures/qc/pca.pdf",
        pca_png=report(
            "results/figures/qc/pca.png",
            caption="../report/pca.rst",
            category="2. Samples",
            labels={"figure": "pca"},
        ),
        pca_scree_svg="results/figures/qc/pca_scree.svg",
        pca_scree_pdf="results/figures/qc/pca_scree.pdf",
        pca_scree_png=report(
            "results/figures/qc/pca_scree.png",
            caption="../report/pca_scree.rst",
            category="2. Samples",
            labels={"figure": "pca_scree"},
        ),
        dispersion_svg="results/figures/qc/dispersion.svg",
        dispersion_pdf="results/figures/qc/dispersion.pdf",
        dispersion_png=report(
            "results/figures/qc/dispersion.png",
            caption="../report/dispersion.rst",
            category="1. Quality control",
            labels={"figure": "dispersion"},
        ),
        coordinates="results/figures/qc/pca.coordinates.tsv",
    log:
        "logs/plot_qc_samples/all.log",
    benchmark:
        "benchmarks/rules/plot_qc_samples/all.tsv"
    conda:
        "../../envs/plots.yaml"
    resources:
        mem_mb=2000,
    params:
        group_by=get_plot_group_by(),
        top_genes=config["plots"]["pca_top_genes"],
        color_by=get_pca_color_by(),
        shape_by=get_pca_shape_by(),
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_qc_samples.py"


rule plot_contrast:
    input:
        results="results/deseq2/{contrast}.results.tsv",
        summary="results/deseq2/{contrast}.summary.tsv",
        # this contrast's row changes only with its results (above): another contrast's
        # cutoff must not redraw this one's figures
        contrasts=ancient("results/deseq2/contrasts.tsv"),
        vst="results/deseq2/vst.tsv",
        samples=config["samples"],
        lib=get_library_sources("scripts/plot_contrast.py"),
    output:
        volcano_svg="results/figures/contrasts/{contrast}/volcano.svg",
        volcano_pdf="results/figures/contrasts/{contrast}/volcano.pdf",
        volcano_png=report(
            "results/figures/contrasts/{contrast}/volcano.png",
            caption="../report/volcano.rst",
            category="3. Differential expression",
            subcategory="{contrast}",
            labels={"figure": "volcano"},
        ),
        ma_svg="results/figures/contrasts/{contrast}/ma.svg",
        ma_pdf="results/figures/contrasts/{contrast}/ma.pdf",
        ma_png=report(
            "results/figures/contrasts/{contrast}/ma.png",
            caption="../report/ma.rst",
            category="3. Differential expression",
            subcategory="{contrast}",
            labels={"figure": "ma"},
        ),
        pvalue_histogram_svg="results/figures/contrasts/{contrast}/pvalue_histogram.svg",
        pvalue_histogram_pdf="results/figures/contrasts/{contrast}/pvalue_histogram.pdf",
        pvalue_histogram_png=report(
            "results/figures/contrasts/{contrast}/pvalue_histogram.png",
            caption="../report/pvalue_histogram.rst",
            category="3. Differential expression",
            subcategory="{contrast}",
            labels={"figure": "pvalue_histogram"},
        ),
        top_genes_heatmap_svg="results/figures/contrasts/{contrast}/top_genes_heatmap.svg",
        top_genes_heatmap_pdf="results/figures/contrasts/{contrast}/top_genes_heatmap.pdf",
        top_genes_heatmap_png=report(
            "results/figures/contrasts/{contrast}/top_genes_heatmap.png",
            caption="../report/top_genes_heatmap.rst",
            category="3. Differential expression",
            subcategory="{contrast}",
            labels={"figure": "top_genes_heatmap"},
        ),
    log:
        "logs/plot_contrast/{contrast}.log",
    benchmark:
        "benchmarks/rules/plot_contrast/{contrast}.tsv"
    conda:
        "../../envs/plots.yaml"
    resources:
        mem_mb=2000,
    params:
        genes_of_interest=PLOT_CHOICES.genes_of_interest,
        highlight=PLOT_CHOICES.highlight,
        highlight_label=PLOT_CHOICES.highlight_label,
        label_top=config["plots"]["label_top_genes"],
        heatmap_top=config["plots"]["heatmap_top_genes"],
        group_by=get_plot_group_by(),
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_contrast.py"


rule plot_gsea_running_sum:
    input:
        results="results/deseq2/{contrast}.results.tsv",
        annotation=get_gene_annotation,
        gsea=get_running_sum_gsea,
        skipped=get_running_sum_skipped,
        gmt=get_running_sum_gmt,
        lib=get_library_sources("scripts/plot_gsea_running_sum.py"),
    output:
        svg="results/figures/contrasts/{contrast}/gsea_running_sum.{gene_set}.svg",
        pdf="results/figures/contrasts/{contrast}/gsea_running_sum.{gene_set}.pdf",
        png=report(
            "results/figures/contrasts/{contrast}/gsea_running_sum.{gene_set}.png",
            caption="../report/gsea_running_sum.rst",
            category="4. Gene-set enrichment",
            subcategory="{contrast}",
            labels={"figure": "GSEA running sum: {gene_set}"},
        ),
    log:
        "logs/plot_gsea_running_sum/{contrast}.{gene_set}.log",
    conda:
        "../../envs/gsea.yaml"
    params:
        metric=config["gsea"]["ranking_metric"],
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_gsea_running_sum.py"


rule plot_ora:
    input:
        tables=get_contrast_ora_tables,
        lib=get_library_sources("scripts/plot_ora.py"),
    output:
        svg="results/figures/contrasts/{contrast}/ora.svg",
        pdf="results/figures/contrasts/{contrast}/ora.pdf",
        png=report(
            "results/figures/contrasts/{contrast}/ora.png",
            caption="../report/ora.rst",
            category="4. Gene-set enrichment",
            subcategory="{contrast}",
            labels={"figure": "ORA dot plot"},
        ),
    log:
        "logs/plot_ora/{contrast}.log",
    conda:
        "../../envs/plots.yaml"
    params:
        collections=get_gsea_collections(),
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_ora.py"


rule plot_summary:
    input:
        results=expand("results/deseq2/{contrast}.results.tsv", contrast=CONTRASTS),
        summaries=expand("results/deseq2/{contrast}.summary.tsv", contrast=CONTRASTS),
        contrasts="results/deseq2/contrasts.tsv",
        gsea="results/gsea/summary.tsv",
        lib=get_library_sources("scripts/plot_summary.py"),
    output:
        de_gene_counts_svg="results/figures/summary/de_gene_counts.svg",
        de_gene_counts_pdf="results/figures/summary/de_gene_counts.pdf",
        de_gene_counts_png=report(
            "results/figures/summary/de_gene_counts.png",
            caption="../report/de_gene_counts.rst",
            category="3. Differential expression",
            subcategory="All contrasts",
            labels={"figure": "de_gene_counts"},
        ),
        de_genes_upset_svg="results/figures/summary/de_genes_upset.svg",
        de_genes_upset_pdf="results/figures/summary/de_genes_upset.pdf",
        de_genes_upset_png=report(
            "results/figures/summary/de_genes_upset.png",
            caption="../report/de_genes_upset.rst",
            category="3. Differential expression",
            subcategory="All contrasts",
            labels={"figure": "de_genes_upset"},
        ),
        genes_of_interest_svg="results/figures/summary/genes_of_interest.svg",
        genes_of_interest_pdf="results/figures/summary/genes_of_interest.pdf",
        genes_of_interest_png=report(
            "results/figures/summary/genes_of_interest.png",
            caption="../report/genes_of_interest.rst",
            category="3. Differential expression",
            subcategory="All contrasts",
            labels={"figure": "genes_of_interest"},
        ),
        gsea_nes_svg="results/figures/summary/gsea_nes.svg",
        gsea_nes_pdf="results/figures/summary/gsea_nes.pdf",
        gsea_nes_png=report(
            "results/figures/summary/gsea_nes.png",
            caption="../report/gsea_nes.rst",
            category="4. Gene-set enrichment",
            subcategory="All contrasts",
            labels={"figure": "gsea_nes"},
        ),
        overview_svg="results/figures/summary/overview.svg",
        overview_pdf="results/figures/summary/overview.pdf",
        overview_png=report(
            "results/figures/summary/overview.png",
            caption="../report/overview.rst",
            category="0. Overview",
            labels={"figure": "overview"},
        ),
        intersections="results/figures/summary/de_genes_upset.intersections.tsv",
    log:
        "logs/plot_summary/all.log",
    benchmark:
        "benchmarks/rules/plot_summary/all.tsv"
    conda:
        "../../envs/plots.yaml"
    resources:
        mem_mb=2000,
    params:
        contrasts=CONTRASTS,
        genes_of_interest=PLOT_CHOICES.genes_of_interest,
        gene_sets=PLOT_CHOICES.gene_sets,
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_summary.py"


rule plot_ssgsea:
    input:
        scores="results/gsea/ssgsea.scores.tsv",
        comparison="results/gsea/ssgsea.group_comparison.tsv",
        samples=config["samples"],
        lib=get_library_sources("scripts/plot_ssgsea.py"),
    output:
        ssgsea_heatmap_svg="results/figures/summary/ssgsea_heatmap.svg",
        ssgsea_heatmap_pdf="results/figures/summary/ssgsea_heatmap.pdf",
        ssgsea_heatmap_png=report(
            "results/figures/summary/ssgsea_heatmap.png",
            caption="../report/ssgsea_heatmap.rst",
            category="5. Cell-death and NRF2 scores",
            labels={"figure": "ssgsea_heatmap"},
        ),
        ssgsea_groups_svg="results/figures/summary/ssgsea_groups.svg",
        ssgsea_groups_pdf="results/figures/summary/ssgsea_groups.pdf",
        ssgsea_groups_png=report(
            "results/figures/summary/ssgsea_groups.png",
            caption="../report/ssgsea_groups.rst",
            category="5. Cell-death and NRF2 scores",
            labels={"figure": "ssgsea_groups"},
        ),
    log:
        "logs/plot_ssgsea/all.log",
    benchmark:
        "benchmarks/rules/plot_ssgsea/all.tsv"
    conda:
        "../../envs/plots.yaml"
    params:
        groups=get_sample_groups(),
        group_by=get_plot_group_by(),
        gene_sets=PLOT_CHOICES.gene_sets,
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_ssgsea.py"


# ----------------------------------------------------------------------------------------
# report table pages: key tables as sortable tables in the report, full TSV attached
# ----------------------------------------------------------------------------------------


rule report_contrast_tables:
    input:
        results="results/deseq2/{contrast}.results.tsv",
        ora=get_report_ora_tables,
        lib=get_library_sources("scripts/report_contrast_tables.py"),
    output:
        results=report(
            "results/report/{contrast}.results.html",
            caption="../report/results_table.rst",
            category="3. Differential expression",
            subcategory="{contrast}",
            labels={"figure": "results table"},
        ),
        ora=report(
            "results/report/{contrast}.ora.html",
            caption="../report/ora_table.rst",
            category="4. Gene-set enrichment",
            subcategory="{contrast}",
            labels={"figure": "ORA table"},
        ),
    log:
        "logs/report_contrast_tables/{contrast}.log",
    conda:
        "../../envs/plots.yaml"
    params:
        collections=get_report_ora_collections(),
    script:
        "../../scripts/report_contrast_tables.py"


rule report_tables:
    input:
        unpack(get_report_table_inputs),
        lib=get_library_sources("scripts/report_tables.py"),
    output:
        contrasts=report(
            "results/report/contrasts.html",
            caption="../report/contrasts.rst",
            category="6. Run",
            labels={"figure": "contrasts in plain words"},
        ),
        design=report(
            "results/report/design.html",
            caption="../report/design.rst",
            category="6. Run",
            labels={"figure": "design pre-flight"},
        ),
        config=report(
            "results/report/config.html",
            caption="../report/config.rst",
            category="6. Run",
            labels={"figure": "resolved configuration"},
        ),
        versions=report(
            "results/report/versions.html",
            caption="../report/versions.rst",
            category="6. Run",
            labels={"figure": "software versions"},
        ),
        gsea=report(
            "results/report/gsea_summary.html",
            caption="../report/gsea_table.rst",
            category="4. Gene-set enrichment",
            subcategory="All contrasts",
            labels={"figure": "GSEA table"},
        ),
        ssgsea=report(
            "results/report/ssgsea_comparison.html",
            caption="../report/ssgsea_comparison.rst",
            category="5. Cell-death and NRF2 scores",
            labels={"figure": "group comparison table"},
        ),
    log:
        "logs/report_tables/all.log",
    benchmark:
        "benchmarks/rules/report_tables/all.tsv"
    conda:
        "../../envs/plots.yaml"
    params:
        preflight=DESEQ2_PREFLIGHT.lines(),
        config=config,
    script:
        "../../scripts/report_tables.py"
