"""redoxseq at its default DE settings against R's default ``DESeq()`` (Wald and LRT).

References: ``defaults/make_default_references.R`` (DESeq2 1.38.3, no prefilter, DESeq()
defaults, ``results(alpha = 0.1)``). redoxseq runs with the defaults of
``redoxseq.de.design.DEFAULT_DESEQ2`` (no prefilter, parametric trend with R's fallback to
local, batched engine) and only the design and reference levels set. Called = padj < 0.1.
Targets (issue 13): Jaccard of called genes >= 0.98 for every Wald contrast, including
``marioni2008_tissue`` where R's parametric trend fails; LRT padj Spearman >= 0.99 and
Jaccard >= 0.98.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr, spearmanr

from redoxseq.de.design import DEFAULT_DESEQ2
from redoxseq.de.fit import FittedModel, contrast_results, get_engine
from tests.conftest import REPO
from tests.golden.deseq2.pipeline_fit import fit_fixture

GOLDEN = REPO / "tests" / "golden" / "deseq2" / "defaults"
DATA = REPO / "tests" / "data" / "counts"
ALPHA = 0.1

_INTERACTION = {
    "resistant_vs_sensitive": {
        "factor": "cell_line", "numerator": "resistant", "denominator": "sensitive",
        "at": {"treatment": "vehicle"},
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
        "difference": ["sorafenib_vs_vehicle_in_resistant", "sorafenib_vs_vehicle_in_sensitive"]
    },
}  # fmt: skip
_LIVER = {"liver_vs_kidney": {"factor": "tissue", "numerator": "Liver", "denominator": "Kidney"}}
#: case: (fixture folder, design, reference levels, Wald contrasts, LRT reduced formulas)
CASES: dict[str, tuple[str, str, dict[str, str], dict[str, Any], dict[str, str]]] = {
    "sample_experiment": (
        "sample_experiment", "~ cell_line + treatment + cell_line:treatment",
        {"cell_line": "sensitive", "treatment": "vehicle"}, _INTERACTION,
        {"lrt_interaction": "~ cell_line + treatment"},
    ),
    "interaction_sim": (
        "interaction_sim", "~ cell_line + treatment + cell_line:treatment",
        {"cell_line": "sensitive", "treatment": "vehicle"}, _INTERACTION,
        {"lrt_interaction": "~ cell_line + treatment"},
    ),
    "marioni2008_tissue": ("marioni2008", "~ tissue", {"tissue": "Kidney"}, _LIVER, {}),
    "marioni2008": (
        "marioni2008", "~ run + tissue", {"run": "R1", "tissue": "Kidney"}, _LIVER,
        {"lrt_tissue": "~ run"},
    ),
    "four_group": (
        "four_group", "~ group", {"group": "control"},
        {
            "drugA_vs_control": {"factor": "group", "numerator": "drugA", "denominator": "control"},
            "combination_vs_control": {
                "factor": "group", "numerator": "combination", "denominator": "control",
            },
        },
        {"lrt_any_group": "~ 1"},
    ),
}  # fmt: skip
#: known misses of the Jaccard target, with their cause (strict xfails); none since the
#: batched engine estimates gene-wise dispersions by R's line search (``genewise="r"``)
KNOWN: dict[tuple[str, str], str] = {}
#: genes on the other side of R's ``100 * minDisp`` trend-fit cut, and why
GENEWISE_EXPLAINED = {
    "marioni2008_tissue": {
        # R 3.6e-5 (2 iterations), redoxseq 1e-8: a near-Poisson gene whose first proposal
        # raises the log posterior by 4e-10, within the rounding of its terms (r = 1 / alpha
        # = 27,700): R's arithmetic sees a fall there and halves the step, redoxseq's a rise
        # and stops after one iteration, which sends it to the grid search (R: "not
        # converged"), whose best point is the lower bound.
        "ENSG00000189229",
    },
}
#: largest relative difference of gene-wise estimates above 1e-4 from R's. Designs whose
#: groups equal their coefficients have R's linear-model means, so the same line search
#: ends at the same point (observed <= 1e-7); ``~ run + tissue`` fits the means by
#: pyDESeq2's IRLS, which stops at a slightly different point from R's (observed 8.8e-5).
GENEWISE_RTOL = {"marioni2008": 2e-4}
WALD = [
    pytest.param(case, name, marks=[pytest.mark.xfail(strict=True, reason=KNOWN[(case, name)])])
    if (case, name) in KNOWN else (case, name)
    for case, spec in CASES.items() for name in spec[3]
]  # fmt: skip
LRT = [(case, name) for case, spec in CASES.items() for name in spec[4]]


@cache
def _fit(case: str) -> tuple[Any, FittedModel]:
    folder, design, refs, wald, lrt = CASES[case]
    config = {"design": design, "reference_levels": refs}
    contrasts = {**wald, **{name: {"test": "LRT", "reduced": f} for name, f in lrt.items()}}
    report, model, _ = fit_fixture(
        DATA / folder, config, {k: {**v, "shrink": False} for k, v in contrasts.items()}
    )
    return report, model


def _r(case: str, name: str) -> pd.DataFrame:
    return pd.read_csv(
        GOLDEN / case / f"r_results.{name}.tsv.gz", sep="\t", index_col=0, na_values=["NA"]
    )


def _agreement(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict[str, float]:
    theirs = theirs.loc[ours.index]
    both = ours["padj"].notna() & theirs["padj"].notna()
    called_ours = set(ours.index[ours["padj"] < ALPHA])
    called_r = set(theirs.index[theirs["padj"] < ALPHA])
    finite = ours["log2FoldChange"].notna() & theirs["log2FoldChange"].notna()
    lfc = ours.loc[finite, "log2FoldChange"], theirs.loc[finite, "log2FoldChange"]
    return {
        "lfc_r": float(pearsonr(*lfc)[0]),
        "padj_rho": float(spearmanr(ours.loc[both, "padj"], theirs.loc[both, "padj"])[0]),
        "jaccard": len(called_ours & called_r) / max(1, len(called_ours | called_r)),
        "n_ours": len(called_ours),
        "n_r": len(called_r),
    }  # fmt: skip


def test_default_settings_are_r_defaults() -> None:
    """No prefilter, parametric trend (R's fallback), Cook's replacement at 7 replicates."""
    assert DEFAULT_DESEQ2["prefilter"]["min_count"] == 0
    assert DEFAULT_DESEQ2["fit_type"] == "parametric"
    assert DEFAULT_DESEQ2["cooks_refit"] is True
    assert DEFAULT_DESEQ2["min_replicates_for_replace"] == 7


def test_trend_is_the_one_r_used() -> None:
    for case in CASES:
        _, model = _fit(case)
        text = (GOLDEN / case / "r_versions.txt").read_text()
        assert f"requested): {model.metadata['trend']['type']}" in text, case
    assert _fit("marioni2008_tissue")[1].metadata["trend"]["type"] == "local"


@pytest.mark.parametrize("case", list(CASES))
def test_genewise_dispersions_are_rs(case: str) -> None:
    """R's gene-wise estimates (``mcols(dds)$dispGeneEst``): the same genes enter the trend
    fit, and estimates off the flat low end (> 1e-4) are R's."""
    _, model = _fit(case)
    r = pd.read_csv(GOLDEN / case / "r_dispersions.tsv.gz", sep="\t", index_col=0,
                    na_values=["NA"]).loc[model.genes]  # fmt: skip
    fitted = r["dispGeneEst"].notna().to_numpy()
    assert np.array_equal(fitted, model.non_zero)
    ours, theirs = model.genewise[fitted], r["dispGeneEst"].to_numpy()[fitted]
    other_side = set(model.genes[fitted][(ours > 1e-6) != (theirs > 1e-6)])
    assert other_side == GENEWISE_EXPLAINED.get(case, set())
    high = theirs > 1e-4
    assert high.sum() > 500
    rel = np.abs(ours[high] / theirs[high] - 1)
    assert rel.max() < GENEWISE_RTOL.get(case, 1e-6), rel.max()


#: largest relative difference of final dispersions from R's ``dispersions(dds)``: MAP by R's
#: line search from R's start (observed <= 2.3e-9 on the group designs), 2.2e-4 on
#: ``~ run + tissue`` (its means, above)
FINAL_RTOL = {"marioni2008": 5e-4}


@pytest.mark.parametrize("case", [c for c in CASES if c != "marioni2008_tissue"])
def test_final_dispersions_are_rs(case: str) -> None:
    """Final dispersions (MAP, or gene-wise for outliers) vs R's. Not on Marioni ``~ tissue``:
    its local trend is 1-9 % from R's because of one trend-fit gene (GENEWISE_EXPLAINED)."""
    _, model = _fit(case)
    r = pd.read_csv(GOLDEN / case / "r_dispersions.tsv.gz", sep="\t", index_col=0,
                    na_values=["NA"]).loc[model.genes]  # fmt: skip
    theirs = r["dispersion"].to_numpy()
    fitted = np.isfinite(theirs)
    rel = np.abs(model.dispersions[fitted] / theirs[fitted] - 1)
    assert rel.max() < FINAL_RTOL.get(case, 1e-8), rel.max()


@pytest.mark.parametrize(("case", "name"), WALD)
def test_wald_called_genes_match_r_default(case: str, name: str) -> None:
    report, model = _fit(case)
    ours = contrast_results(model, report.contrasts[name], engine=get_engine("batched", 2))[
        "results"
    ]
    stats = _agreement(ours, _r(case, name))
    assert stats["lfc_r"] >= 0.9999, stats
    assert stats["jaccard"] >= 0.98, stats


@pytest.mark.parametrize(("case", "name"), LRT)
def test_lrt_matches_r(case: str, name: str) -> None:
    """A contrast entry ``test: LRT`` with ``reduced:`` vs R's ``results(dds)`` after
    ``DESeq(dds, test = "LRT", reduced = ...)``."""
    report, model = _fit(case)
    tables = contrast_results(model, report.contrasts[name], engine=get_engine("batched", 2))
    ours = tables["results"]
    theirs = _r(case, name)
    stats = _agreement(ours, theirs)
    assert stats["padj_rho"] >= 0.99, stats
    assert stats["jaccard"] >= 0.98, stats
    # the statistic itself, where both test the gene
    both = ours["pvalue"].notna() & theirs.loc[ours.index, "pvalue"].notna()
    r = pearsonr(ours.loc[both, "stat"], theirs.loc[ours.index[both], "stat"])[0]
    assert r >= 0.999, r
    assert (ours["test"] == "LRT").all()
    assert set(ours["significant"]) <= {"changed", ""}
    assert tables["up"].empty and tables["down"].empty
    summary = tables["summary"].iloc[0]
    assert summary["test"] == "LRT" and summary["n_significant"] == (ours["padj"] < ALPHA).sum()
    # log2FoldChange: the last coefficient of the full model, as R reports it
    assert stats["lfc_r"] >= 0.9999, stats
