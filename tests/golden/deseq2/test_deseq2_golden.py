"""redoxseq's DE stage against R DESeq2 1.38.3 (fixtures and the scripts that made them are
in this folder; see tests/golden/README.md, section "Differential expression").

Targets from the issue: size factors within 1e-6 relative; over genes tested by both,
log2FC Pearson r >= 0.999 and padj Spearman rho >= 0.99; significant sets at padj < 0.05
(alpha 0.05, independent filtering on) Jaccard >= 0.98; every gene called by only one side is
explained (borderline padj, or listed in EXPLAINED with the reason).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, spearmanr

from redoxseq.de.design import PreflightReport, preflight
from redoxseq.de.fit import FittedModel, contrast_results, fit_model, get_engine
from tests.conftest import REPO
from tests.golden.deseq2.pipeline_fit import fit_fixture

GOLDEN = REPO / "tests" / "golden" / "deseq2"
DATA = REPO / "tests" / "data" / "counts"
ENGINE = "batched"  # the pipeline default (deseq2.inference)
BORDERLINE = (0.04, 0.0625)  # both padj within this band of the 0.05 cutoff
#: genes one side calls and the other does not, beyond borderline padj, with the reason
EXPLAINED: dict[tuple[str, str], str] = {
    # (interaction_sim G00976, a batched-engine MAP dispersion stuck at the gene-wise value, was
    # listed here until redoxseq/de/inference.py kept the prior in its fallback; README.)
}

FIXTURES: dict[str, dict[str, Any]] = {
    "interaction_sim": {
        "deseq2": {"thresholds": {"alpha": 0.05}},
        "contrasts": {
            "resistant_vs_sensitive": {
                "factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
            },
            "sorafenib_vs_vehicle_in_sensitive": {
                "factor": "treatment", "numerator": "sorafenib", "denominator": "vehicle",
                "at": {"cell_line": "sensitive"},
            },
            "sorafenib_vs_vehicle_in_resistant": {
                "factor": "treatment", "numerator": "sorafenib", "denominator": "vehicle",
                "at": {"cell_line": "resistant"},
            },
            "sorafenib_response_resistant_vs_sensitive": {
                "difference": [
                    "sorafenib_vs_vehicle_in_resistant", "sorafenib_vs_vehicle_in_sensitive",
                ],
            },
            "resistant_vs_sensitive_greaterAbs1": {
                "factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
                "lfc_null": 1, "alt_hypothesis": "greaterAbs",
            },
        },
    },
    "marioni2008": {
        "deseq2": {
            "design": "~ run + tissue",
            "reference_levels": {"run": "R1", "tissue": "Kidney"},
            "thresholds": {"alpha": 0.05},
        },
        "contrasts": {
            "liver_vs_kidney": {"factor": "tissue", "numerator": "Liver", "denominator": "Kidney"},
        },
    },
}  # fmt: skip


VIGNETTE_PREFILTER = {"min_count": 10, "min_samples": "smallest_group"}


@cache
def _fit(fixture: str) -> tuple[PreflightReport, FittedModel, dict[str, pd.DataFrame]]:
    spec = FIXTURES[fixture]
    # make_references.R applies the DESeq2 vignette prefilter (the pipeline's default is R's:
    # none, tested in test_defaults_golden.py); these fixtures test the optional prefilter
    config = {**spec["deseq2"], "inference": ENGINE, "prefilter": VIGNETTE_PREFILTER}
    return fit_fixture(DATA / fixture, config, spec["contrasts"])


@cache
def _results(fixture: str, contrast: str) -> pd.DataFrame:
    report, model, _ = _fit(fixture)
    return contrast_results(model, report.contrasts[contrast], engine=get_engine(ENGINE, 2))[
        "results"
    ]


def _r(fixture: str, name: str) -> pd.DataFrame:
    return pd.read_csv(GOLDEN / fixture / name, sep="\t", index_col=0)


CASES = [(f, c) for f, spec in FIXTURES.items() for c in spec["contrasts"]]


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_size_factors_match_r(fixture: str) -> None:
    _, _, tables = _fit(fixture)
    ours = tables["size_factors"]["size_factor"]
    theirs = _r(fixture, "r_size_factors.tsv")["size_factor"].loc[ours.index]
    assert np.max(np.abs(ours / theirs - 1)) < 1e-6


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_prefilter_keeps_the_same_genes_as_the_r_script(fixture: str) -> None:
    _, model, _ = _fit(fixture)
    assert set(model.genes) == set(_r(fixture, "r_dispersions.tsv.gz").index)


@pytest.mark.parametrize(("fixture", "contrast"), CASES)
def test_results_match_r(fixture: str, contrast: str) -> None:
    ours = _results(fixture, contrast)
    theirs = _r(fixture, f"r_results.{contrast}.tsv.gz").reindex(ours.index)
    tested = ours["pvalue"].notna() & theirs["pvalue"].notna()
    assert tested.sum() >= 0.95 * len(ours)
    r = pearsonr(ours.loc[tested, "log2FoldChange"], theirs.loc[tested, "log2FoldChange"])[0]
    assert r >= 0.999
    both = ours["padj"].notna() & theirs["padj"].notna()
    assert (ours["padj"].isna() == theirs["padj"].isna()).mean() >= 0.99
    rho = spearmanr(ours.loc[both, "padj"], theirs.loc[both, "padj"])[0]
    assert rho >= 0.99
    ours_sig = set(ours.index[ours["padj"] < 0.05])
    theirs_sig = set(theirs.index[theirs["padj"] < 0.05])
    jaccard = len(ours_sig & theirs_sig) / len(ours_sig | theirs_sig)
    assert jaccard >= 0.98
    for gene in ours_sig ^ theirs_sig:
        pair = (ours.at[gene, "padj"], theirs.at[gene, "padj"])
        borderline = all(BORDERLINE[0] <= p <= BORDERLINE[1] for p in pair)
        assert borderline or (fixture, gene) in EXPLAINED, (gene, pair)


def test_contrast_that_is_not_a_coefficient_still_matches_r() -> None:
    """sorafenib in resistant = treatment + interaction coefficients (R: list contrast)."""
    report, _, _ = _fit("interaction_sim")
    contrast = report.contrasts["sorafenib_vs_vehicle_in_resistant"]
    assert sum(1 for w in contrast.vector if w) == 2
    ours = _results("interaction_sim", contrast.name)
    theirs = _r("interaction_sim", f"r_results.{contrast.name}.tsv.gz").loc[ours.index]
    assert pearsonr(ours["log2FoldChange"], theirs["log2FoldChange"])[0] >= 0.999
    assert contrast.shrinkage is not None and contrast.shrinkage.relevelled


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_vst_matches_r(fixture: str) -> None:
    _, _, tables = _fit(fixture)
    for ours_key, name in (("vst", "r_vst.tsv.gz"), ("vst_blind", "r_vst_blind.tsv.gz")):
        ours = tables[ours_key]
        theirs = _r(fixture, name).loc[ours.index, ours.columns]
        r = pearsonr(ours.to_numpy().ravel(), theirs.to_numpy().ravel())[0]
        assert r >= 0.9999, (ours_key, r)


# --- PyDESeq2's own R references (DESeq2 1.34, 10 genes x 100 samples) --------------------

PYDESEQ2 = DATA / "pydeseq2"


@pytest.mark.parametrize(
    ("case", "design"), [("single_factor", "~ condition"), ("multi_factor", "~ group + condition")]
)
def test_pydeseq2_references(case: str, design: str) -> None:
    counts = pd.read_csv(PYDESEQ2 / "test_counts.csv", index_col=0)
    samples = pd.read_csv(PYDESEQ2 / "test_metadata.csv", index_col=0, dtype=str)
    contrasts = {"B_vs_A": {"factor": "condition", "numerator": "B", "denominator": "A"}}
    report = preflight(
        samples,
        {"design": design, "reference_levels": {"condition": "A", "group": "X"},
         "prefilter": {"min_count": 0}, "inference": ENGINE},
        contrasts,
    )  # fmt: skip
    model, _ = fit_model(counts, samples, report.design, report.settings, threads=2)
    sf = pd.read_csv(PYDESEQ2 / case / "r_test_size_factors.csv", index_col=0)["x"]
    assert np.max(np.abs(model.size_factors / sf.to_numpy() - 1)) < 1e-6
    ours = contrast_results(model, report.contrasts["B_vs_A"], engine=get_engine(ENGINE, 2))[
        "results"
    ]
    theirs = pd.read_csv(PYDESEQ2 / case / "r_test_res.csv", index_col=0).loc[ours.index]
    assert pearsonr(ours["log2FoldChange"], theirs["log2FoldChange"])[0] >= 0.999
    assert spearmanr(ours["padj"], theirs["padj"])[0] >= 0.99
    assert set(ours.index[ours["padj"] < 0.05]) == set(theirs.index[theirs["padj"] < 0.05])
    shrunk = pd.read_csv(PYDESEQ2 / case / "r_test_lfc_shrink_res.csv", index_col=0)
    assert (
        pearsonr(ours["log2FoldChange_shrunk"], shrunk.loc[ours.index, "log2FoldChange"])[0]
        >= 0.999
    )
