"""Figures: PCA numbers, what each figure draws and labels, and saving."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from sklearn.decomposition import PCA

from redoxseq.errors import InputError
from redoxseq.plots.contrasts import (
    Calling,
    plot_ma,
    plot_pvalue_histogram,
    plot_top_genes_heatmap,
    plot_volcano,
    significance_classes,
    top_called_genes,
)
from redoxseq.plots.enrichment import plot_gsea_nes, plot_ora, plot_running_sum, running_sum
from redoxseq.plots.labels import overlapping_pairs
from redoxseq.plots.qc import (
    compute_pca,
    plot_library_sizes,
    plot_pca,
    plot_read_assignment,
    plot_sample_distances,
)
from redoxseq.plots.style import save_figure
from redoxseq.plots.summary import (
    genes_of_interest_matrix,
    plot_de_gene_counts,
    plot_ssgsea_groups,
    plot_upset,
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
    classes = significance_classes(_results())
    assert classes.to_dict() == {"g1": "up", "g2": "ns", "g3": "ns", "g4": "down", "g5": "ns"}
    lrt = significance_classes(_results(), directional=False)
    assert lrt.to_dict() == {"g1": "called", "g2": "ns", "g3": "ns", "g4": "called", "g5": "ns"}


PADJ = Calling("padj < 0.03 and absolute log2FC > 1.58", 0.03, None, float(np.log2(3)))


def test_volcano_and_ma_plots_draw_every_tested_gene(tmp_path) -> None:
    volcano = plot_volcano(_results(), contrast="c", calling=PADJ, highlight={"Hmox1"})
    axes = volcano.axes[0]
    drawn = sum(len(c.get_offsets()) for c in axes.collections)
    assert drawn == 4 + 1  # four tested genes, plus the highlighted ring around Hmox1
    assert axes.get_ylabel() == "-log10 adjusted p-value"
    assert axes.get_xlabel() == "log2 fold change"
    # cutoff lines: padj and both fold-change cutoffs
    dashed = [line for line in axes.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 3
    on_p = plot_volcano(_results(), contrast="c", calling=Calling("p < 0.05", None, 0.05, 0.0))
    assert on_p.axes[0].get_ylabel() == "-log10 p-value"
    assert len([ln for ln in on_p.axes[0].get_lines() if ln.get_linestyle() == "--"]) == 1
    ma = plot_ma(_results(), contrast="c", calling=PADJ)
    assert "shrunken" in ma.axes[0].get_ylabel()
    save_figure(volcano, tmp_path / "v.svg")
    assert "Hmox1" in (tmp_path / "v.svg").read_text(encoding="utf-8")


def _many_genes(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lfc = rng.normal(0, 1.2, n)
    p = np.clip(10 ** (-np.abs(lfc) * rng.uniform(1, 8, n)), 1e-300, 1)
    names = [f"Gene{i}" for i in range(n)]
    for k, symbol in enumerate(["Gpx4", "Txn1", "Txnrd1", "Hmox1", "Fth1", "Taldo1", "Phgdh"]):
        names[k] = symbol
        lfc[k], p[k] = 2.0 + 0.05 * k, 1e-20 * (k + 1)  # crowded together on purpose
    names[7], lfc[7], p[7] = "Mafg", 0.1, 0.6  # a gene of interest that is not called
    padj = np.minimum(p * n / (np.argsort(np.argsort(p)) + 1), 1)
    calls = np.where(padj < 0.1, np.where(lfc > 0, "up", "down"), "")
    return pd.DataFrame(
        {"gene_name": names, "baseMean": rng.uniform(5, 5000, n), "log2FoldChange": lfc,
         "pvalue": p, "padj": padj, "significant": calls},
        index=[f"ENSG{i:05d}" for i in range(n)],
    )  # fmt: skip


def _label_texts(figure) -> list:
    axes = figure.axes[0]
    return [t for t in axes.texts if t.get_text()]


def test_volcano_names_every_gene_of_interest_without_overlap(tmp_path) -> None:
    goi = ["Gpx4", "Txn1", "Txnrd1", "Hmox1", "Fth1", "Taldo1", "Phgdh", "Mafg", "Absent1"]
    figure = plot_volcano(
        _many_genes(), contrast="c", calling=Calling("padj < 0.1", 0.1, None, 0.0),
        genes_of_interest=goi, label_top=15,
    )  # fmt: skip
    labels = _label_texts(figure)
    shown = {t.get_text() for t in labels}
    assert set(goi[:-1]) <= shown, set(goi[:-1]) - shown
    assert len(shown - set(goi)) >= 1, "top genes are labelled too"
    bold = {t.get_text() for t in labels if t.get_fontweight() == "bold"}
    assert "Gpx4" in bold and "Mafg" not in bold, "called genes of interest are emphasised"
    assert overlapping_pairs(labels, pad=0.0) == []
    # the legend sits outside the data axes
    FigureCanvasAgg(figure)
    renderer = figure.canvas.get_renderer()
    legend = figure.legends[0].get_window_extent(renderer)
    assert not legend.overlaps(figure.axes[0].get_window_extent(renderer))
    # the absent gene is named under the plot; the SVG carries every label as text
    assert any("Absent1" in t.get_text() for t in figure.texts)
    save_figure(figure, tmp_path / "v.svg")
    svg = tmp_path.joinpath("v.svg").read_text(encoding="utf-8")
    texts = set(re.findall(r">([^<>]+)</text>", svg))
    assert set(goi[:-1]) <= texts


def test_lrt_volcano_makes_no_direction_claim() -> None:
    calling = Calling("padj < 0.1", 0.1, None, 0.0, test="LRT")
    figure = plot_volcano(_many_genes(400), contrast="c", calling=calling)
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert not any(t.startswith(("up", "down")) for t in legend)
    assert "no direction" in figure.axes[0].get_xlabel()


def test_pvalue_histogram_separates_filtered_genes() -> None:
    figure = plot_pvalue_histogram(_results(), contrast="c")
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels == ["tested (4)", "filtered, low mean (1)"]
    assert figure.axes[0].get_xlabel() == "p-value (Wald test)"


def test_top_genes_heatmap_shows_the_called_genes_clustered(expression, sheet) -> None:
    results = pd.DataFrame(
        {"gene_name": [f"S{i}" for i in range(300)], "log2FoldChange": 1.0,
         "padj": np.linspace(1e-6, 0.5, 300),
         "significant": ["up"] * 30 + [""] * 270},
        index=expression.index,
    )  # fmt: skip
    genes, called = top_called_genes(results, n=50)
    assert called and genes == list(expression.index[:30])
    figure = plot_top_genes_heatmap(expression, sheet, results, contrast="c", group_by=["group"])
    heat = max(figure.axes, key=lambda a: len(a.get_yticklabels()))
    assert {t.get_text() for t in heat.get_yticklabels()} == {f"S{i}" for i in range(30)}
    columns = [t.get_text() for t in heat.get_xticklabels()]
    # clustering keeps the two simulated groups apart
    groups = [sheet.at[c, "group"] for c in columns]
    assert groups in (["a"] * 4 + ["b"] * 4, ["b"] * 4 + ["a"] * 4)
    assert "group" in [t.get_text() for t in figure.legends[0].get_texts()]


def test_running_sum_peaks_where_the_set_sits() -> None:
    ranking = pd.Series(np.linspace(3, -3, 100), index=[f"G{i}" for i in range(100)])
    top = [f"G{i}" for i in range(10)]
    scores = running_sum(ranking, top)
    assert scores.argmax() == 9 and scores[9] == pytest.approx(1.0)
    assert scores[-1] == pytest.approx(0.0, abs=1e-12)
    figure = plot_running_sum(ranking, top, gene_set="S", contrast="c", nes=2.0, fdr=0.01)
    assert "NES 2.00" in figure.axes[0].get_title(loc="left")
    with pytest.raises(InputError, match="0 of 100"):
        running_sum(ranking, ["nope"])


def test_summary_plots_accept_their_tables() -> None:
    summary = pd.DataFrame(
        {"a": [90, 5, 5], "b": [80, 10, 10]}, index=["Assigned", "Unassigned_NoFeatures", "x"]
    )
    assert plot_read_assignment(summary).axes
    gsea = pd.DataFrame(
        {"contrast": ["c1", "c2"], "gene_set": ["NRF2", "NRF2"], "nes": [2.1, -0.3],
         "fdr": [0.001, 0.8]}
    )  # fmt: skip
    figure = plot_gsea_nes(gsea)
    assert figure.legends and any(a.get_ylabel() == "NES" for a in figure.axes)
    twice = pd.DataFrame(
        {"contrast": ["c1", "c1"], "collection": ["nrf2", "hallmark"],
         "gene_set": ["HALLMARK_ROS", "HALLMARK_ROS"], "nes": [1.9, 1.9], "fdr": [0.001, 0.01]}
    )  # fmt: skip
    labels = [t.get_text() for t in plot_gsea_nes(twice).axes[0].get_yticklabels()]
    assert labels == ["HALLMARK_ROS [nrf2]", "HALLMARK_ROS [hallmark]"]
    counts = plot_de_gene_counts(
        pd.DataFrame({"n_up": [5, 0], "n_down": [3, 7]}, index=["c1", "c2"])
    )
    texts = {t.get_text() for t in counts.axes[0].texts}
    assert {"5", "3", "0", "7"} <= texts
    ora = pd.DataFrame(
        {"direction": ["up", "down"], "gene_set": ["A", "B"], "overlap": [3, 2],
         "n_list": [10, 8], "pvalue": [0.001, 0.2], "fdr": [0.01, 0.4]}
    )  # fmt: skip
    panels = [a for a in plot_ora(ora, contrast="c").axes if a.get_title(loc="left")]
    assert [a.get_title(loc="left") for a in panels] == [
        "up genes (n = 10): 1 set at FDR < 0.05",
        "down genes (n = 8): no set at FDR < 0.05",
    ]
    # the set that does not pass is faded, the one that passes is not
    alphas = [panel.collections[0].get_alpha() for panel in panels]
    assert [float(np.ravel(a)[0]) for a in alphas] == [1.0, 0.35]


def test_genes_of_interest_matrix_takes_the_best_row_per_symbol() -> None:
    table = _results()
    lfc, calls = genes_of_interest_matrix({"c": table}, ["Gpx4", "Hmox1", "Nope"])
    assert list(lfc.index) == ["Gpx4", "Hmox1"]
    assert lfc.loc["Hmox1", "c"] == 2.5 and calls.loc["Hmox1", "c"] == "up"


@pytest.mark.parametrize("layout", ["pairs", "contrasts"])
def test_ssgsea_groups_reads_both_comparison_layouts(layout) -> None:
    scores = pd.DataFrame(
        {"gene_set": "NRF2", "sample": [f"s{i}" for i in range(6)],
         "es": [1.0, 1.1, 0.9, 3.0, 3.2, 2.9]}
    )  # fmt: skip
    groups = {f"s{i}": ("a" if i < 3 else "b") for i in range(6)}
    if layout == "pairs":
        comparison = pd.DataFrame({"gene_set": ["NRF2"], "group_a": ["a"], "group_b": ["b"],
                                   "pvalue": [0.001], "fdr": [0.002]})  # fmt: skip
        expected = "a vs b: p = 0.001, FDR = 0.002"
    else:
        comparison = pd.DataFrame(
            {"contrast": ["b_vs_a"], "collection": ["nrf2"], "gene_set": ["NRF2"],
             "numerator": ["b"], "denominator": ["a"], "difference": [2.0],
             "statistic": [9.0], "pvalue": [0.001], "fdr": [0.002]}
        )  # fmt: skip
        expected = "b_vs_a: p = 0.001, FDR = 0.002"
    figure = plot_ssgsea_groups(scores, comparison, groups, gene_sets=["NRF2", "ABSENT"])
    assert expected in "\n".join(t.get_text() for t in figure.texts)
    assert figure.axes[0].get_ylabel() == "ssGSEA score"


def test_upset_intersections_are_exclusive_and_complete() -> None:
    sets = {"a_up": {"g1", "g2", "g3"}, "b_up": {"g2", "g3", "g4"}, "c_down": {"g5"}}
    table = upset_intersections(sets)
    as_dict = {
        tuple(name for name in sets if row[name]): int(row["size"]) for _, row in table.iterrows()
    }
    assert as_dict == {("a_up",): 1, ("a_up", "b_up"): 2, ("b_up",): 1, ("c_down",): 1}
    assert table["size"].sum() == len(set().union(*sets.values()))
    assert list(table["size"]) == sorted(table["size"], reverse=True)


def test_upset_set_names_are_readable() -> None:
    sets = {"long_contrast_name_number_one up": {"g1", "g2"},
            "long_contrast_name_number_one down": {"g3"},
            "other down": {"g2", "g4"}, "empty up": set()}  # fmt: skip
    figure = plot_upset(sets, title="t")
    FigureCanvasAgg(figure)
    renderer = figure.canvas.get_renderer()
    names = [t for a in figure.axes for t in a.get_yticklabels() if t.get_text() in sets]
    assert {t.get_text() for t in names} == set(list(sets)[:3])
    boxes = [t.get_window_extent(renderer) for t in names]
    for axes in figure.axes:
        if axes.get_xlabel() == "list size":
            bars = axes.get_window_extent(renderer)
            assert all(not bars.overlaps(box) for box in boxes)
    assert "empty up" in figure.texts[-1].get_text() or any(
        "empty up" in t.get_text() for t in figure.texts
    )


def test_genes_of_interest_are_mapped_to_human_and_sets_checked() -> None:
    from redoxseq.errors import ConfigError
    from redoxseq.plots.choices import resolve_plot_choices
    from tests.conftest import REPO

    library = REPO / "resources" / "genesets"
    gmts = {c: str(library / "human" / f"{c}.gmt") for c in ("nrf2", "ferroptosis")}
    plots = {
        "genes_of_interest": ["Gpx4", "Txn1", "NotAGene", "REDOXSEQ_FERROPTOSIS_SUPPRESSORS"],
        "genes_of_interest_species": "mouse",
        "gene_sets_of_interest": ["REDOXSEQ_NRF2_CORE_TARGETS", "WP_FERROPTOSIS"],
        "highlight_gene_sets": [],
    }
    choices = resolve_plot_choices(plots, "human", gmts)
    assert choices.genes_of_interest[:2] == ["GPX4", "TXN"]  # an ortholog, not a case change
    assert "NotAGene" not in choices.genes_of_interest
    assert any("NotAGene" in note for note in choices.notes)
    assert len(choices.genes_of_interest) > 3, "a gene-set name stands for its genes"
    assert choices.gene_set_collections == {
        "REDOXSEQ_NRF2_CORE_TARGETS": "nrf2",
        "WP_FERROPTOSIS": "ferroptosis",
    }
    with pytest.raises(ConfigError, match=r"plots.gene_sets_of_interest.*'NOPE'"):
        resolve_plot_choices({**plots, "gene_sets_of_interest": ["NOPE"]}, "human", gmts)


def _tick_label_boxes(figure, axis: str) -> list:  # type: ignore[no-untyped-def]
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = []
    for axes in figure.axes:
        ticks = axes.get_xticklabels() if axis == "x" else axes.get_yticklabels()
        boxes += [t.get_window_extent(renderer) for t in ticks if t.get_text()]
    return boxes


@pytest.mark.parametrize("n_samples", [12, 48, 96])
def test_sample_names_never_overlap_and_give_way_to_the_count(n_samples: int) -> None:
    """Bar charts and heatmaps name each sample while the names fit; past that, the count."""
    rng = np.random.default_rng(n_samples)
    samples = [f"resistant_sorafenib_{i}" for i in range(n_samples)]
    sheet = pd.DataFrame({"group": (["a", "b"] * n_samples)[:n_samples]}, index=samples)
    counts = pd.DataFrame(rng.poisson(50, size=(200, n_samples)), columns=samples)
    summary = pd.DataFrame(
        rng.integers(100, 1000, size=(3, n_samples)),
        index=["Assigned", "Unassigned_NoFeatures", "Unassigned_Ambiguity"],
        columns=samples,
    )
    expression = pd.DataFrame(rng.normal(8, 1, size=(200, n_samples)), columns=samples)
    figures = {
        "library sizes": plot_library_sizes(counts, sheet, group_by=["group"]),
        "read assignment": plot_read_assignment(summary),
        "sample distances": plot_sample_distances(expression, sheet, group_by=["group"]),
    }
    for name, figure in figures.items():
        boxes = _tick_label_boxes(figure, "x")
        names_shown = len(boxes) > 0
        overlaps = [(a, b) for a, b in itertools.pairwise(boxes) if a.overlaps(b)]
        assert not overlaps, (name, n_samples, len(overlaps))
        xlabels = " ".join(axes.get_xlabel() for axes in figure.axes)
        if not names_shown:
            assert f"{n_samples} samples" in xlabels, (name, xlabels)
        if n_samples <= 48:
            assert names_shown, (name, n_samples)


def test_overview_names_the_contrasts_under_panels_b_and_c() -> None:
    from redoxseq.plots.summary import plot_overview

    contrasts = ["resistant_vs_sensitive", "sorafenib_response_resistant_vs_sensitive"]
    summaries = pd.DataFrame({"n_up": [5, 2], "n_down": [3, 1]}, index=contrasts)
    gsea = pd.DataFrame(
        {"contrast": contrasts * 2, "gene_set": ["S1", "S1", "S2", "S2"],
         "nes": [1.5, -1.0, 0.4, 2.0], "fdr": [0.01, 0.2, 0.5, 0.001]}
    )  # fmt: skip
    results = {c: _results() for c in contrasts}
    figure = plot_overview(
        summaries, gsea, results, gene_sets=["S1", "S2"], genes=["Hmox1", "Gpx4"]
    )
    heatmaps = [a for a in figure.axes if a.images]
    assert len(heatmaps) == 2  # B (NES) and C (log2FC)
    renderer = FigureCanvasAgg(figure).get_renderer()
    for axes in heatmaps:
        assert [t.get_text() for t in axes.get_xticklabels()] == contrasts
        assert all(t.get_visible() for t in axes.get_xticklabels())
    # B's column names sit between B and C's title, overlapping neither
    b, c = sorted(heatmaps, key=lambda a: -a.get_position().y0)
    names = [t.get_window_extent(renderer) for t in b.get_xticklabels()]
    title = c.title.get_window_extent(renderer)
    assert all(not n.overlaps(title) and n.y0 > title.y1 for n in names)
    assert all(not n.overlaps(c.get_window_extent(renderer)) for n in names)


def test_past_the_names_runs_of_a_group_are_bracketed_and_named() -> None:
    """At 96 samples the names give way to the count; consecutive groups are still named."""
    from redoxseq.plots.qc import plot_strandedness

    n_samples = 96
    groups = ["sensitive vehicle", "sensitive sorafenib", "resistant vehicle", "resistant x"]
    samples = [f"sample_{i}" for i in range(n_samples)]
    sheet = pd.DataFrame({"group": np.repeat(groups, n_samples // 4)}, index=samples)
    rng = np.random.default_rng(1)
    summary = pd.DataFrame(
        rng.integers(100, 1000, size=(2, n_samples)),
        index=["Assigned", "Unassigned_NoFeatures"],
        columns=samples,
    )
    strandedness = pd.DataFrame(
        {"fraction_forward": rng.uniform(0, 0.05, n_samples), "chosen": "reverse"}, index=samples
    )
    counts = pd.DataFrame(rng.poisson(50, size=(200, n_samples)), columns=samples)
    figures = {
        "read assignment": plot_read_assignment(summary, sheet, group_by=["group"]),
        "strandedness": plot_strandedness(strandedness, sheet, group_by=["group"]),
        "library sizes": plot_library_sizes(counts, sheet, group_by=["group"]),
        # an interleaved sheet has too many runs to name
        "interleaved": plot_read_assignment(
            summary, sheet.assign(group=(groups * n_samples)[:n_samples]), group_by=["group"]
        ),
    }
    for name, figure in figures.items():
        renderer = FigureCanvasAgg(figure).get_renderer()
        axes = figure.axes[-1]
        named = [t for t in axes.texts if t.get_text() in groups]
        assert f"{n_samples} samples" in axes.get_xlabel(), name
        if name == "interleaved":
            assert not named
            continue
        assert [t.get_text() for t in named] == groups, name
        boxes = [t.get_window_extent(renderer) for t in named]
        boxes.append(axes.xaxis.label.get_window_extent(renderer))
        overlaps = [(a, b) for a, b in itertools.combinations(boxes, 2) if a.overlaps(b)]
        assert not overlaps, name


def _crossed_lines(figure) -> list[tuple[str, float]]:
    """(label, line position) pairs where a label's box lies across a horizontal or vertical
    reference line of the first axes (display coordinates)."""
    axes = figure.axes[0]
    renderer = FigureCanvasAgg(figure).get_renderer()
    crossed = []
    for line in axes.get_lines():
        xs, ys = line.get_xydata().T
        transform = axes.transData
        for text in _label_texts(figure):
            box = text.get_window_extent(renderer)
            if np.all(ys == ys[0]) and line.get_transform() != transform:  # axhline
                level = transform.transform((1.0, ys[0]))[1]
                if box.y0 < level < box.y1:
                    crossed.append((text.get_text(), float(ys[0])))
            elif np.all(xs == xs[0]) and line.get_transform() != transform:  # axvline
                level = transform.transform((xs[0], 1.0))[0]
                if box.x0 < level < box.x1:
                    crossed.append((text.get_text(), float(xs[0])))
    return crossed


def test_labels_are_not_set_across_cutoff_or_zero_lines() -> None:
    """A gene of interest sitting on a cutoff or zero line gets its label off the line."""
    results = _many_genes()
    # Mafg just above the padj cutoff (volcano) and just off log2FC 0 (MA plot)
    results.loc["ENSG00007", ["log2FoldChange", "padj", "pvalue"]] = [0.05, 0.09, 0.01]
    # Slc7a11 beside the |log2FC| > 1 cutoff line
    slc7a11 = ["Slc7a11", 1.02, 1e-3, 1e-4]
    results.loc["ENSG00008", ["gene_name", "log2FoldChange", "padj", "pvalue"]] = slc7a11
    calling = Calling("padj < 0.1 and |log2FC| > 1", 0.1, None, 1.0)
    goi = ["Gpx4", "Txn1", "Hmox1", "Mafg", "Slc7a11"]
    volcano = plot_volcano(results, contrast="c", calling=calling, genes_of_interest=goi)
    assert len([ln for ln in volcano.axes[0].get_lines() if ln.get_linestyle() == "--"]) == 3
    assert _crossed_lines(volcano) == []
    ma = plot_ma(results, contrast="c", calling=calling, genes_of_interest=goi)
    assert {t.get_text() for t in _label_texts(ma)} >= {"Mafg", "Slc7a11"}
    assert _crossed_lines(ma) == []


def test_label_point_shifts_are_adjusttexts_own() -> None:
    """The linear pair intersection gives adjustText's shifts, number for number."""
    import adjustText

    from redoxseq.plots.labels import _shifts_off_points

    rng = np.random.default_rng(7)
    cases = 0
    for n_texts, n_points, spread in [(1, 1, 5), (12, 400, 30), (30, 400, 8), (5, 50, 500)]:
        for _ in range(10):
            lo = rng.uniform(0, spread, (n_texts, 2))
            texts = np.column_stack([lo[:, 0], lo[:, 0] + 3, lo[:, 1], lo[:, 1] + 1])
            centre = rng.uniform(0, spread, (n_points, 2))
            points = np.column_stack(
                [centre[:, 0] - 0.2, centre[:, 0] + 0.2, centre[:, 1] - 0.2, centre[:, 1] + 0.2]
            )
            ours = _shifts_off_points(texts, points)
            theirs = adjustText.get_shifts_extra(texts, points)  # unpatched outside labels
            assert all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))
            cases += bool(np.any(theirs[0]))
    assert cases >= 20  # most cases had labels on points, not only the zero shortcut


def test_labels_land_where_adjusttexts_own_code_puts_them(monkeypatch) -> None:
    import contextlib

    from redoxseq.plots import labels as labels_module

    def positions() -> list[tuple[str, tuple[float, float]]]:
        figure = plot_volcano(
            _many_genes(), contrast="c", calling=Calling("padj < 0.1", 0.1, None, 0.0),
            genes_of_interest=["Gpx4", "Txn1", "Txnrd1", "Hmox1", "Fth1"], label_top=15,
        )  # fmt: skip
        return [(t.get_text(), t.get_position()) for t in _label_texts(figure)]

    fast = positions()
    monkeypatch.setattr(labels_module, "_fast_point_shifts", contextlib.nullcontext)
    assert positions() == fast
