# Figures: read assignment, PCA, volcano and MA per contrast, GSEA summary.


rule plot_assignment_summary:
    input:
        summary="results/counts/all.summary.tsv",
        lib=get_library_sources("scripts/plot_assignment_summary.py"),
    output:
        figure=report(
            f"results/figures/read_assignment.{config['plots']['format']}",
            caption="../report/read_assignment.rst",
            category="1. Read counting",
        ),
    log:
        "logs/plot_assignment_summary/all.log",
    conda:
        "../../envs/plots.yaml"
    params:
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_assignment_summary.py"


rule plot_pca:
    input:
        vst="results/deseq2/vst_blind.tsv",
        samples=config["samples"],
        lib=get_library_sources("scripts/plot_pca.py"),
    output:
        figure=report(
            f"results/figures/pca.{config['plots']['format']}",
            caption="../report/pca.rst",
            category="2. Samples",
        ),
        coordinates="results/figures/pca.coordinates.tsv",
    log:
        "logs/plot_pca/all.log",
    conda:
        "../../envs/plots.yaml"
    params:
        top_genes=config["plots"]["pca_top_genes"],
        color_by=get_pca_color_by(),
        shape_by=get_pca_shape_by(),
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_pca.py"


rule plot_contrast:
    input:
        results="results/deseq2/{contrast}.results.tsv",
        summary="results/deseq2/{contrast}.summary.tsv",
        gmts=get_highlight_gmts,
        lib=get_library_sources("scripts/plot_contrast.py"),
    output:
        volcano=report(
            f"results/figures/{{contrast}}.volcano.{config['plots']['format']}",
            caption="../report/volcano.rst",
            category="3. Differential expression",
            subcategory="{contrast}",
        ),
        ma=report(
            f"results/figures/{{contrast}}.ma.{config['plots']['format']}",
            caption="../report/ma.rst",
            category="3. Differential expression",
            subcategory="{contrast}",
        ),
    log:
        "logs/plot_contrast/{contrast}.log",
    conda:
        "../../envs/plots.yaml"
    params:
        label_top=config["plots"]["label_top_genes"],
        highlight_sets=config["plots"]["highlight_gene_sets"],
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_contrast.py"


rule plot_gsea_summary:
    input:
        summary="results/gsea/summary.tsv",
        lib=get_library_sources("scripts/plot_gsea_summary.py"),
    output:
        figure=report(
            f"results/figures/gsea_summary.{config['plots']['format']}",
            caption="../report/gsea_summary.rst",
            category="4. Gene-set enrichment",
        ),
    log:
        "logs/plot_gsea_summary/all.log",
    conda:
        "../../envs/plots.yaml"
    params:
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_gsea_summary.py"


rule plot_de_genes_upset:
    input:
        up=expand("results/deseq2/{contrast}.up.tsv", contrast=CONTRASTS),
        down=expand("results/deseq2/{contrast}.down.tsv", contrast=CONTRASTS),
        lib=get_library_sources("scripts/plot_de_genes_upset.py"),
    output:
        figure=report(
            f"results/figures/de_genes_upset.{config['plots']['format']}",
            caption="../report/de_genes_upset.rst",
            category="3. Differential expression",
            subcategory="All contrasts",
        ),
        intersections="results/figures/de_genes_upset.intersections.tsv",
    log:
        "logs/plot_de_genes_upset/all.log",
    conda:
        "../../envs/plots.yaml"
    params:
        contrasts=CONTRASTS,
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_de_genes_upset.py"


rule plot_top_genes_heatmap:
    input:
        vst="results/deseq2/vst.tsv",
        results=expand("results/deseq2/{contrast}.results.tsv", contrast=CONTRASTS),
        samples=config["samples"],
        lib=get_library_sources("scripts/plot_top_genes_heatmap.py"),
    output:
        figure=report(
            f"results/figures/top_genes_heatmap.{config['plots']['format']}",
            caption="../report/top_genes_heatmap.rst",
            category="3. Differential expression",
            subcategory="All contrasts",
        ),
    log:
        "logs/plot_top_genes_heatmap/all.log",
    conda:
        "../../envs/plots.yaml"
    params:
        contrasts=CONTRASTS,
        per_contrast=config["plots"]["heatmap_top_genes"],
        group_by=get_heatmap_group_by(),
        dpi=config["plots"]["dpi"],
    script:
        "../../scripts/plot_top_genes_heatmap.py"
