"""redoxseq's DE stage on the bundled sample experiment against R DESeq2 1.38.3.

Input: ``tests/data/counts/sample_experiment/counts.tsv.gz``, featureCounts on the 12 BAMs of
``resources/sample_experiment/`` (``make_sample_experiment_counts.py``). References:
``sample_experiment/`` made by ``make_references.R`` (section 3). redoxseq runs with the
pipeline's ``deseq2:`` settings and default contrasts from ``config/config.yaml``, once with
each inference engine (``batched``, the default, and pyDESeq2's ``default``), at the default
alpha 0.1 and again at alpha 0.05 (``_alpha005`` cases). Numbers and the explanation of every
difference: tests/golden/README.md, section "Differential expression".

Targets from the issue: size factors within 1e-6 relative; over genes tested by both,
log2FC Pearson r >= 0.999 and padj Spearman rho >= 0.99; significant sets at padj < 0.05
Jaccard >= 0.98; every gene called by only one side is explained (borderline padj, or listed
in EXPLAINED with the reason).
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import pearsonr, spearmanr

from redoxseq.de.design import PreflightReport, deseq2_settings
from redoxseq.de.dispersion_trend import fit_trend, vst_values
from redoxseq.de.fit import (
    FittedModel,
    _dds_class,
    _r_lowess,
    _stats_class,
    contrast_results,
    get_engine,
)
from tests.conftest import REPO
from tests.golden.deseq2.pipeline_fit import fit_fixture

GOLDEN = REPO / "tests" / "golden" / "deseq2" / "sample_experiment"
DATA = REPO / "tests" / "data" / "counts" / "sample_experiment"
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
ENGINES = ("batched", "default")
#: the four default contrasts and the coefficient weights R was given for each
#: (Intercept, cell_line resistant, treatment sorafenib, interaction)
R_CONTRASTS = {
    "resistant_vs_sensitive": (0, 1, 0, 0),
    "sorafenib_vs_vehicle_in_sensitive": (0, 0, 1, 0),
    "sorafenib_vs_vehicle_in_resistant": (0, 0, 1, 1),
    "sorafenib_response_resistant_vs_sensitive": (0, 0, 0, 1),
}
#: make_references.R applies the DESeq2 vignette's prefilter (the pipeline's default is R's:
#: none; its references are in defaults/, test_defaults_golden.py); this fixture keeps it to
#: test the optional prefilter against R
VIGNETTE_PREFILTER = {"min_count": 10, "min_samples": "smallest_group"}
#: the deseq2 settings make_references.R reproduces (DESeq() defaults + the vignette prefilter)
R_SETTINGS = {
    "design": "~ cell_line + treatment + cell_line:treatment",
    "reference_levels": {"cell_line": "sensitive", "treatment": "vehicle"},
    "prefilter": VIGNETTE_PREFILTER,
    "size_factors": "ratio",
    "fit_type": "parametric",
    "cooks_refit": True,
    "min_replicates_for_replace": 7,
    "exclude_samples": [],
    "continuous": [],
}
R_THRESHOLDS = {"alpha": 0.1, "lfc_null": 0, "alt_hypothesis": None}
CASES = [name + suffix for suffix in ("", "_alpha005") for name in R_CONTRASTS]
#: why R and redoxseq differ on this experiment (README; test_with_r_genewise_dispersions_...)
GENEWISE = (
    "gene-wise dispersions: pyDESeq2 maximises each gene's likelihood, R's line search stops "
    "earlier (up to 9 % apart); R's trend and p-values follow"
)
#: (engine, case, gene) called significant by one side only, beyond borderline padj
EXPLAINED: dict[tuple[str, str, str], str] = {
    # unchanged gene (truth lfc 0), baseMean 7.34: R padj 0.043; redoxseq filters it because
    # its filter threshold is one theta step higher (rejection curve flat at 202-203)
    ("default", "resistant_vs_sensitive_alpha005", "ENSMUSG00000060376"): GENEWISE,
}
#: (engine, case) missing an issue target, with the numbers (batched engine: being finished)
TARGET_MISSES: dict[tuple[str, str], str] = {}
#: (engine, case): genes removed by independent filtering, redoxseq / R, where they differ
FILTER_DIFFERS: dict[tuple[str, str], tuple[int, int]] = {
    # the batched engine filtered 96 vs 108 (sorafenib_vs_vehicle_in_resistant) and 167 vs 155
    # (sorafenib_response_resistant_vs_sensitive, alpha 0.05) until it estimated gene-wise
    # dispersions by R's line search: it now filters R's genes in every case
    ("default", "sorafenib_vs_vehicle_in_resistant"): (96, 108),
    ("default", "sorafenib_response_resistant_vs_sensitive_alpha005"): (167, 155),
}
#: cases whose filter threshold sits on a knife edge: pyDESeq2's DefaultInference lands on R's
#: threshold or one theta step above it depending on the installed numeric libraries' builds
#: (R's 24 genes on 2026-12-04; 48 on a fresh install of 2026-12-05 with numpy 2.4.6, SciPy
#: 1.17.1, scikit-learn 1.9.1): either R's set, or exactly this (ours, R's) with R's set inside
FILTER_KNIFE_EDGE: dict[tuple[str, str], tuple[int, int]] = {
    ("default", "resistant_vs_sensitive_alpha005"): (48, 24),
}


def _contrasts_config() -> dict[str, Any]:
    """The default contrasts, then each again at alpha 0.05 (unshrunk: faster, same test)."""
    contrasts = dict(CONFIG["contrasts"])
    for name in R_CONTRASTS:
        contrasts[f"{name}_alpha005"] = {
            **CONFIG["contrasts"][name],
            "alpha": 0.05,
            "shrink": False,
        }
    return contrasts


@cache
def _fit(engine: str) -> tuple[PreflightReport, FittedModel, dict[str, pd.DataFrame]]:
    config = {**CONFIG["deseq2"], "inference": engine, "prefilter": VIGNETTE_PREFILTER}
    return fit_fixture(DATA, config, _contrasts_config())


@cache
def _results(engine: str, case: str) -> pd.DataFrame:
    report, model, _ = _fit(engine)
    return contrast_results(model, report.contrasts[case], engine=get_engine(engine, 2))["results"]


def _params(known: dict[tuple[str, str], str]) -> list[Any]:
    """(engine, case) parameters; the ``known`` ones are strict xfails with their reason."""
    return [
        pytest.param(
            engine, case,
            marks=[pytest.mark.xfail(strict=True, reason=known[(engine, case)])]
            if (engine, case) in known else [],
        )
        for engine in ENGINES
        for case in CASES
    ]  # fmt: skip


def _alpha(case: str) -> float:
    return 0.05 if case.endswith("_alpha005") else 0.1


def _r(name: str) -> pd.DataFrame:
    return pd.read_csv(GOLDEN / name, sep="\t", index_col=0)


def test_references_were_made_with_the_pipeline_defaults() -> None:
    """If config/config.yaml's defaults change, regenerate the references (README)."""
    settings = deseq2_settings({**CONFIG["deseq2"], "prefilter": VIGNETTE_PREFILTER})
    assert {key: settings[key] for key in R_SETTINGS} == R_SETTINGS
    assert {key: settings["thresholds"][key] for key in R_THRESHOLDS} == R_THRESHOLDS
    # the Wald contrasts; the shipped likelihood-ratio test (the interaction as a whole) has
    # its R reference among the defaults' (test_defaults_golden.py, sample_experiment)
    tests = {
        name: str(spec.get("test", "Wald")).upper() for name, spec in CONFIG["contrasts"].items()
    }
    assert [name for name, test in tests.items() if test != "LRT"] == list(R_CONTRASTS)
    lrts = [
        spec for spec in CONFIG["contrasts"].values() if str(spec.get("test", "")).upper() == "LRT"
    ]
    assert [spec["reduced"] for spec in lrts] == ["~ cell_line + treatment"]
    report, model, _ = _fit("batched")
    r_design = _r("r_design_matrix.tsv").loc[model.design.index]
    np.testing.assert_array_equal(model.design.to_numpy(), r_design.to_numpy())
    for case in CASES:
        contrast = report.contrasts[case]
        assert tuple(contrast.vector) == R_CONTRASTS[case.removesuffix("_alpha005")], case
        assert contrast.thresholds.alpha == _alpha(case)


def test_count_matrix_is_from_the_committed_bams() -> None:
    """VERSION holds the SHA-256 of the BAMs and GTF featureCounts read."""
    lines = (DATA / "VERSION").read_text().splitlines()
    assert lines[0] == "featureCounts v2.0.3"
    hashes = [line.split("\t") for line in lines[3:]]
    assert len(hashes) == 13
    for digest, path in hashes:
        assert hashlib.sha256((REPO / path).read_bytes()).hexdigest() == digest, path


def test_size_factors_match_r() -> None:
    _, _, tables = _fit("batched")
    ours = tables["size_factors"]["size_factor"]
    theirs = _r("r_size_factors.tsv")["size_factor"].loc[ours.index]
    assert np.max(np.abs(ours / theirs - 1)) < 1e-6


def test_prefilter_keeps_the_same_genes_as_the_r_script() -> None:
    _, model, _ = _fit("batched")
    assert set(model.genes) == set(_r("r_dispersions.tsv.gz").index)


@pytest.mark.parametrize(("engine", "case"), _params(TARGET_MISSES))
def test_results_match_r(engine: str, case: str) -> None:
    ours = _results(engine, case)
    theirs = _r(f"r_results.{case}.tsv.gz").reindex(ours.index)
    tested = ours["pvalue"].notna() & theirs["pvalue"].notna()
    assert tested.sum() >= 0.95 * len(ours)
    r = pearsonr(ours.loc[tested, "log2FoldChange"], theirs.loc[tested, "log2FoldChange"])[0]
    assert r >= 0.999
    both = ours["padj"].notna() & theirs["padj"].notna()
    rho = spearmanr(ours.loc[both, "padj"], theirs.loc[both, "padj"])[0]
    assert rho >= 0.99
    # the cutoff, then the pipeline's own call at this alpha (padj < alpha)
    for cutoff in sorted({0.05, _alpha(case)}):
        ours_sig = set(ours.index[ours["padj"] < cutoff])
        theirs_sig = set(theirs.index[theirs["padj"] < cutoff])
        jaccard = len(ours_sig & theirs_sig) / len(ours_sig | theirs_sig)
        assert jaccard >= 0.98, (cutoff, jaccard)
        for gene in ours_sig ^ theirs_sig:
            pair = (ours.at[gene, "padj"], theirs.at[gene, "padj"])
            borderline = all(0.8 * cutoff <= p <= 1.25 * cutoff for p in pair)
            assert borderline or (engine, case, gene) in EXPLAINED, (gene, pair)


@pytest.mark.parametrize(
    ("engine", "case"),
    _params(
        {
            key: f"filter threshold: {ours} vs R {theirs} genes filtered; {GENEWISE}; the "
            "rejection curve is flat, so one rejection more or less moves it a theta step"
            for key, (ours, theirs) in FILTER_DIFFERS.items()
        }
    ),
)
def test_independent_filtering_removes_the_same_genes_as_r(engine: str, case: str) -> None:
    ours = _results(engine, case)
    theirs = _r(f"r_results.{case}.tsv.gz").reindex(ours.index)
    filtered = ours["pvalue"].notna() & ours["padj"].isna()
    r_filtered = theirs["pvalue"].notna() & theirs["padj"].isna()
    sizes = (int(filtered.sum()), int(r_filtered.sum()))
    if (engine, case) in FILTER_KNIFE_EDGE and not filtered.equals(r_filtered):
        assert sizes == FILTER_KNIFE_EDGE[(engine, case)], sizes
        assert not (r_filtered & ~filtered).any()  # one theta step above R's: R's genes too
        return
    assert filtered.equals(r_filtered), sizes


@pytest.mark.parametrize("case", CASES)
def test_filter_threshold_from_r_rejection_curve(case: str) -> None:
    """R's lowess port and threshold rule, on R's own rejection curve, pick R's theta."""
    table = pd.read_csv(
        GOLDEN / "r_independent_filtering.tsv.gz", sep="\t", float_precision="round_trip"
    )
    curve = table.loc[table["contrast"] == case]
    theta = curve["theta"].to_numpy()
    rejections = curve["num_rej"].to_numpy(dtype=float)
    fit = _r_lowess(theta, rejections, f=1 / 5)
    np.testing.assert_allclose(fit, curve["lowess"].to_numpy(), rtol=0, atol=1e-9)
    positive = rejections > 0
    threshold = fit.max() - np.sqrt(np.mean((rejections[positive] - fit[positive]) ** 2))
    chosen = theta[np.flatnonzero(rejections > threshold)[0]]
    assert chosen == pytest.approx(curve["filter_theta"].iloc[0], abs=1e-12)


def test_lowess_port_reproduces_r() -> None:
    """_r_lowess against R's lowess on 12 random curves (ties, outliers, points closer than
    delta, spans 1/5, 1/2, 2/3; tests/golden/deseq2/lowess/, make_references.R section 4)."""
    table = pd.read_csv(
        GOLDEN.parent / "lowess" / "r_lowess.tsv.gz", sep="\t", float_precision="round_trip"
    )
    for curve, rows in table.groupby("curve"):
        fit = _r_lowess(rows["x"].to_numpy(), rows["y"].to_numpy(), f=float(rows["f"].iloc[0]))
        np.testing.assert_allclose(
            fit, rows["lowess"].to_numpy(), rtol=0, atol=1e-9, err_msg=f"curve {curve}"
        )


@pytest.mark.parametrize("engine", ENGINES)
def test_vst_matches_r(engine: str) -> None:
    """Design-aware VST vs R ``vst(blind = FALSE)``."""
    _, _, tables = _fit(engine)
    ours = tables["vst"]
    theirs = _r("r_vst.tsv.gz").loc[ours.index, ours.columns]
    assert pearsonr(ours.to_numpy().ravel(), theirs.to_numpy().ravel())[0] >= 0.9999


@pytest.mark.parametrize("engine", ENGINES)
def test_blind_vst_matches_r_default(engine: str, caplog: pytest.LogCaptureFixture) -> None:
    """Blind VST vs R's default: R's parametric trend fails on this experiment with the
    design reduced to ``~ 1`` and R substitutes its local regression fit; so does redoxseq."""
    assert (
        "trend (fitType = 'parametric' requested): local" in (GOLDEN / "r_versions.txt").read_text()
    )
    _, _, tables = _fit(engine)
    ours = tables["vst_blind"]
    theirs = _r("r_vst_blind.tsv.gz").loc[ours.index, ours.columns]
    assert pearsonr(ours.to_numpy().ravel(), theirs.to_numpy().ravel())[0] >= 0.9999


def test_blind_vst_from_r_genewise_dispersions_is_r_blind_vst() -> None:
    """The local trend and R's numerical VST integral exactly: given R's blind gene-wise
    dispersions (``trend/``), redoxseq's trend falls back as R's and its VST is R's to 1e-8
    (end to end, the gene-wise estimates differ as explained in tests/golden/README.md)."""
    genes = pd.read_csv(
        GOLDEN.parent / "trend" / "r_trend.sample_experiment_blind_prefiltered.tsv.gz",
        sep="\t", float_precision="round_trip",
    )  # fmt: skip
    trend = fit_trend(
        genes["baseMean"].to_numpy(), genes["dispersion_genewise"].to_numpy(), "parametric"
    )
    assert trend.kind == "local"
    theirs = _r("r_vst_blind.tsv.gz")
    size_factors = _r("r_size_factors.tsv")["size_factor"].loc[theirs.columns].to_numpy()
    counts = pd.read_csv(DATA / "counts.tsv.gz", sep="\t", index_col=0)
    normed = counts.loc[theirs.index, theirs.columns].to_numpy() / size_factors
    ours = vst_values(normed, trend, size_factors)
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=0, atol=1e-8)


@pytest.mark.parametrize("engine", ENGINES)
def test_with_r_genewise_dispersions_the_rest_matches_r(engine: str) -> None:
    """Where redoxseq and R differ here, it is the gene-wise dispersion estimates.

    pyDESeq2 maximises the Cox-Reid adjusted likelihood of each gene to the optimum; R's
    line search stops earlier on flat likelihoods (its estimates are up to 9 % off, and a few
    near-Poisson genes sit at 1e-4 instead of near 0, which changes the genes of the trend
    fit). Given R's gene-wise estimates, the trend, MAP dispersions, Wald tests, independent
    filtering and calls all reproduce R's.
    """
    report, model, _ = _fit(engine)
    theirs = _r("r_dispersions.tsv.gz").loc[model.genes]
    inference = get_engine(engine, 2)
    dds = _dds_class()(
        counts=pd.DataFrame(model.counts, index=model.samples, columns=model.genes),
        metadata=model.sample_table.loc[list(model.samples)], design=model.design,
        refit_cooks=True, min_replicates=7, inference=inference, quiet=True,
    )  # fmt: skip
    dds.fit_size_factors()
    dds.fit_genewise_dispersions()
    dds.var["genewise_dispersions"] = theirs["dispersion_genewise"].to_numpy()
    dds.fit_dispersion_trend()
    dds.fit_dispersion_prior()
    dds.fit_MAP_dispersions()
    dds.fit_LFC()
    dds.calculate_cooks()
    dds.refit()
    trend = dds.var["fitted_dispersions"].to_numpy()
    assert np.max(np.abs(trend / theirs["dispersion_trend"].to_numpy() - 1)) < 1e-4
    final = dds.var["dispersions"].to_numpy()
    assert np.max(np.abs(final / theirs["dispersion_final"].to_numpy() - 1)) < 0.01
    for case in CASES:
        contrast = report.contrasts[case]
        stats = _stats_class()(
            dds, contrast=np.asarray(contrast.vector, dtype=float),
            alpha=contrast.thresholds.alpha, inference=inference, quiet=True,
        )  # fmt: skip
        stats.summary()
        ours = stats.results_df
        r_res = _r(f"r_results.{case}.tsv.gz").loc[ours.index]
        assert (ours["padj"].isna() == r_res["padj"].isna()).all(), case
        assert set(ours.index[ours["padj"] < 0.05]) == set(r_res.index[r_res["padj"] < 0.05])
