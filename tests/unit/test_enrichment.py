"""Tests of GSEA prerank, ssGSEA, ORA and the cross-contrast summary (synthetic data)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from redoxseq.enrichment.genesets import load_bundled
from redoxseq.enrichment.gsea import (
    CONTRAST_COMPARISON_COLUMNS,
    ORA_COLUMNS,
    PRERANK_COLUMNS,
    SSGSEA_COLUMNS,
    SUMMARY_COLUMNS,
    _bh,
    attach_symbols,
    collapse_expression,
    compare_groups,
    expressed_genes,
    gsea_contrast,
    ora,
    ora_contrast,
    prerank,
    ranking_from_results,
    run_prerank,
    score_samples,
    sort_ranking,
    summarize,
)
from redoxseq.errors import InputError

SEED = 20261121
NRF2_TARGETS = ["Nqo1", "Hmox1", "Gclc", "Gclm", "Txnrd1", "Srxn1", "Slc7a11", "Txn1", "G6pdx"]


def _universe(n_filler: int = 2000) -> list[str]:
    genes = sorted({g for s in load_bundled("hallmark", "mouse").values() for g in s})
    for collection in ("nrf2", "ferroptosis"):
        extra = {g for s in load_bundled(collection, "mouse").values() for g in s}
        genes += sorted(extra - set(genes))
    return genes + [f"Filler{i}" for i in range(n_filler)]


def _results(seed: int = 1) -> pd.DataFrame:
    """Synthetic DESeq2 results for mouse genes; the NRF2 core targets are strongly up."""
    rng = np.random.default_rng(seed)
    genes = _universe()
    stat = rng.normal(size=len(genes))
    index = {g: i for i, g in enumerate(genes)}
    for g in load_bundled("nrf2", "mouse")["REDOXSEQ_NRF2_CORE_TARGETS"]:
        stat[index[g]] = 6 + rng.random()
    pvalue = np.clip(2 * (1 - _norm_cdf(np.abs(stat))), 1e-300, 1)
    return pd.DataFrame(
        {
            "gene_id": [f"ENSMUSG{i:011d}.1" for i in range(len(genes))],
            "gene_name": genes,
            "baseMean": 100.0,
            "log2FoldChange": stat / 4,
            "lfcSE": 0.25,
            "stat": stat,
            "pvalue": pvalue,
            "padj": _bh(pvalue),
            "log2FoldChange_shrunk": stat / 5,
        }
    )


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    from scipy.stats import norm

    return np.asarray(norm.cdf(x))


def _tsv(table: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    table.to_csv(buffer, sep="\t", index=False, lineterminator="\n")
    return buffer.getvalue().encode()


# --- ranking ----------------------------------------------------------------------------
def test_sort_ranking_breaks_ties_by_name_and_counts_them() -> None:
    ranking = pd.Series([1.0, 2.0, 1.0, 1.0, np.nan], index=["c", "z", "a", "b", "n"])
    ordered, n_tied = sort_ranking(ranking)
    assert ordered.index.tolist() == ["z", "a", "b", "c"]
    assert n_tied == 3
    shuffled, _ = sort_ranking(ranking.iloc[[3, 0, 4, 2, 1]])
    assert shuffled.equals(ordered)


def test_sort_ranking_rejects_duplicates_and_infinities() -> None:
    with pytest.raises(InputError, match=r"has 1 duplicated gene name\(s\) \(a\)"):
        sort_ranking(pd.Series([1.0, 2.0], index=["a", "a"]))
    many = pd.Series(1.0, index=[f"g{i // 2}" for i in range(14)])
    listed = r"7 duplicated .* \(g0, g1, g2, g3, g4, \.\.\. \(2 more\)\)"
    with pytest.raises(InputError, match=listed):
        sort_ranking(many)
    with pytest.raises(InputError, match=r"1 infinite value\(s\), for b;"):
        sort_ranking(pd.Series([1.0, np.inf], index=["a", "b"]))


def test_ranking_from_results_metrics_and_duplicate_rule() -> None:
    results = pd.DataFrame(
        {
            "gene_id": ["g2", "g1", "g3", "g4", "g5"],
            "gene_name": ["Dup", "Dup", "Gpx4", None, "Zero"],
            "stat": [2.0, -3.0, 1.0, 5.0, np.nan],
            "pvalue": [0.01, 0.001, 0.1, 0.5, 0.0],
            "log2FoldChange": [1.0, -1.0, 0.5, 1.0, -2.0],
            "log2FoldChange_shrunk": [0.5, -0.5, 0.25, 0.5, -1.0],
        }
    )
    stat = ranking_from_results(results, "stat")
    assert stat.to_dict() == {"Dup": -3.0, "Gpx4": 1.0}  # largest |stat| kept, NA and no-name out
    shrunk = ranking_from_results(results, "log2FoldChange_shrunk")
    assert shrunk["Dup"] == -0.5  # |0.5| ties: the smaller gene_id (g1) wins
    assert shrunk.loc["Zero"] == -1.0
    signed = ranking_from_results(results, "signed_log10_pvalue")
    assert signed["Gpx4"] == pytest.approx(1.0)
    assert signed["Zero"] == pytest.approx(np.log10(np.finfo(float).tiny))
    with pytest.raises(InputError, match="lack column"):
        ranking_from_results(results.drop(columns="stat"), "stat")


def test_attach_symbols_uses_annotation_for_missing_names() -> None:
    results = pd.DataFrame(
        {"gene_id": ["ENSMUSG00000015839.7", "ENSMUSG00000075706"], "gene_name": ["", "Gpx4"]}
    )
    out = attach_symbols(results, {"ENSMUSG00000015839": "Nfe2l2"})
    assert out["gene_name"].tolist() == ["Nfe2l2", "Gpx4"]
    no_names = attach_symbols(pd.DataFrame({"gene_id": ["Gpx4"]}))
    assert no_names["gene_name"].tolist() == ["Gpx4"]


# --- prerank ----------------------------------------------------------------------------
def test_nrf2_sets_positive_with_targets_in_leading_edge() -> None:
    outcome = gsea_contrast(
        _results(),
        load_bundled("nrf2", "mouse"),
        seed=SEED,
        threads=1,
        permutations=500,
        label="nrf2.gmt",
    )
    table = outcome.results.set_index("gene_set")
    assert list(outcome.results.columns) == list(PRERANK_COLUMNS)
    core = table.loc["REDOXSEQ_NRF2_CORE_TARGETS"]
    assert core["nes"] > 0 and core["fdr"] < 0.05
    assert core["set_size"] == 18 and core["n_measured"] == 18
    leading = set(core["leading_edge"].split(";"))
    assert set(NRF2_TARGETS) <= leading
    assert core["leading_edge_size"] == len(leading)
    wp = table.loc["WP_NRF2_PATHWAY"]
    assert wp["nes"] > 0 and wp["fdr"] < 0.05


def test_prerank_byte_identical_across_runs_and_threads() -> None:
    ranking = ranking_from_results(_results(seed=3))
    sets = load_bundled("hallmark", "mouse") | load_bundled("nrf2", "mouse")
    kwargs = {"seed": SEED, "permutations": 200, "min_size": 5}
    one = run_prerank(ranking, sets, threads=1, **kwargs)
    two = run_prerank(ranking, sets, threads=2, **kwargs)
    again = run_prerank(ranking.sample(frac=1.0, random_state=5), sets, threads=1, **kwargs)
    assert _tsv(one) == _tsv(two) == _tsv(again)
    assert len(one) == len(sets)


SUBPROCESS = """
import sys
import numpy as np, pandas as pd
from redoxseq.enrichment.gsea import run_prerank
rng = np.random.default_rng(0)
genes = [f"Gene{i}" for i in range(3000)]
ranking = pd.Series(rng.normal(size=3000), index=genes)
ranking.iloc[:40] += 2
sets = {f"S{k}": [genes[j] for j in rng.choice(3000, 30, replace=False)] for k in range(20)}
sets["UP"] = genes[:40]
table = run_prerank(ranking, sets, seed=7, threads=int(sys.argv[1]), permutations=200)
table.to_csv(sys.stdout, sep="\\t", index=False, lineterminator="\\n")
"""


def test_prerank_identical_across_processes_and_hash_seeds() -> None:
    outputs = []
    for hash_seed, threads in (("1", "1"), ("2", "2")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", SUBPROCESS, threads],
            env=env,
            capture_output=True,
            check=True,
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert b"UP\t40\t40\t" in outputs[0]


def test_prerank_skips_sets_outside_size_limits() -> None:
    ranking = pd.Series(np.linspace(3, -3, 200), index=[f"g{i}" for i in range(200)])
    sets = {"ok": [f"g{i}" for i in range(0, 40, 2)], "tiny": ["g1", "g2"], "absent": ["Nope"]}
    outcome = prerank(ranking, sets, seed=1, permutations=100, min_size=5, max_size=100)
    assert outcome.results["gene_set"].tolist() == ["ok"]
    skipped = outcome.skipped.set_index("gene_set")
    assert skipped.loc["tiny", "reason"] == "fewer than min_size=5 measured"
    assert skipped.loc["absent", "reason"] == "no measured genes"
    assert skipped.loc["absent", "set_size"] == 1


def test_mixed_case_ranking_is_not_matched_to_upper_case_sets() -> None:
    # gseapy would upper-case a mouse ranking to meet human sets; redoxseq must not.
    genes = [f"Gene{i}" for i in range(500)]
    ranking = pd.Series(np.linspace(2, -2, 500), index=genes)
    sets = {"HUMAN": [g.upper() for g in genes[:50]], "MOUSE": genes[:50]}
    outcome = prerank(ranking, sets, seed=1, permutations=100)
    assert outcome.results["gene_set"].tolist() == ["MOUSE"]
    with pytest.raises(InputError, match="wrong species"):
        gsea_contrast(
            pd.DataFrame({"gene_id": genes, "gene_name": genes, "stat": ranking.to_numpy()}),
            {"HUMAN": sets["HUMAN"]},
            seed=1,
            label="human.gmt",
        )


# --- ORA --------------------------------------------------------------------------------
def test_ora_finds_planted_overlap_with_tested_background() -> None:
    results = _results()
    results.loc[results.index[-100:], "padj"] = np.nan  # filtered: not in the background
    up = results[results["stat"] > 5]
    down = results[results["stat"] < -3]
    table = ora_contrast(
        results, up, down, load_bundled("nrf2", "mouse"), label="nrf2.gmt"
    ).set_index(["direction", "gene_set"])
    row = table.loc[("up", "REDOXSEQ_NRF2_CORE_TARGETS")]
    assert row["overlap"] == 18 and row["fdr"] < 1e-10
    assert row["n_background"] == len(results) - 100
    assert table.loc[("down", "REDOXSEQ_NRF2_CORE_TARGETS"), "overlap"] == 0
    assert table.loc[("down", "REDOXSEQ_NRF2_CORE_TARGETS"), "pvalue"] == 1.0


def test_ora_pvalue_is_hypergeometric_and_genes_follow_list_order() -> None:
    from scipy.stats import hypergeom

    background = [f"g{i}" for i in range(100)]
    sets = {"A": [f"g{i}" for i in range(10)], "B": [f"g{i}" for i in range(50, 60)]}
    table = ora({"up": ["g5", "g3", "g1", "g70"]}, sets, background, min_size=5)
    assert list(table.columns) == list(ORA_COLUMNS)
    a = table.set_index("gene_set").loc["A"]
    assert a["genes"] == "g5;g3;g1"
    assert a["pvalue"] == pytest.approx(hypergeom.sf(2, 100, 10, 4))
    b = table.set_index("gene_set").loc["B"]
    assert b["pvalue"] == 1.0 and b["genes"] == ""
    assert table["fdr"].tolist() == pytest.approx(_bh(table["pvalue"].to_numpy()).tolist())


# --- ssGSEA -----------------------------------------------------------------------------
def _expression() -> tuple[pd.DataFrame, dict[str, str]]:
    rng = np.random.default_rng(11)
    genes = _universe(n_filler=500)
    samples = [f"{c}_vehicle_{r}" for c in ("sensitive", "resistant") for r in (1, 2, 3)]
    matrix = pd.DataFrame(
        rng.normal(8, 1, size=(len(genes), len(samples))), index=genes, columns=samples
    )
    ferro = load_bundled("ferroptosis", "mouse")["REDOXSEQ_FERROPTOSIS_SUPPRESSORS"]
    matrix.loc[ferro, [s for s in samples if s.startswith("resistant")]] += 3
    groups = {s: s.rsplit("_", 1)[0] for s in samples}
    return matrix, groups


def test_ssgsea_separates_groups_and_is_thread_independent() -> None:
    matrix, groups = _expression()
    collections = {"ferroptosis": load_bundled("ferroptosis", "mouse")}
    comparisons = {
        "resistant_vs_sensitive": {
            "numerator": "resistant_vehicle", "denominator": "sensitive_vehicle",
            "numerator_samples": [s for s, g in groups.items() if g == "resistant_vehicle"],
            "denominator_samples": [s for s, g in groups.items() if g == "sensitive_vehicle"],
        }
    }  # fmt: skip
    scores1, comparison = score_samples(matrix, collections, comparisons, seed=SEED, threads=1)
    scores2, _ = score_samples(matrix, collections, comparisons, seed=SEED, threads=2)
    assert _tsv(scores1) == _tsv(scores2)
    assert list(scores1.columns) == list(SSGSEA_COLUMNS)
    assert list(comparison.columns) == list(CONTRAST_COMPARISON_COLUMNS)
    row = comparison.set_index("gene_set").loc["REDOXSEQ_FERROPTOSIS_SUPPRESSORS"]
    assert row["numerator"] == "resistant_vehicle" and row["denominator"] == "sensitive_vehicle"
    assert row["difference"] > 0 and row["pvalue"] < 0.01


def test_expressed_genes_keeps_genes_with_enough_reads_in_enough_samples() -> None:
    counts = pd.DataFrame(
        {"a": [10, 9, 0, 50], "b": [10, 10, 0, 0], "c": [0, 10, 10, 0]},
        index=["two_samples", "two_samples_again", "one_sample", "one_high_sample"],
    )
    kept = expressed_genes(counts, min_count=10, min_samples=2)
    assert kept.tolist() == ["two_samples", "two_samples_again"]
    assert expressed_genes(counts, min_count=0, min_samples=2).equals(counts.index)
    with pytest.raises(InputError, match=r"gsea\.ssgsea\.min_count"):
        expressed_genes(counts, min_count=100, min_samples=1)


def test_unexpressed_genes_left_out_change_the_scores_not_the_scored_sets() -> None:
    """Unexpressed genes tie at the bottom of every ranking; leaving them out rescores."""
    matrix, _ = _expression()
    collections = {"ferroptosis": load_bundled("ferroptosis", "mouse")}
    floor = matrix.min().min()
    silent = pd.DataFrame(floor, index=[f"SILENT{i}" for i in range(400)], columns=matrix.columns)
    padded = pd.concat([matrix, silent])
    all_genes, _ = score_samples(padded, collections, {}, seed=SEED)
    expressed, _ = score_samples(
        padded, collections, {}, seed=SEED, expressed=pd.Index(matrix.index)
    )
    plain, _ = score_samples(matrix, collections, {}, seed=SEED)
    assert _tsv(expressed) == _tsv(plain)
    assert not np.allclose(all_genes["es"], plain["es"])


def test_collapse_expression_keeps_highest_mean_per_symbol() -> None:
    matrix = pd.DataFrame(
        {"s1": [1.0, 5.0, 2.0, 3.0], "s2": [1.0, 5.0, 2.0, 3.0]},
        index=["ENSMUSG1.1", "ENSMUSG2", "ENSMUSG3", "ENSMUSG4"],
    )
    mapping = {"ENSMUSG1": "Gpx4", "ENSMUSG2": "Gpx4", "ENSMUSG3": "Txn1"}
    out = collapse_expression(matrix, mapping)
    assert out.index.tolist() == ["Gpx4", "Txn1"]
    assert out.loc["Gpx4", "s1"] == 5.0


def test_compare_groups_welch() -> None:
    from scipy.stats import ttest_ind

    scores = pd.DataFrame(
        {
            "collection": "c",
            "gene_set": "S",
            "n_measured": 10,
            "sample": ["a1", "a2", "a3", "b1", "b2", "b3"],
            "es": [3.0, 3.5, 2.5, 1.0, 1.2, 0.7],
            "nes": 0.0,
        }
    )
    groups = {s: s[0] for s in scores["sample"]}
    out = compare_groups(scores, groups)
    expected = ttest_ind([3.0, 3.5, 2.5], [1.0, 1.2, 0.7], equal_var=False)
    assert out.loc[0, "t"] == pytest.approx(expected.statistic)
    assert out.loc[0, "difference"] == pytest.approx(3.0 - (1.0 + 1.2 + 0.7) / 3)


# --- summary ----------------------------------------------------------------------------
def test_summarize_orders_and_columns() -> None:
    def table(sets: list[str], nes: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "gene_set": sets,
                "set_size": 10,
                "n_measured": 9,
                "es": 0.5,
                "nes": nes,
                "pvalue": 0.01,
                "fdr": 0.02,
                "log2err": 0.1,
                "leading_edge_size": 3,
                "leading_edge": "a;b;c",
            }
        )

    out = summarize(
        {
            ("c1", "nrf2"): table(["B", "A"], 1.0),
            ("c1", "ferroptosis"): table(["F"], 2.0),
            ("c2", "nrf2"): table(["A", "B"], -1.0),
            ("c2", "ferroptosis"): table([], 0.0),
        }
    )
    assert list(out.columns) == list(SUMMARY_COLUMNS)
    assert out[["contrast", "collection", "gene_set"]].values.tolist() == [
        ["c1", "nrf2", "B"],
        ["c2", "nrf2", "B"],
        ["c1", "nrf2", "A"],
        ["c2", "nrf2", "A"],
        ["c1", "ferroptosis", "F"],
    ]


def test_library_import_stays_light() -> None:
    code = (
        "import sys, redoxseq.enrichment.gsea, redoxseq.enrichment.genesets; "
        "print('gseapy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_bh_matches_reference_values() -> None:
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.2), "BH") = 0.04 0.0533 0.0533 0.2
    out = _bh(np.array([0.01, 0.04, 0.03, 0.2]))
    assert out.tolist() == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.2])


def test_combine_skipped_lists_sets_empty_after_mapping() -> None:
    from redoxseq.enrichment.gsea import SKIPPED_COLUMNS, combine_skipped

    ranking = pd.Series(np.linspace(1, -1, 50), index=[f"g{i}" for i in range(50)])
    outcome = prerank(ranking, {"EMPTY": ["Absent1", "Absent2"]}, seed=1, permutations=100)
    assert outcome.results.empty and list(outcome.results.columns) == list(PRERANK_COLUMNS)
    out = combine_skipped({("c1", "user"): outcome.skipped, ("c2", "user"): outcome.skipped})
    assert list(out.columns) == ["contrast", "collection", *SKIPPED_COLUMNS]
    assert out["reason"].tolist() == ["no measured genes", "no measured genes"]
