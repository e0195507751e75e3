# Shared set-up: configuration and sample-sheet validation (before any job runs), the sample
# and unit tables, and the input functions the rules use.
from snakemake.logging import logger as snakemake_logger

from redoxseq.config import (
    check_cram_reference,
    load_samples,
    load_schema,
    load_units,
    validate_config,
)
from redoxseq.counting.countmatrix import check_matrix_samples
from redoxseq.errors import ConfigError, RedoxseqError

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"


def stop(message):
    """End the workflow before any job runs with one clear message (no Python traceback)."""
    snakemake_logger.error(f"Error: {message}")
    raise SystemExit(1)


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
            # Starting from a count matrix: no reads, so no units sheet is needed; its
            # header must name every sample (checked now, not after the DAG has started).
            check_matrix_samples(
                checked["counting"]["count_matrix"], list(sample_table.index)
            )
            return checked, sample_table, None
        if not checked["annotation"]["gtf"]:
            raise ConfigError(
                "config: annotation.gtf is empty; set it to the GTF the reads were aligned "
                "against (or set counting.count_matrix to start from a count matrix)"
            )
        unit_table = load_units(
            checked["units"], load_schema(SCHEMAS / "units.schema.yaml"), sample_table
        )
        check_cram_reference(
            unit_table, checked["annotation"]["genome_fasta"], checked["units"]
        )
    except RedoxseqError as error:
        stop(str(error))
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
    """All BAM/SAM/CRAM files (units) of one sample, in unit order (FASTQ units: aligned)."""
    return [get_unit_bam(wildcards.sample, unit) for unit in get_unit_names(wildcards)]


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


def get_final_outputs():
    """Every file the default target builds."""
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
        ]
        outputs += get_qc_outputs()
    outputs += get_deseq2_outputs()
    outputs += get_gsea_outputs()
    # --- figures (plots section below) ---
    outputs += get_figure_outputs()
    # --- end figures ---
    outputs += get_cohort_outputs()  # cohort section ([] without a `cohort:` section)
    return outputs


# ----------------------------------------------------------------------------------------
# counting: input functions of the read-quantification stage
# ----------------------------------------------------------------------------------------


def get_unit_names(wildcards):
    """Unit names of one sample, in the order of get_unit_bams."""
    return [str(unit) for unit in units.loc[wildcards.sample].index]


# ----------------------------------------------------------------------------------------
# alignment: FASTQ units (fastp -> HISAT2 -> samtools), index, MultiQC
# ----------------------------------------------------------------------------------------
from redoxseq.align import commands as _align_commands

HISAT2_BUILT_PREFIX = "results/align/index/genome"


def _fastq_units():
    """(sample, unit) of every unit given as FASTQ, in sheet order."""
    if units is None:
        return []
    rows = units[(units["bam"] == "") & (units["fq1"] != "")]
    return [(str(sample), str(unit)) for sample, unit in rows.index]


FASTQ_UNITS = _fastq_units()


wildcard_constraints:
    unit="[A-Za-z0-9][A-Za-z0-9_.-]*",


def _unit(sample, unit):
    return units.loc[(sample, unit)]


def is_paired_unit(sample, unit):
    """True when a FASTQ unit has fq2."""
    return bool(_unit(sample, unit)["fq2"])


def get_unit_bam(sample, unit):
    """BAM counted for one unit: its sheet BAM, or the HISAT2 alignment of its FASTQ."""
    row = _unit(sample, unit)
    if row["bam"]:
        return row["bam"]
    return f"results/align/bams/{sample}/{unit}.bam"


def get_hisat2_index_prefix():
    """HISAT2 index prefix: alignment.hisat2_index, else the index the workflow builds."""
    return config["alignment"]["hisat2_index"] or HISAT2_BUILT_PREFIX


def get_hisat2_index_files(wildcards):
    """Files of the HISAT2 index (built: the 8 .ht2 files; given: those found on disk)."""
    prefix = config["alignment"]["hisat2_index"]
    if not prefix:
        return expand(f"{HISAT2_BUILT_PREFIX}.{{n}}.ht2", n=range(1, 9))
    return sorted(
        str(p) for p in Path(prefix).parent.glob(f"{Path(prefix).name}.*.ht2*")
    )


def _check_alignment_config():
    """At parse time: a given index prefix exists; an index to build has its inputs."""
    if not FASTQ_UNITS:
        return
    prefix = config["alignment"]["hisat2_index"]
    if prefix:
        if not get_hisat2_index_files(None):
            stop(
                f"config alignment.hisat2_index: no HISAT2 index at prefix {prefix!r} (no "
                f"{prefix}.1.ht2 or {prefix}.1.ht2l); give the path before '.1.ht2', or set "
                'it to "" to build the index from annotation.genome_fasta'
            )
    elif not config["annotation"]["genome_fasta"]:
        stop(
            f"the units sheet lists FASTQ units (e.g. {FASTQ_UNITS[0][0]}/{FASTQ_UNITS[0][1]}) "
            "but annotation.genome_fasta is empty: set it to build the HISAT2 index, or set "
            "alignment.hisat2_index to a prebuilt index"
        )
    elif not Path(config["annotation"]["genome_fasta"]).is_file():
        stop(
            f"config annotation.genome_fasta: {config['annotation']['genome_fasta']!r} not "
            "found (needed to build the HISAT2 index of the FASTQ units)"
        )


_check_alignment_config()


def get_fastq(wildcards):
    """Raw FASTQ of a unit: {"fq1": ...} or {"fq1": ..., "fq2": ...}."""
    row = _unit(wildcards.sample, wildcards.unit)
    return {"fq1": row["fq1"], "fq2": row["fq2"]} if row["fq2"] else {"fq1": row["fq1"]}


def _input_mb(paths):
    return sum(os.path.getsize(p) for p in paths if os.path.exists(p)) / 1e6


def get_fastp_threads(wildcards):
    """Threads of a trimming job from the size of its FASTQ (see redoxseq.align.commands)."""
    paths = list(get_fastq(wildcards).values())
    return _align_commands.align_threads(
        _input_mb(paths), config["alignment"]["max_threads"]
    )


def get_hisat2_threads(wildcards):
    """Threads of an alignment job from the size of the unit's raw FASTQ."""
    return get_fastp_threads(wildcards)


def get_align_runtime(wildcards, threads):
    """Minutes of a trimming/alignment job from the unit's gzipped FASTQ size."""
    reads = list(get_fastq(wildcards).values())
    return _align_commands.align_runtime_min(_input_mb(reads), threads=threads)


def get_hisat2_align_mem_mb(wildcards, input, threads):
    """Memory of an alignment job: index size + HISAT2 buffers + samtools sort."""
    return _align_commands.hisat2_align_mem_mb(_input_mb(input.index), threads=threads)


def _genome_bases(path):
    """Genome size in bases, estimated from the FASTA file size (gzip: x 3.3)."""
    size = os.path.getsize(path) if os.path.exists(path) else 0
    return int(size * (3.3 if str(path).endswith(".gz") else 1.0))


def get_hisat2_build_mem_mb(wildcards, input):
    """Memory of hisat2-build from the genome size (HISAT2 manual's human figures scaled)."""
    return _align_commands.hisat2_build_mem_mb(
        _genome_bases(input.fasta),
        annotated=config["alignment"]["index_with_annotation"],
    )


def get_hisat2_build_runtime(wildcards, input, threads):
    """Minutes of hisat2-build from the genome size."""
    return _align_commands.hisat2_build_runtime_min(
        _genome_bases(input.fasta),
        annotated=config["alignment"]["index_with_annotation"],
        threads=threads,
    )


def get_hisat2_build_inputs(wildcards):
    """Genome FASTA and, with alignment.index_with_annotation, splice sites and exons."""
    inputs = {"fasta": config["annotation"]["genome_fasta"]}
    if config["alignment"]["index_with_annotation"]:
        inputs["splice_sites"] = "results/align/index/splice_sites.tsv"
        inputs["exons"] = "results/align/index/exons.tsv"
    return inputs


def get_hisat2_strandedness(wildcards):
    """Strandedness hint for HISAT2: the sample's known strandedness ('auto': no hint)."""
    return get_strandedness(wildcards)


def get_multiqc_inputs(wildcards):
    """Every QC file MultiQC summarises: fastp JSON, HISAT2 summaries, counting summaries."""
    inputs = {
        "fastp": [f"results/qc/fastp/{s}.{u}.fastp.json" for s, u in FASTQ_UNITS],
        "hisat2": [f"results/qc/hisat2/{s}.{u}.hisat2.txt" for s, u in FASTQ_UNITS],
        "counts": expand("results/counts/{sample}.counts.tsv.summary", sample=SAMPLES),
    }
    return inputs


def get_qc_outputs():
    """QC files the default target builds (when reads are counted)."""
    if config["counting"]["count_matrix"]:
        return []
    return ["results/qc/multiqc_report.html"]


# --- end alignment ----------------------------------------------------------------------


# ----------------------------------------------------------------------------------------
# deseq2: input functions of the differential-expression stage
# ----------------------------------------------------------------------------------------
from redoxseq.de.design import contrast_job_settings, fit_settings
from redoxseq.de.design import preflight as _deseq2_preflight


def _deseq2_report():
    """Design pre-flight at parse time: levels, rank, replicates, contrasts in plain words."""
    try:
        return _deseq2_preflight(samples, config["deseq2"], config["contrasts"])
    except RedoxseqError as error:
        stop(str(error))


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
    """The user count matrix, the sample sheet and GTF / annotation table / bundled ID table."""
    inputs = {"matrix": DESEQ2_COUNT_MATRIX, "samples": config["samples"]}
    table = config["counting"].get("count_matrix_annotation") or ""
    if table:
        inputs["annotation_table"] = table
    elif config["annotation"].get("gtf"):
        inputs["gtf"] = config["annotation"]["gtf"]
    else:
        inputs["id_table"] = get_id_table()
    return inputs


def get_fit_settings():
    """The deseq2 settings the model fit uses (not the per-contrast cutoffs)."""
    return fit_settings(config["deseq2"])


def get_contrast(wildcards):
    """The contrast job's own settings: its entry, those it refers to, the deseq2 section."""
    return contrast_job_settings(
        wildcards.contrast, config["deseq2"], config["contrasts"]
    )


# --- gene identifiers: bundled ID tables map a count matrix's IDs to symbols -------------
IDMAP_LIBRARY = Path(os.path.relpath(Path(workflow.basedir) / "resources" / "idmaps"))


def get_id_table():
    """Bundled gene ID table (Ensembl, Entrez, symbol) of the configured species."""
    return str(IDMAP_LIBRARY / config["species"] / "gene_ids.tsv.gz")


def _check_id_mapping():
    """Parse time: enough of the count matrix's IDs map to symbols of the species."""
    counting = config["counting"]
    if not DESEQ2_COUNT_MATRIX or counting["count_matrix_annotation"]:
        return
    if config["annotation"]["gtf"]:
        return
    from redoxseq.counting.countmatrix import read_user_matrix
    from redoxseq.idmap import check_mapping, map_to_symbols, read_id_table

    try:
        counts, _ = read_user_matrix(DESEQ2_COUNT_MATRIX, SAMPLES)
        ids = [str(i) for i in counts.index]
        _, mapping = map_to_symbols(
            ids, read_id_table(get_id_table()), config["species"]
        )
        check_mapping(
            mapping,
            ids,
            counting["min_id_mapping"],
            f"counting.count_matrix {DESEQ2_COUNT_MATRIX}",
        )
    except RedoxseqError as error:
        stop(str(error))
    snakemake_logger.info(f"gene identifiers: {mapping.describe()}")


_check_id_mapping()
# --- end gene identifiers -----------------------------------------------------------------


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
            stop(
                f"config gsea: collection {name!r} is neither bundled for species "
                f"{config['species']!r} ({', '.join(bundled)}) nor a key of gsea.user_gene_sets"
            )
    for name, path in config["gsea"]["user_gene_sets"].items():
        if name in bundled:
            stop(
                f"config gsea.user_gene_sets: name {name!r} is a bundled collection; "
                "choose another name"
            )
        if not Path(path).is_file():
            stop(f"config gsea.user_gene_sets.{name}: file {path!r} not found")


_check_gsea_collections()


def get_gmt_path(collection):
    """GMT file of a collection: a user file from config or the bundled one for the species."""
    user = config["gsea"]["user_gene_sets"]
    if collection in user:
        return user[collection]
    return str(GENESET_LIBRARY / config["species"] / f"{collection}.gmt")


def get_all_collections():
    """Every collection the run uses (GSEA/ORA and ssGSEA), each once, in config order."""
    return list(
        dict.fromkeys(get_gsea_collections() + config["gsea"]["ssgsea"]["collections"])
    )


def get_all_gmts(wildcards):
    """GMT files of get_all_collections, same order."""
    return [get_gmt_path(collection) for collection in get_all_collections()]


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


def get_ssgsea_expression_filter():
    """gsea.ssgsea.min_count / min_samples, with min_samples "smallest_group" resolved to
    the smallest group of samples sharing all levels of the design's factors (as the
    DESeq2 vignette's prefilter; 1 when the design has no factor).
    """
    settings = config["gsea"]["ssgsea"]
    min_samples = settings["min_samples"]
    if min_samples == "smallest_group":
        fitted = samples.loc[list(DESEQ2_PREFLIGHT.samples)]
        factors = list(DESEQ2_PREFLIGHT.design.factors)
        min_samples = (
            int(fitted.groupby([fitted[f].astype(str) for f in factors]).size().min())
            if factors
            else 1
        )
    return {"min_count": int(settings["min_count"]), "min_samples": int(min_samples)}


# --- issue 13: ssGSEA comparisons follow the contrasts ------------------------------------
def get_ssgsea_comparisons():
    """contrast -> its two sample groups (numerator, denominator, within its at levels), or
    {"skip": reason} for a contrast that is not a two-group comparison (Contrast.two_groups).
    """
    return {
        name: DESEQ2_PREFLIGHT.contrasts[name].two_groups(samples) for name in CONTRASTS
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
        "results/figures/cohort/{figure}.{ext}", figure=figures, ext=FIGURE_FORMATS
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


# ----------------------------------------------------------------------------------------
# run record: the inputs hashed into results/run_record.json
# ----------------------------------------------------------------------------------------
import shlex
from datetime import datetime, timezone

# Inherited by every job (and by SLURM jobs' own Snakemake), read by scripts/run_record.py;
# kept out of params so that starting Snakemake again does not rerun the record by itself.
os.environ.setdefault(
    "REDOXSEQ_RUN_STARTED", datetime.now(timezone.utc).isoformat(timespec="seconds")
)
os.environ.setdefault("REDOXSEQ_COMMAND_LINE", shlex.join(["snakemake", *sys.argv[1:]]))


def get_run_record_inputs(wildcards):
    """Every input file of the run, by kind (paths as the config gives them)."""
    inputs = {"sheets": [config["samples"]]}
    if units is not None:
        inputs["sheets"].append(config["units"])
        inputs["reads"] = [
            str(path)
            for column in ("bam", "fq1", "fq2")
            if column in units.columns
            for path in units[column]
            if isinstance(path, str) and path
        ]
    annotation = [
        path
        for path in (
            config["annotation"]["gtf"],
            config["annotation"]["genome_fasta"],
            config["counting"]["count_matrix_annotation"],
            config["gsea"]["annotation"],
        )
        if path
    ]
    if annotation:
        inputs["annotation"] = annotation
    if config["counting"]["count_matrix"]:
        inputs["count_matrix"] = [config["counting"]["count_matrix"]]
    collections = get_gsea_collections() + [
        c
        for c in config["gsea"]["ssgsea"]["collections"]
        if c not in get_gsea_collections()
    ]
    inputs["gene_sets"] = [get_gmt_path(collection) for collection in collections]
    return inputs


def get_run_record_input_kinds():
    """The kinds of get_run_record_inputs, in order."""
    return list(get_run_record_inputs(None))


def get_external_tools():
    """Command-line tools (besides Python packages) the configured run calls."""
    if not (units is not None and FASTQ_UNITS):
        return []
    tools = ["fastp", "hisat2", "samtools", "multiqc"]
    if not config["alignment"]["hisat2_index"]:
        tools.append("hisat2-build")
    return tools


# plots: figures and report tables (redoxseq.plots); the figure layout is an interface:
# results/figures/{qc,contrasts/<contrast>,summary}/<stem>.{svg,pdf,png}
# ----------------------------------------------------------------------------------------
from redoxseq.plots.choices import resolve_plot_choices as _resolve_plot_choices

FIGURE_FORMATS = ["svg", "pdf", "png"]


def get_sample_groups():
    """sample -> group label for figures: its values of the design factors, joined by '_'."""
    columns = _design_factors()
    if not columns:
        return {sample: sample for sample in SAMPLES}
    return {
        sample: "_".join(str(samples.loc[sample, column]) for column in columns)
        for sample in SAMPLES
    }


def _plot_choices():
    """Genes and gene sets of interest resolved at parse time (errors name the config key)."""
    gmts = {c: get_gmt_path(c) for c in get_gsea_collections()}
    try:
        return _resolve_plot_choices(config["plots"], config["species"], gmts)
    except RedoxseqError as error:
        stop(str(error))


PLOT_CHOICES = _plot_choices()
for _line in PLOT_CHOICES.notes:
    snakemake_logger.info(f"plots: {_line}")


def get_plot_group_by():
    """Sample-sheet columns drawn as group bars and colours: the design factors."""
    return _design_factors()


def get_pca_color_by():
    """Sample-sheet column colouring the PCA: plots.pca_color_by or the first design factor."""
    factors = _design_factors() or ["sample"]
    return config["plots"]["pca_color_by"] or factors[0]


def get_pca_shape_by():
    """Sample-sheet column shaping PCA markers: plots.pca_shape_by or the second design factor."""
    factors = _design_factors()
    return config["plots"]["pca_shape_by"] or (factors[1] if len(factors) > 1 else "")


def get_running_sum_gmt(wildcards):
    """GMT file of the collection holding the gene_set wildcard (a gene set of interest)."""
    return get_gmt_path(PLOT_CHOICES.gene_set_collections[wildcards.gene_set])


def get_running_sum_gsea(wildcards):
    """GSEA prerank table of the contrast for the collection holding the gene set."""
    collection = PLOT_CHOICES.gene_set_collections[wildcards.gene_set]
    return f"results/gsea/{wildcards.contrast}.{collection}.gsea.tsv"


def get_running_sum_skipped(wildcards):
    """Sets GSEA prerank did not test (with the reason) in that contrast and collection."""
    collection = PLOT_CHOICES.gene_set_collections[wildcards.gene_set]
    return f"results/gsea/{wildcards.contrast}.{collection}.gsea.skipped.tsv"


def get_contrast_ora_tables(wildcards):
    """ORA tables of one contrast, one per collection (get_gsea_collections order)."""
    return [
        f"results/gsea/{wildcards.contrast}.{collection}.ora.tsv"
        for collection in get_gsea_collections()
    ]


def _figures(folder, stems):
    return expand(f"{folder}/{{stem}}.{{ext}}", stem=stems, ext=FIGURE_FORMATS)


def get_figure_outputs():
    """Every figure file of the default target (the layout of config/README.md)."""
    qc = ["library_sizes", "sample_distances", "pca", "pca_scree", "dispersion"]
    if not config["counting"]["count_matrix"]:
        qc += ["read_assignment", "strandedness"]
    outputs = _figures("results/figures/qc", qc)
    per_contrast = ["volcano", "ma", "pvalue_histogram", "top_genes_heatmap"]
    per_contrast += [f"gsea_running_sum.{name}" for name in PLOT_CHOICES.gene_sets]
    if config["gsea"]["ora"]["enabled"]:
        per_contrast.append("ora")
    for contrast in CONTRASTS:
        outputs += _figures(f"results/figures/contrasts/{contrast}", per_contrast)
    summary = [
        "de_gene_counts",
        "de_genes_upset",
        "gsea_nes",
        "genes_of_interest",
        "overview",
    ]
    if config["gsea"]["ssgsea"]["collections"]:
        summary += ["ssgsea_heatmap", "ssgsea_groups"]
    outputs += _figures("results/figures/summary", summary)
    outputs += expand(
        "results/report/{contrast}.{table}.html",
        contrast=CONTRASTS,
        table=["results", "ora"],
    )
    outputs += expand(
        "results/report/{table}.html",
        table=[
            "contrasts",
            "design",
            "config",
            "versions",
            "gsea_summary",
            "ssgsea_comparison",
        ],
    )
    return outputs


def get_report_ora_collections():
    """Collections whose ORA tables the contrast's table page shows ([] when ORA is off)."""
    return get_gsea_collections() if config["gsea"]["ora"]["enabled"] else []


def get_report_ora_tables(wildcards):
    """ORA tables of one contrast, or none when ORA is off."""
    return (
        get_contrast_ora_tables(wildcards) if config["gsea"]["ora"]["enabled"] else []
    )


def get_report_table_inputs(wildcards):
    """Tables the run-wide report pages show (ssGSEA only when it runs)."""
    inputs = {
        "contrasts": "results/deseq2/contrasts.tsv",
        "gsea": "results/gsea/summary.tsv",
        "gsea_skipped": "results/gsea/skipped.tsv",
    }
    if config["gsea"]["ssgsea"]["collections"]:
        inputs["ssgsea"] = "results/gsea/ssgsea.group_comparison.tsv"
    return inputs

# --- end plots --------------------------------------------------------------------------
