"""Enrichment that follows the contrasts: ssGSEA comparisons per contrast, LRT results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import ttest_ind

from redoxseq.de.design import preflight
from redoxseq.enrichment.genesets import load_bundled
from redoxseq.enrichment.gsea import (
    CONTRAST_COMPARISON_COLUMNS,
    compare_contrasts,
    gsea_contrast,
    ora_contrast,
    ssgsea_scores,
)
from tests.conftest import REPO

SEED = 20261204


def _sheet() -> pd.DataFrame:
    rows = [
        (f"{c}_{t}_{r}", c, t)
        for c in ("sensitive", "resistant")
        for t in ("vehicle", "sorafenib")
        for r in (1, 2, 3)
    ]
    return pd.DataFrame(rows, columns=["sample", "cell_line", "treatment"]).set_index(
        "sample", drop=False
    )


def _scores(sheet: pd.DataFrame) -> pd.DataFrame:
    """ssGSEA of a matrix where the ferroptosis suppressors are up in resistant + vehicle."""
    rng = np.random.default_rng(SEED)
    ferro = load_bundled("ferroptosis", "mouse")
    genes = sorted({g for s in ferro.values() for g in s}) + [f"Filler{i}" for i in range(800)]
    matrix = pd.DataFrame(rng.normal(8, 1, (len(genes), len(sheet))), index=genes,
                          columns=sheet.index)  # fmt: skip
    up = [s for s in sheet.index if s.startswith("resistant_vehicle")]
    matrix.loc[ferro["REDOXSEQ_FERROPTOSIS_SUPPRESSORS"], up] += 3
    return ssgsea_scores(matrix, {"ferroptosis": ferro}, seed=SEED, threads=1)


def test_comparisons_follow_each_contrast_direction_and_at_levels() -> None:
    sheet = _sheet()
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    contrasts = {
        **config["contrasts"],
        # the reverse direction of the first default contrast
        "sensitive_vs_resistant": {"factor": "cell_line", "numerator": "sensitive",
                                   "denominator": "resistant", "at": {"treatment": "vehicle"}},
        "interaction_lrt": {"test": "LRT", "reduced": "~ cell_line + treatment"},
    }  # fmt: skip
    report = preflight(sheet, {}, contrasts)
    comparisons = {name: c.two_groups(sheet) for name, c in report.contrasts.items()}
    assert comparisons["resistant_vs_sensitive"]["numerator_samples"] == [
        "resistant_vehicle_1", "resistant_vehicle_2", "resistant_vehicle_3",
    ]  # fmt: skip
    assert "skip" in comparisons["sorafenib_response_resistant_vs_sensitive"]
    assert "skip" in comparisons["interaction_lrt"]
    scores = _scores(sheet)
    out = compare_contrasts(scores, comparisons)
    assert list(out.columns) == list(CONTRAST_COMPARISON_COLUMNS)
    n_sets = scores[["collection", "gene_set"]].drop_duplicates().shape[0]
    two_group = [n for n, spec in comparisons.items() if "skip" not in spec]
    assert len(out) == n_sets * len(two_group)  # one row per two-group contrast x set
    assert list(dict.fromkeys(out["contrast"])) == two_group
    key = "REDOXSEQ_FERROPTOSIS_SUPPRESSORS"
    row = out.set_index(["contrast", "gene_set"]).loc[("resistant_vs_sensitive", key)]
    assert (row["numerator"], row["denominator"]) == ("resistant_vehicle", "sensitive_vehicle")
    assert row["difference"] > 0 and row["statistic"] > 0 and row["pvalue"] < 0.01
    es = scores[scores["gene_set"] == key].set_index("sample")["es"]
    resistant = es[[f"resistant_vehicle_{i}" for i in (1, 2, 3)]]
    sensitive = es[[f"sensitive_vehicle_{i}" for i in (1, 2, 3)]]
    expected = ttest_ind(resistant, sensitive, equal_var=False)
    assert row["statistic"] == pytest.approx(expected.statistic)
    reverse = out.set_index(["contrast", "gene_set"]).loc[("sensitive_vs_resistant", key)]
    assert reverse["difference"] == pytest.approx(-row["difference"])
    # within the at levels: sorafenib samples are not part of the vehicle comparison
    assert row["n_numerator"] == 3 and row["n_denominator"] == 3


def _lrt_results() -> pd.DataFrame:
    nrf2 = load_bundled("nrf2", "mouse")
    genes = sorted({g for s in nrf2.values() for g in s}) + [f"Filler{i}" for i in range(300)]
    rng = np.random.default_rng(SEED)
    changed = set(genes[:40])
    return pd.DataFrame(
        {
            "gene_id": genes, "gene_name": genes, "baseMean": 100.0,
            "log2FoldChange": rng.normal(0, 1, len(genes)), "stat": rng.chisquare(3, len(genes)),
            "pvalue": rng.uniform(0, 1, len(genes)), "padj": rng.uniform(0, 1, len(genes)),
            "significant": ["changed" if g in changed else "" for g in genes], "test": "LRT",
        }
    )  # fmt: skip


def test_gsea_prerank_skips_lrt_results_with_a_reason() -> None:
    results = _lrt_results()
    outcome = gsea_contrast(results, load_bundled("nrf2", "mouse"), seed=SEED)
    assert outcome.results.empty
    assert len(outcome.skipped) == len(load_bundled("nrf2", "mouse"))
    assert outcome.skipped["reason"].str.contains("likelihood-ratio test").all()


def test_ora_of_lrt_results_uses_the_changed_genes() -> None:
    results = _lrt_results()
    empty = results.iloc[:0]
    out = ora_contrast(results, empty, empty, load_bundled("nrf2", "mouse"))
    assert set(out["direction"]) == {"changed"}


def test_duplicate_sets_across_bundled_collections_are_counted_once() -> None:
    from redoxseq.enrichment.genesets import drop_duplicate_sets

    names = ("nrf2", "ferroptosis", "cell_death", "hallmark")
    collections = {name: load_bundled(name, "mouse") for name in names}
    kept, dropped = drop_duplicate_sets(collections)
    assert ("cell_death", "CELL_DEATH_FERROPTOSIS", "ferroptosis", "WP_FERROPTOSIS") in dropped
    ros = "HALLMARK_REACTIVE_OXYGEN_SPECIES_PATHWAY"
    assert ("hallmark", ros, "nrf2", ros) in dropped
    keys = [frozenset(g) for sets in kept.values() for g in sets.values()]
    assert len(keys) == len(set(keys))  # no two kept sets with the same genes
    n_in = sum(len(s) for s in collections.values())
    assert sum(len(s) for s in kept.values()) == n_in - len(dropped)
    # the rule is order-dependent by design: the first place keeps the set
    reordered, _ = drop_duplicate_sets({k: collections[k] for k in reversed(names)})
    assert ros in reordered["hallmark"] and ros not in reordered["nrf2"]
