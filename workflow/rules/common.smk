# Shared set-up: configuration and sample-sheet validation (before any job runs), the sample
# and unit tables, and the input functions the rules use.
import logging

from redoxseq.config import load_samples, load_schema, load_units, validate_config
from redoxseq.errors import RedoxseqError

SCHEMAS = Path(workflow.source_path("../schemas/config.schema.yaml")).parent


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


def get_final_outputs():
    """Every file the default target builds."""
    outputs = [
        "results/counts/all.counts.tsv",
        "results/counts/all.summary.tsv",
        "results/deseq2/size_factors.tsv",
        "results/figures/pca.svg",
        "results/gsea/summary.tsv",
    ]
    outputs += expand("results/deseq2/{contrast}.results.tsv", contrast=CONTRASTS)
    outputs += expand(
        "results/figures/{contrast}.{plot}.{ext}",
        contrast=CONTRASTS,
        plot=["volcano", "ma"],
        ext=config["plots"]["format"],
    )
    return outputs


# ----------------------------------------------------------------------------------------
# counting: input functions of the read-quantification stage
# ----------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------
# deseq2: input functions of the differential-expression stage
# ----------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------
# gsea: input functions of the enrichment stage
# ----------------------------------------------------------------------------------------
