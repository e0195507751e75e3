"""End to end: the documented cohort example on real GEUVADIS counts, with a known answer.

The README's command (``snakemake --cores 2 --configfile config/examples/cohort.yaml
--replace-workflow-config``) runs once in a temporary directory; the checks ask whether the
outputs recover sex-chromosome biology that every mixed-sex human cohort shows: chrY genes
co-vary, X-inactivation escapees (two active copies in female cells) move against them, and
both differ between the sexes, while within one sex the chrY-gene correlation collapses.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import BIN, REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXAMPLE = REPO / "config" / "examples" / "cohort.yaml"


@pytest.fixture(scope="module")
def cohort_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("cohort")
    shutil.copytree(REPO / "config", work / "config")
    (work / "resources").symlink_to(REPO / "resources")
    command = [
        str(BIN / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--cores",
        "2",
        "--configfile",
        "config/examples/cohort.yaml",
        "--replace-workflow-config",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1200)
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    return work


def _correlations(work: Path) -> pd.Series:
    table = pd.read_csv(work / "results" / "cohort" / "correlations.tsv", sep="\t")
    return table.set_index(["stratum", "method", "feature_a", "feature_b"])


def test_readme_documents_the_example_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "--configfile config/examples/cohort.yaml --replace-workflow-config" in readme


def test_only_the_cohort_stage_ran(cohort_run: Path) -> None:
    assert not (cohort_run / "results" / "deseq2").exists()
    for name in ["scatter", "correlation_heatmap", "scores_heatmap", "score_distributions"]:
        assert (cohort_run / "results" / "figures" / f"cohort/{name}.png").stat().st_size > 0


def test_chry_genes_correlate_and_escapees_anticorrelate(cohort_run: Path) -> None:
    table = _correlations(cohort_run)
    for method in ["spearman", "pearson"]:
        same = table.loc[("all", method, "RPS4Y1", "DDX3Y")]
        assert same["r"] > 0.7 and same["fdr"] < 1e-10
        for escapee in ["KDM5C", "ZFX"]:
            opposite = table.loc[("all", method, "RPS4Y1", escapee)]
            assert opposite["r"] < -0.7 and opposite["fdr"] < 1e-10
    # Within the men the chrY genes are not correlated: the overall correlation is the sex.
    assert abs(table.loc[("male", "pearson", "RPS4Y1", "DDX3Y"), "r"]) < 0.3
    scores = table.loc[("all", "pearson", "CHRY_MSY_BROAD_GENES", "CHRX_INACTIVATION_ESCAPEES")]
    assert scores["r"] < -0.7 and scores["n"] == 85


def test_scores_differ_between_the_sexes(cohort_run: Path) -> None:
    features = pd.read_csv(
        cohort_run / "results" / "cohort" / "features.tsv", sep="\t", index_col=0
    )
    samples = pd.read_csv(
        REPO / "resources" / "cohort_example" / "samples.tsv", sep="\t", index_col=0
    )
    sex = samples.loc[features.index, "sex"]
    y_score = features["CHRY_MSY_BROAD_GENES"]
    x_score = features["CHRX_INACTIVATION_ESCAPEES"]
    # every man above every woman on the chrY score; the escapee score the other way round
    assert y_score[sex == "male"].min() > y_score[sex == "female"].max()
    assert x_score[sex == "female"].median() > x_score[sex == "male"].quantile(0.9)
    tests = pd.read_csv(cohort_run / "results" / "cohort" / "strata_tests.tsv", sep="\t")
    tests = tests.set_index("feature")
    assert tests.loc["CHRY_MSY_BROAD_GENES", "fdr"] < 1e-10
    assert tests.loc["CHRX_INACTIVATION_ESCAPEES", "fdr"] < 1e-10


def test_scores_table_covers_every_collection(cohort_run: Path) -> None:
    scores = pd.read_csv(cohort_run / "results" / "cohort" / "scores.tsv", sep="\t")
    per_collection = scores.groupby("collection")["gene_set"].nunique()
    assert per_collection["hallmark"] == 50 and per_collection["cell_death"] == 5
    assert scores.groupby(["collection", "gene_set"]).size().eq(85).all()
