# Shared set-up: configuration and sample-sheet validation (before any job runs), the sample
# and unit tables, and the input functions the rules use.
from snakemake.logging import logger as snakemake_logger

from redoxseq.config import load_samples, load_schema, load_units, validate_config
from redoxseq.errors import ConfigError, RedoxseqError

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"


def _validated_configuration():
    """Validate config, sample and units sheets; stop with one clear message on error."""
    try:
        checked = validate_config(
            config,
            load_schema(SCHEMAS / "config.schema.yaml"),
            source="config (config/config.yaml and --config overrides)",
        )
        sample_table = load_samples(
            checked["samples"], load_schema(SCHEMAS / "samples.schema.yaml")
        )
        if checked["counting"]["count_matrix"]:
            # Starting from a count matrix: no reads, so no units sheet is needed.
            return checked, sample_table, None
        if not checked["annotation"]["gtf"]:
            raise ConfigError(
                "config: annotation.gtf is empty; set it to the GTF the reads were aligned "
                "against (or set counting.count_matrix to start from a count matrix)"
            )
        unit_table = load_units(
            checked["units"], load_schema(SCHEMAS / "units.schema.yaml"), sample_table
        )
    except RedoxseqError as error:
        raise WorkflowError(str(error)) from None
    return checked, sample_table, unit_table


_checked_config, samples, units = _validated_configuration()
config.clear()
config.update(_checked_config)

SAMPLES = list(samples.index)
CONTRASTS = list(config["contrasts"])


wildcard_constraints:
    sample="|".join(map(re.escape, SAMPLES)) if SAMPLES else "[^/.]+",
    contrast="[A-Za-z0-9_]+",
    collection="[A-Za-z0-9_]+",


def get_unit_bams(wildcards):
    """All BAM/SAM/CRAM files (units) of one sample, in unit order."""
    return list(units.loc[wildcards.sample, "bam"])


def get_strandedness(wildcards):
    """Strandedness of a sample: its sheet column if set, else counting.strandedness."""
    value = samples.loc[wildcards.sample].get("strandedness")
    if isinstance(value, str) and value:
        return value
    return config["counting"]["strandedness"]


def _design_factors():
    """Sample-sheet columns named in the design formula, in order of appearance."""
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", config["deseq2"]["design"])
    return [name for name in dict.fromkeys(names) if name in samples.columns]


def get_pca_color_by():
    """Sample-sheet column colouring the PCA: plots.pca_color_by or the first design factor."""
    factors = _design_factors() or ["sample"]
    return config["plots"]["pca_color_by"] or factors[0]


def get_pca_shape_by():
    """Sample-sheet column shaping PCA markers: plots.pca_shape_by or the second design factor."""
    factors = _design_factors()
    return config["plots"]["pca_shape_by"] or (factors[1] if len(factors) > 1 else "")


def get_heatmap_group_by():
    """Sample-sheet columns ordering the heatmap columns: the design factors."""
    return _design_factors()


def get_highlight_gmts(wildcards):
    """GMT files of every GSEA collection, when volcano plots highlight gene sets."""
    if not config["plots"]["highlight_gene_sets"]:
        return []
    return [get_gmt_path(collection) for collection in get_gsea_collections()]


def get_final_outputs():
    """Every file the default target builds."""
    figure_format = config["plots"]["format"]
    outputs = []
    if (
        COHORT_ONLY
    ):  # cohort section: a cohort without contrasts runs only counts + cohort
        return get_counting_outputs() + get_cohort_outputs()
    if not config["counting"]["count_matrix"]:
        outputs += [
            "results/counts/all.counts.tsv",
            "results/counts/all.summary.tsv",
            "results/counts/all.strandedness.tsv",
            f"results/figures/read_assignment.{figure_format}",
        ]
    outputs += get_deseq2_outputs()
    outputs += get_gsea_outputs()
    outputs += get_cohort_outputs()  # cohort section ([] without a `cohort:` section)
    outputs += [
        f"results/figures/pca.{figure_format}",
        f"results/figures/gsea_summary.{figure_format}",
        f"results/figures/de_genes_upset.{figure_format}",
        f"results/figures/top_genes_heatmap.{figure_format}",
    ]
    outputs += expand(
        "results/figures/{contrast}.{plot}.{ext}",
        contrast=CONTRASTS,
        plot=["volcano", "ma"],
        ext=figure_format,
    )
    return outputs


# ----------------------------------------------------------------------------------------
# counting: input functions of the read-quantification stage
# ----------------------------------------------------------------------------------------


def get_unit_names(wildcards):
    """Unit names of one sample, in the order of get_unit_bams."""
    return [str(unit) for unit in units.loc[wildcards.sample].index]


# ----------------------------------------------------------------------------------------
# deseq2: input functions of the differential-expression stage
# ----------------------------------------------------------------------------------------
from redoxseq.de.design import preflight as _deseq2_preflight


def _deseq2_report():
    """Design pre-flight at parse time: levels, rank, replicates, contrasts in plain words."""
    try:
        return _deseq2_preflight(samples, config["deseq2"], config["contrasts"])
    except RedoxseqError as error:
        raise WorkflowError(str(error)) from None


DESEQ2_PREFLIGHT = _deseq2_report()
# Show the design and every contrast in plain words before anything runs (also in
# results/deseq2/contrasts.tsv and the fit's log).
for _line in DESEQ2_PREFLIGHT.lines():
    snakemake_logger.info(_line)
for _warning in DESEQ2_PREFLIGHT.warnings:
    snakemake_logger.warning(f"design pre-flight: {_warning}")
# A user count matrix (counting.count_matrix) replaces read counting.
DESEQ2_COUNT_MATRIX = config["counting"].get("count_matrix") or ""


def get_count_matrix_inputs(wildcards):
    """The user count matrix, the sample sheet and, when set, GTF / annotation table."""
    inputs = {"matrix": DESEQ2_COUNT_MATRIX, "samples": config["samples"]}
    table = config["counting"].get("count_matrix_annotation") or ""
    if table:
        inputs["annotation_table"] = table
    elif config["annotation"].get("gtf"):
        inputs["gtf"] = config["annotation"]["gtf"]
    return inputs


def get_deseq2_mem_mb(wildcards, input):
    """Memory of the DE jobs: 50x the count table on disk (60,000 x 200: ~2.4 GB), >= 4 GB."""
    return max(4096, int(50 * input.size_mb))


def get_deseq2_outputs():
    """Every output of the differential-expression stage."""
    per_design = [
        "normalized_counts",
        "vst",
        "vst_blind",
        "size_factors",
        "dispersions",
        "cooks_outliers",
        "contrasts",
    ]
    outputs = expand("results/deseq2/{table}.tsv", table=per_design)
    outputs += expand(
        "results/deseq2/{contrast}.{what}.tsv",
        contrast=CONTRASTS,
        what=["results", "up", "down", "summary"],
    )
    outputs.append("results/deseq2/significant_genes.xlsx")
    return outputs


# ----------------------------------------------------------------------------------------
# gsea: input functions of the enrichment stage
# ----------------------------------------------------------------------------------------

GENESET_LIBRARY = Path(
    os.path.relpath(Path(workflow.basedir) / "resources" / "genesets")
)


def get_gsea_collections():
    """Collections run by GSEA prerank and ORA: bundled names, then user collections."""
    return list(config["gsea"]["collections"]) + list(config["gsea"]["user_gene_sets"])


def _check_gsea_collections():
    """User collection names must not shadow bundled ones; paths must exist."""
    species_dir = GENESET_LIBRARY / config["species"]
    bundled = sorted(p.stem for p in species_dir.glob("*.gmt"))
    for name in config["gsea"]["collections"] + config["gsea"]["ssgsea"]["collections"]:
        if name not in bundled and name not in config["gsea"]["user_gene_sets"]:
            raise WorkflowError(
                f"config gsea: collection {name!r} is neither bundled for species "
                f"{config['species']!r} ({', '.join(bundled)}) nor a key of gsea.user_gene_sets"
            )
    for name, path in config["gsea"]["user_gene_sets"].items():
        if name in bundled:
            raise WorkflowError(
                f"config gsea.user_gene_sets: name {name!r} is a bundled collection; "
                "choose another name"
            )
        if not Path(path).is_file():
            raise WorkflowError(
                f"config gsea.user_gene_sets.{name}: file {path!r} not found"
            )


_check_gsea_collections()


def _check_highlight_gene_sets():
    """Every gene set named in plots.highlight_gene_sets exists in a GSEA collection."""
    from redoxseq.enrichment.genesets import read_gmt

    wanted = config["plots"]["highlight_gene_sets"]
    if not wanted:
        return
    known = set()
    for collection in get_gsea_collections():
        known.update(read_gmt(get_gmt_path(collection)))
    missing = [name for name in wanted if name not in known]
    if missing:
        raise WorkflowError(
            f"config plots.highlight_gene_sets: {missing} not found in the collections "
            f"{get_gsea_collections()}; e.g. {sorted(known)[:5]}"
        )


def get_gmt_path(collection):
    """GMT file of a collection: a user file from config or the bundled one for the species."""
    user = config["gsea"]["user_gene_sets"]
    if collection in user:
        return user[collection]
    return str(GENESET_LIBRARY / config["species"] / f"{collection}.gmt")


def get_gmt(wildcards):
    """GMT file of the collection wildcard."""
    return get_gmt_path(wildcards.collection)


def get_ssgsea_gmts(wildcards):
    """GMT files of the collections scored per sample, keyed by collection."""
    return {c: get_gmt_path(c) for c in config["gsea"]["ssgsea"]["collections"]}


def get_gene_annotation(wildcards):
    """Gene ID -> symbol table: gsea.annotation if set, else the counting stage's table."""
    return config["gsea"]["annotation"] or "results/counts/genes.annotation.tsv"


def get_ssgsea_expression(wildcards):
    """Expression matrix scored by ssGSEA (gsea.ssgsea.expression)."""
    return {
        "vst": "results/deseq2/vst.tsv",
        "normalized_counts": "results/deseq2/normalized_counts.tsv",
    }[config["gsea"]["ssgsea"]["expression"]]


def get_ssgsea_groups():
    """sample -> group label from gsea.ssgsea.group_by columns (default: design factors)."""
    columns = list(config["gsea"]["ssgsea"]["group_by"]) or _design_factors()
    if not columns:
        return {sample: sample for sample in SAMPLES}
    return {
        sample: "_".join(str(samples.loc[sample, column]) for column in columns)
        for sample in SAMPLES
    }


def get_gsea_tables(wildcards):
    """Every per-contrast x collection prerank table, in contrast then collection order."""
    return [
        f"results/gsea/{contrast}.{collection}.gsea.tsv"
        for contrast in CONTRASTS
        for collection in get_gsea_collections()
    ]


def get_gsea_skipped_tables(wildcards):
    """Skipped-set table of each table of get_gsea_tables, same order."""
    return [
        path.replace(".gsea.tsv", ".gsea.skipped.tsv")
        for path in get_gsea_tables(wildcards)
    ]


def get_gsea_keys():
    """(contrast, collection) of each table of get_gsea_tables, same order."""
    return [
        [contrast, collection]
        for contrast in CONTRASTS
        for collection in get_gsea_collections()
    ]


def get_gsea_outputs():
    """Enrichment files the default target builds."""
    outputs = ["results/gsea/summary.tsv", "results/gsea/skipped.tsv"]
    if config["gsea"]["ssgsea"]["collections"]:
        outputs += [
            "results/gsea/ssgsea.scores.tsv",
            "results/gsea/ssgsea.group_comparison.tsv",
        ]
    if config["gsea"]["ora"]["enabled"]:
        outputs += expand(
            "results/gsea/{contrast}.{collection}.ora.tsv",
            contrast=CONTRASTS,
            collection=get_gsea_collections(),
        )
    return outputs


# --- end gsea ---------------------------------------------------------------------------


_check_highlight_gene_sets()


# ----------------------------------------------------------------------------------------
# cohort: input functions and parse-time checks of the cohort stage (workflow/rules/
# cohort.smk, included only when the config has a `cohort:` section)
# ----------------------------------------------------------------------------------------

COHORT = config.get("cohort")
# A cohort without contrasts: only counting (or the matrix import) and the cohort stage run.
COHORT_ONLY = COHORT is not None and not CONTRASTS


def _check_cohort():
    """Collections, score names, pairs and the strata column exist, before any job runs."""
    from redoxseq.enrichment.genesets import read_gmt

    if COHORT is None:
        return
    species_dir = GENESET_LIBRARY / config["species"]
    bundled = sorted(p.stem for p in species_dir.glob("*.gmt"))
    known_sets = []
    for name in COHORT["collections"]:
        if name not in bundled and name not in config["gsea"]["user_gene_sets"]:
            raise WorkflowError(
                f"config cohort.collections: {name!r} is neither bundled for species "
                f"{config['species']!r} ({', '.join(bundled)}) nor a key of gsea.user_gene_sets"
            )
        known_sets += list(read_gmt(get_gmt_path(name)))
    wanted = [s for s in COHORT["scores"] if s != "all"]
    missing = [s for s in wanted if s not in known_sets]
    if missing:
        raise WorkflowError(
            f"config cohort.scores: {missing} not in the collections {COHORT['collections']}; "
            f"e.g. {known_sets[:5]} (or [all] for every scored set)"
        )
    if COHORT["pairs"]:
        features = set(COHORT["genes"]) | set(
            known_sets if "all" in COHORT["scores"] else wanted
        )
        for pair in COHORT["pairs"]:
            for name in pair:
                if name not in features:
                    raise WorkflowError(
                        f"config cohort.pairs: {name!r} (in {pair}) is not one of cohort.genes "
                        "or cohort.scores; list it there first"
                    )
    column = COHORT["stratify_by"]
    if column and column not in samples.columns:
        raise WorkflowError(
            f"config cohort.stratify_by: {column!r} is not a column of the sample sheet "
            f"{config['samples']}; columns: {', '.join(map(str, samples.columns))}"
        )
    if COHORT["min_size"] > COHORT["max_size"]:
        raise WorkflowError(
            f"config cohort: min_size {COHORT['min_size']} > max_size {COHORT['max_size']}"
        )


_check_cohort()


def get_cohort_gmts(wildcards):
    """GMT files of the collections scored per sample by the cohort stage, by collection."""
    return {name: get_gmt_path(name) for name in COHORT["collections"]}


def get_counting_outputs():
    """Count tables the default target builds when counting reads (none from a matrix)."""
    if config["counting"]["count_matrix"]:
        return []
    return [
        "results/counts/all.counts.tsv",
        "results/counts/all.summary.tsv",
        "results/counts/all.strandedness.tsv",
        f"results/figures/read_assignment.{config['plots']['format']}",
    ]


def get_cohort_outputs():
    """Tables and figures of the cohort stage ([] without a `cohort:` section)."""
    if COHORT is None:
        return []
    tables = [
        "vst",
        "scores",
        "scores.skipped",
        "features",
        "correlations",
        "distributions",
    ]
    tables += ["strata_tests"] if COHORT["stratify_by"] else []
    figures = [
        "scatter",
        "correlation_heatmap",
        "scores_heatmap",
        "score_distributions",
    ]
    return expand("results/cohort/{table}.tsv", table=tables) + expand(
        "results/figures/cohort_{figure}.{ext}",
        figure=figures,
        ext=config["plots"]["format"],
    )


# --- end cohort -------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------
# code provenance: the library files each job runs, declared as its inputs
# ----------------------------------------------------------------------------------------
from redoxseq.sources import library_sources as _library_sources


def get_library_sources(script):
    """Library modules (and compiled kernels' .pyx sources) that an adapter imports.

    Declared as the job's ``lib`` input so that editing the science reruns exactly the jobs
    that run it. Paths are relative to the project folder, so moving the project reruns
    nothing.
    """
    return _library_sources(script, workflow.basedir)
