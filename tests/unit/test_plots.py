"""Figures: PCA numerics against scikit-learn, deterministic files, thresholds drawn right."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from redoxseq.errors import InputError
from redoxseq.plots.figures import (
    _significance_classes,
    compute_pca,
    plot_assignment_summary,
    plot_gsea_summary,
    plot_heatmap,
    plot_ma,
    plot_pca,
    plot_upset,
    plot_volcano,
    save_figure,
    upset_intersections,
)


@pytest.fixture()
def expression() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    values = rng.normal(8.0, 0.3, size=(300, 8))
    values[:40, 4:] += 2.0  # 40 genes separate two groups of 4 samples
    samples = [f"s{i}" for i in range(8)]
    return pd.DataFrame(values, index=[f"g{i:03d}" for i in range(300)], columns=samples)


@pytest.fixture()
def sheet() -> pd.DataFrame:
    return pd.DataFrame(
        {"group": ["a"] * 4 + ["b"] * 4, "batch": ["x", "y"] * 4},
        index=[f"s{i}" for i in range(8)],
    )


def test_pca_matches_scikit_learn_on_the_most_variable_genes(expression) -> None:
    result = compute_pca(expression, top_genes=50)
    variances = expression.var(axis=1, ddof=1)
    assert set(result.genes_used) == set(variances.nlargest(50).index)
    reference = PCA().fit(expression.loc[result.genes_used].T.to_numpy())
    scores = reference.transform(expression.loc[result.genes_used].T.to_numpy())
    for k in range(3):
        ours = result.coordinates[f"PC{k + 1}"].to_numpy()
        theirs = scores[:, k]
        sign = np.sign(ours @ theirs)
        np.testing.assert_allclose(ours, sign * theirs, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        result.explained_variance_ratio.to_numpy()[:5],
        reference.explained_variance_ratio_[:5],
        rtol=1e-9,
    )


def test_pca_first_component_separates_the_simulated_groups(expression) -> None:
    pc1 = compute_pca(expression, top_genes=500).coordinates["PC1"]
    first, second = pc1.iloc[:4], pc1.iloc[4:]
    assert first.max() < second.min() or second.max() < first.min()


def test_pca_needs_two_samples(expression) -> None:
    with pytest.raises(InputError, match="at least 2 samples"):
        compute_pca(expression.iloc[:, :1])


def test_pca_plot_rejects_unknown_column(expression, sheet) -> None:
    with pytest.raises(InputError, match=r"'cell_line' not found"):
        plot_pca(compute_pca(expression), sheet, color_by="cell_line")


@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_saved_figures_are_byte_identical_on_rerun(tmp_path, expression, sheet, suffix) -> None:
    paths = [tmp_path / f"first.{suffix}", tmp_path / f"second.{suffix}"]
    for path in paths:
        figure = plot_pca(compute_pca(expression), sheet, color_by="group", shape_by="batch")
        save_figure(figure, path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file may be left behind"


def _results() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gene_name": ["Hmox1", "Gpx4", "Actb", "Low", "Filtered"],
            "baseMean": [500.0, 300.0, 1000.0, 2.0, 0.5],
            "log2FoldChange": [2.5, 1.2, 0.05, -3.0, 4.0],
            "log2FoldChange_shrunk": [2.4, 1.1, 0.04, -0.5, np.nan],
            "pvalue": [1e-22, 0.001, 0.5, 1e-4, 0.01],
            "padj": [1e-20, 0.02, 0.9, 0.001, np.nan],
            "significant": ["up", "", "", "down", np.nan],
        },
        index=["g1", "g2", "g3", "g4", "g5"],
    )


def test_colours_follow_the_contrast_calls_not_a_recomputed_rule() -> None:
    classes = _significance_classes(_results())
    assert classes.to_dict() == {"g1": "up", "g2": "ns", "g3": "ns", "g4": "down", "g5": "ns"}


def test_volcano_and_ma_plots_draw_every_tested_gene(tmp_path) -> None:
    volcano = plot_volcano(
        _results(),
        contrast="c",
        significance="padj < 0.03 and |log2FC| > 1.58",
        padj_cutoff=0.03,
        pvalue_cutoff=None,
        lfc_cutoff=float(np.log2(3)),
        highlight={"Hmox1"},
    )
    drawn = sum(len(collection.get_offsets()) for collection in volcano.axes[0].collections)
    assert drawn == 4 + 1  # four tested genes, plus the highlighted ring around Hmox1
    assert volcano.axes[0].get_ylabel() == "-log10 adjusted p-value"
    on_p = plot_volcano(
        _results(),
        contrast="c",
        significance="p < 0.05 and |log2FC| > 1",
        padj_cutoff=None,
        pvalue_cutoff=0.05,
        lfc_cutoff=1.0,
    )
    assert on_p.axes[0].get_ylabel() == "-log10 p-value"
    ma = plot_ma(_results(), contrast="c")
    assert len(ma.axes) == 2, "a shrunken panel is drawn when shrunk fold changes exist"
    save_figure(volcano, tmp_path / "v.svg")
    assert "Hmox1" in (tmp_path / "v.svg").read_text(encoding="utf-8")


def test_summary_plots_accept_their_tables() -> None:
    summary = pd.DataFrame(
        {"a": [90, 5, 5], "b": [80, 10, 10]}, index=["Assigned", "Unassigned_NoFeatures", "x"]
    )
    assert plot_assignment_summary(summary).axes
    gsea = pd.DataFrame(
        {
            "contrast": ["c1", "c2"],
            "gene_set": ["NRF2", "NRF2"],
            "nes": [2.1, -0.3],
            "fdr": [0.001, 0.8],
        }
    )
    assert plot_gsea_summary(gsea).axes
    twice = pd.DataFrame(
        {
            "contrast": ["c1", "c1"],
            "collection": ["nrf2", "hallmark"],
            "gene_set": ["HALLMARK_ROS", "HALLMARK_ROS"],
            "nes": [1.9, 1.9],
            "fdr": [0.001, 0.01],
        }
    )
    labels = [t.get_text() for t in plot_gsea_summary(twice).axes[0].get_yticklabels()]
    assert labels == ["HALLMARK_ROS [nrf2]", "HALLMARK_ROS [hallmark]"]


def test_upset_intersections_are_exclusive_and_complete() -> None:
    sets = {"a_up": {"g1", "g2", "g3"}, "b_up": {"g2", "g3", "g4"}, "c_down": {"g5"}}
    table = upset_intersections(sets)
    as_dict = {
        tuple(name for name in sets if row[name]): int(row["size"]) for _, row in table.iterrows()
    }
    assert as_dict == {("a_up",): 1, ("a_up", "b_up"): 2, ("b_up",): 1, ("c_down",): 1}
    assert table["size"].sum() == len(set().union(*sets.values()))
    assert list(table["size"]) == sorted(table["size"], reverse=True)
    assert plot_upset(sets, title="t").axes


def test_heatmap_orders_samples_by_group_and_skips_absent_genes(expression, sheet) -> None:
    figure = plot_heatmap(
        expression,
        sheet,
        genes=["g000", "g001", "missing"],
        gene_names=pd.Series({"g000": "Hmox1"}),
        group_by=["batch"],
        title="t",
    )
    axes = figure.axes[0]
    assert [label.get_text() for label in axes.get_yticklabels()] == ["Hmox1", "g001"]
    columns = [label.get_text() for label in axes.get_xticklabels()]
    assert columns == ["s0", "s2", "s4", "s6", "s1", "s3", "s5", "s7"]
    with pytest.raises(InputError, match="none of the 1 genes"):
        plot_heatmap(
            expression,
            sheet,
            genes=["nope"],
            gene_names=pd.Series(dtype=str),
            group_by=[],
            title="t",
        )
