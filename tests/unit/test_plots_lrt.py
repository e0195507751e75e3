"""Figures and report pages of likelihood-ratio-test (LRT) contrasts: no direction claims."""

from __future__ import annotations

import numpy as np
import pandas as pd

from redoxseq.plots.contrasts import calling_from_summary, plot_ma, plot_volcano
from redoxseq.plots.enrichment import plot_ora, running_sum_figure, skip_reason
from redoxseq.plots.summary import (
    call_counts,
    called_gene_lists,
    plot_de_gene_counts,
    plot_overview,
    plot_upset,
)
from redoxseq.plots.tables import contrast_pages, not_ranked, top_results

COEFFICIENT = "cell_line[T.resistant]:treatment[T.sorafenib]"


def _lrt_results(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    padj = np.where(np.arange(n) < 20, 1e-6, 0.6)
    return pd.DataFrame(
        {"gene_name": [f"G{i}" for i in range(n)], "baseMean": rng.uniform(10, 500, n),
         "log2FoldChange": rng.normal(0, 1, n), "lfcSE": 0.3, "stat": rng.uniform(0, 30, n),
         "pvalue": padj / 2, "padj": padj,
         "significant": np.where(np.arange(n) < 20, "changed", ""), "test": "LRT"},
        index=pd.Index([f"g{i}" for i in range(n)], name="gene_id"),
    )  # fmt: skip


def _contrasts() -> pd.DataFrame:
    return pd.DataFrame(
        {"test": ["Wald", "LRT"], "coefficients": ["cell_line[T.resistant]", COEFFICIENT]},
        index=pd.Index(["wald", "lrt"], name="contrast"),
    )


def test_lrt_calling_names_the_reported_coefficient() -> None:
    summary = pd.Series({"significance": "padj < 0.1", "padj_cutoff": 0.1, "log2fc_cutoff": 0})
    lrt = calling_from_summary(summary, _contrasts(), "lrt")
    wald = calling_from_summary(summary, _contrasts(), "wald")
    assert not lrt.directional and lrt.lfc_coefficient == COEFFICIENT
    assert wald.directional and wald.lfc_coefficient == ""
    volcano = plot_volcano(_lrt_results(), contrast="lrt", calling=lrt)
    assert COEFFICIENT in volcano.axes[0].get_xlabel()
    assert "likelihood-ratio test" in volcano.axes[0].get_title(loc="left")
    ma = plot_ma(_lrt_results(), contrast="lrt", calling=lrt)
    assert COEFFICIENT in ma.axes[0].get_title(loc="left")
    assert "no direction" in ma.axes[0].get_ylabel()
    assert plot_volcano(_lrt_results(), contrast="w", calling=wald).axes[0].get_xlabel() == (
        "log2 fold change"
    )


def test_lrt_calls_are_counted_as_changed_not_up_or_down() -> None:
    summaries = pd.DataFrame(
        {"n_up": [5, 0], "n_down": [3, 0], "n_significant": [8, 20], "test": ["Wald", "LRT"],
         "significance": "padj < 0.1"},
        index=["wald", "lrt"],
    )  # fmt: skip
    counts = call_counts(summaries)
    assert counts.loc["lrt"].to_dict() == {"n_up": 0.0, "n_down": 0.0, "n_changed": 20.0}
    assert counts.loc["wald"].to_dict() == {"n_up": 5.0, "n_down": 3.0, "n_changed": 0.0}
    figure = plot_de_gene_counts(summaries)
    texts = {t.get_text() for t in figure.axes[0].texts}
    assert "20 changed (LRT, no direction)" in texts
    assert {"5", "3"} <= texts and "0" not in texts  # no up / down numbers for the LRT row
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend[-1].startswith("changed")


def test_gene_lists_give_an_lrt_one_changed_list() -> None:
    wald = _lrt_results().assign(significant=["up"] * 3 + ["down"] * 2 + [""] * 195, test="Wald")
    lists = called_gene_lists({"wald": wald, "lrt": _lrt_results()}, lrt=["lrt"])
    assert set(lists) == {"wald up", "wald down", "lrt changed"}
    assert lists["wald up"] == {"g0", "g1", "g2"} and lists["wald down"] == {"g3", "g4"}
    assert lists["lrt changed"] == {f"g{i}" for i in range(20)}
    figure = plot_upset(lists, title="t")
    assert "empty" not in figure.get_suptitle()


def test_upset_dots_fit_their_columns() -> None:
    sets = {f"c{k} up": {f"g{i}" for i in range(k, 40, k + 1)} for k in range(8)}
    figure = plot_upset(sets, title="t")
    matrix = next(a for a in figure.axes if a.collections and len(a.get_yticklabels()) == 8)
    canvas = figure.canvas
    canvas.draw()
    dots = max(matrix.collections, key=lambda c: len(c.get_offsets()))
    centres = matrix.transData.transform(dots.get_offsets())
    step = np.diff(np.unique(np.round(centres[:, 0], 3))).min()  # display pixels
    diameter = np.sqrt(dots.get_sizes()[0]) * figure.dpi / 72
    assert diameter < step, (diameter, step)


def test_ora_of_an_lrt_draws_its_changed_genes() -> None:
    table = pd.DataFrame(
        {"direction": ["changed", "changed"], "gene_set": ["A", "B"], "overlap": [4, 2],
         "n_list": [20, 20], "pvalue": [0.001, 0.2], "fdr": [0.01, 0.4]}
    )  # fmt: skip
    figure = plot_ora(table, contrast="lrt")
    titles = [a.get_title(loc="left") for a in figure.axes]
    assert "changed genes (LRT, no direction; n = 20): 1 set at FDR < 0.05" in titles
    assert not any(t.startswith(("up", "down")) for t in titles)


def test_running_sum_of_a_skipped_set_says_why() -> None:
    reason = "not ranked: a likelihood-ratio test (test = LRT) says that a gene changes"
    skipped = pd.DataFrame({"gene_set": ["S", "T"], "reason": [reason, "too few"]})
    assert skip_reason(skipped, "S") == reason
    assert skip_reason(skipped, "U") is None
    assert skip_reason(pd.DataFrame(columns=["gene_set", "reason"]), "S") is None
    empty = pd.DataFrame(columns=["gene_set", "nes", "fdr"])
    results = _lrt_results().reset_index()
    figure = running_sum_figure(
        results, None, empty, skipped, ["G1", "G2"], gene_set="S", contrast="lrt"
    )
    text = "\n".join(t.get_text() for t in figure.texts)
    assert "GSEA did not test this set." in text and "likelihood-ratio" in text
    assert not figure.axes  # no curve is drawn for a set GSEA did not test


def test_overview_counts_an_lrt_and_names_it_under_the_panels() -> None:
    summaries = pd.DataFrame(
        {"n_up": [5, 0], "n_down": [3, 0], "n_significant": [8, 20], "test": ["Wald", "LRT"]},
        index=["wald", "lrt"],
    )
    gsea = pd.DataFrame({"contrast": ["wald"], "gene_set": ["S"], "nes": [1.5], "fdr": [0.01]})
    wald = _lrt_results().assign(gene_name=["Gpx4"] + [f"G{i}" for i in range(1, 200)])
    figure = plot_overview(
        summaries, gsea, {"wald": wald, "lrt": _lrt_results()}, gene_sets=["S"],
        genes=["Gpx4"], lrt=["lrt"],
    )  # fmt: skip
    counts = figure.axes[0]
    assert "20 changed (LRT, no direction)" in {t.get_text() for t in counts.texts}
    assert any("leave out lrt" in t.get_text() for t in figure.texts)


def test_report_pages_of_an_lrt() -> None:
    results = _lrt_results().iloc[::-1]  # called genes last in the file
    shown = top_results(results, columns=["gene_id", "significant"])
    assert list(shown["significant"].iloc[:20]) == ["changed"] * 20
    ora = pd.DataFrame(
        {"direction": ["changed"], "collection": ["c"], "gene_set": ["A"], "overlap": [2],
         "pvalue": [0.01], "fdr": [0.02]}
    )  # fmt: skip
    pages = contrast_pages(results, ora, contrast="lrt")
    assert "likelihood-ratio test" in pages["results"]
    assert "over-representation of the changed genes" in pages["ora"]
    wald = contrast_pages(results.assign(test="Wald"), ora, contrast="w")
    assert "up and down genes" in wald["ora"]
    gsea = pd.DataFrame({"contrast": ["w"], "gene_set": ["A"], "nes": [1.0], "fdr": [0.1]})
    skipped = pd.DataFrame(
        {"contrast": ["w", "lrt", "lrt"], "gene_set": ["B", "A", "B"],
         "reason": ["too few", "not ranked: LRT", "not ranked: LRT"]}
    )  # fmt: skip
    assert not_ranked(gsea, skipped) == {"lrt": "not ranked: LRT"}
    assert not_ranked(gsea, None) == {}
