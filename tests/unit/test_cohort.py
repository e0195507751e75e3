"""Cohort stage library: exact ssGSEA vs gseapy, correlations vs SciPy, strata, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from redoxseq.cohort.correlations import (
    benjamini_hochberg,
    cohort_tables,
    correlate,
    feature_table,
    resolve_pairs,
)
from redoxseq.cohort.scoring import score_cohort, score_matrix
from redoxseq.enrichment.ssgsea import membership_matrix, normalise_es, ssgsea_es
from redoxseq.errors import InputError


def _expression(n_genes: int, n_samples: int, *, ties: bool, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values = rng.normal(8.0, 2.0, size=(n_genes, n_samples))
    if ties:
        # VST-like ties: a block of unexpressed genes and repeated values
        values[: n_genes // 10] = 0.5
        values[rng.random(values.shape) < 0.1] = 7.25
    genes = [f"G{i:04d}" for i in range(n_genes)]
    return pd.DataFrame(values, index=genes, columns=[f"s{j}" for j in range(n_samples)])


def _sets(genes: list[str], n: int, seed: int) -> dict[str, list[str]]:
    rng = np.random.default_rng(seed)
    sets = {
        f"SET{k}": [str(g) for g in rng.choice(genes, int(rng.integers(5, 60)), replace=False)]
        for k in range(n)
    }
    sets["TIED_BLOCK"] = genes[5:30]  # members inside the tied block of unexpressed genes
    return sets


@pytest.mark.parametrize("ties", [False, True])
def test_fast_ssgsea_equals_gseapy(ties: bool) -> None:
    gseapy = pytest.importorskip("gseapy")
    expression = _expression(600, 7, ties=ties, seed=3)
    sets = _sets(list(expression.index), 15, seed=4)
    reference = gseapy.ssgsea(
        data=expression.copy(),
        gene_sets=sets,
        outdir=None,
        sample_norm_method="rank",
        correl_norm_type="rank",
        min_size=1,
        max_size=len(expression),
        permutation_num=0,
        weight=0.25,
        threads=1,
        seed=1,
        no_plot=True,
        verbose=False,
    ).res2d
    ref_es = reference.pivot(index="Term", columns="Name", values="ES").astype(float)
    ref_nes = reference.pivot(index="Term", columns="Name", values="NES").astype(float)
    names, positions = membership_matrix(sets, list(expression.index))
    es = ssgsea_es(expression.to_numpy(), positions, weight=0.25)
    ours = pd.DataFrame(es, index=names, columns=expression.columns)
    ours_nes = pd.DataFrame(normalise_es(es), index=names, columns=expression.columns)
    cols = list(expression.columns)
    np.testing.assert_allclose(ours.loc[ref_es.index, cols], ref_es[cols], rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(
        ours_nes.loc[ref_nes.index, cols], ref_nes[cols], rtol=1e-10, atol=1e-12
    )


def test_fast_ssgsea_same_bytes_for_any_threads_and_block() -> None:
    expression = _expression(400, 23, ties=True, seed=5)
    _, positions = membership_matrix(_sets(list(expression.index), 8, 6), list(expression.index))
    one = ssgsea_es(expression.to_numpy(), positions, threads=1)
    blocked = ssgsea_es(expression.to_numpy(), positions, threads=2, block=4)
    assert one.tobytes() == blocked.tobytes()


def test_score_cohort_methods_agree_and_skip_small_sets() -> None:
    pytest.importorskip("gseapy")
    expression = _expression(300, 6, ties=True, seed=7)
    sets = _sets(list(expression.index), 5, 8) | {"TINY": ["G0001", "G0002", "NOT_MEASURED"]}
    fast, skipped = score_cohort(expression, {"c": sets}, method="fast", min_size=5)
    slow, skipped_slow = score_cohort(expression, {"c": sets}, method="gseapy", min_size=5)
    assert list(skipped["gene_set"]) == ["TINY"] == list(skipped_slow["gene_set"])
    assert skipped.loc[0, "n_measured"] == 2 and skipped.loc[0, "n_genes"] == 3
    pd.testing.assert_frame_equal(
        fast.drop(columns=["score", "nes"]), slow.drop(columns=["score", "nes"])
    )
    np.testing.assert_allclose(fast["score"], slow["score"], rtol=1e-10, atol=1e-9)
    wide = score_matrix(fast)
    assert list(wide.index) == list(expression.columns)
    assert "TINY" not in wide.columns


def test_correlations_match_scipy_overall_and_per_stratum() -> None:
    rng = np.random.default_rng(11)
    n = 40
    x = rng.normal(size=n)
    features = pd.DataFrame(
        {"a": x, "b": x + rng.normal(scale=0.7, size=n), "c": rng.normal(size=n)},
        index=[f"s{i}" for i in range(n)],
    )
    strata = pd.Series(["p"] * 25 + ["q"] * 12 + ["tiny"] * 3, index=features.index)
    table = correlate(
        features, resolve_pairs(list(features.columns), None), strata=strata, min_samples=10
    )
    assert list(dict.fromkeys(table["stratum"])) == ["all", "p", "q"]  # 'tiny' < min_samples
    for _, row in table.iterrows():
        members = (
            features.index if row["stratum"] == "all" else strata.index[strata == row["stratum"]]
        )
        xa = features.loc[members, row["feature_a"]]
        xb = features.loc[members, row["feature_b"]]
        ref = (stats.spearmanr if row["method"] == "spearman" else stats.pearsonr)(xa, xb)
        assert row["n"] == len(members)
        assert row["r"] == pytest.approx(ref[0], abs=1e-12)
        assert row["pvalue"] == pytest.approx(ref[1], rel=1e-8)
    for _, group in table.groupby(["stratum", "method"]):
        expected = stats.false_discovery_control(group["pvalue"].to_numpy())
        np.testing.assert_allclose(group["fdr"], expected, rtol=1e-12)


def test_benjamini_hochberg_keeps_nan() -> None:
    adjusted = benjamini_hochberg(np.array([0.01, np.nan, 0.04, 0.03]))
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2, 3]], [0.03, 0.04, 0.04])


def test_cohort_tables_strata_outputs() -> None:
    rng = np.random.default_rng(2)
    sex = np.array(["female"] * 15 + ["male"] * 15)
    level = np.where(sex == "male", 10.0, 2.0)
    y = level + rng.normal(scale=0.3, size=30)
    features = pd.DataFrame(
        # Y2 shares only the sex effect with Y1 (independent noise within each sex)
        {"Y1": y, "Y2": level + rng.normal(scale=0.3, size=30), "X1": -y + rng.normal(size=30)},
        index=[f"s{i}" for i in range(30)],
    )
    strata = pd.Series(sex, index=features.index)
    tables = cohort_tables(features, None, strata=strata, methods=["pearson"], min_stratum_size=10)
    corr = tables["correlations"].set_index(["stratum", "feature_a", "feature_b"])["r"]
    assert corr[("all", "Y1", "Y2")] > 0.95  # driven by the strata
    assert abs(corr[("male", "Y1", "Y2")]) < 0.6  # within a stratum: noise only
    tests = tables["strata_tests"].set_index("feature")
    assert tests.loc["Y1", "pvalue"] < 1e-5
    dist = tables["distributions"].set_index(["feature", "stratum"])
    assert dist.loc[("Y1", "male"), "n"] == 15
    assert dist.loc[("Y1", "male"), "median"] == pytest.approx(np.median(y[15:]))


def test_feature_table_errors_name_the_problem() -> None:
    expression = _expression(50, 4, ties=False, seed=1)
    scores = pd.DataFrame({"SET1": [1.0, 2.0, 3.0, 4.0]}, index=expression.columns)
    with pytest.raises(InputError, match="NOPE"):
        feature_table(expression, ["G0001", "NOPE"], scores, [])
    with pytest.raises(InputError, match="SET2"):
        feature_table(expression, ["G0001"], scores, ["SET2"])
    table = feature_table(expression, ["G0001"], scores, ["all"])
    assert list(table.columns) == ["G0001", "SET1"]
    with pytest.raises(InputError, match="pair"):
        resolve_pairs(["a", "b"], [["a"]])
    with pytest.raises(InputError, match="'z'"):
        resolve_pairs(["a", "b"], [["a", "z"]])
