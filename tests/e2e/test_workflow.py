"""End to end: the whole workflow on the bundled sample experiment, checked against its truth.

One Snakemake run (module-scoped, in a temporary directory) feeds every test here. The truth
table was written by the simulator from the simulated group means, so these checks ask whether
the pipeline recovers the biology that was put in, not whether it reproduces its own output.
"""

from __future__ import annotations

import hashlib
import html
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import REPO
from tests.e2e.conftest import input_digests, run_snakemake

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SAMPLE = REPO / "resources" / "sample_experiment"
# The Wald contrasts of config/config.yaml (each has a truth column) and its likelihood-ratio
# test of the interaction as a whole (no direction; its truth is the interaction's).
WALD_CONTRASTS = [
    "resistant_vs_sensitive",
    "sorafenib_vs_vehicle_in_sensitive",
    "sorafenib_vs_vehicle_in_resistant",
    "sorafenib_response_resistant_vs_sensitive",
]
LRT_CONTRAST = "interaction_lrt"
CONTRASTS = [*WALD_CONTRASTS, LRT_CONTRAST]


def _snakemake(work: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return run_snakemake(work, *arguments)


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def finished_run(finished_project: Path) -> Path:
    """A project folder in which the default workflow ran (README's first command)."""
    return finished_project


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "truth.tsv", sep="\t", index_col="gene_id")


def _results(work: Path, contrast: str) -> pd.DataFrame:
    return pd.read_csv(
        work / "results" / "deseq2" / f"{contrast}.results.tsv", sep="\t", index_col="gene_id"
    )


# The figure layout of issue 10 / config/README.md: folder -> file stems.
QC_FIGURES = [
    "library_sizes",
    "read_assignment",
    "strandedness",
    "sample_distances",
    "pca",
    "pca_scree",
    "dispersion",
]
CONTRAST_FIGURES = [
    "volcano",
    "ma",
    "pvalue_histogram",
    "top_genes_heatmap",
    "gsea_running_sum.REDOXSEQ_NRF2_CORE_TARGETS",
    "gsea_running_sum.WP_FERROPTOSIS",
    "ora",
]
SUMMARY_FIGURES = [
    "de_gene_counts",
    "de_genes_upset",
    "gsea_nes",
    "genes_of_interest",
    "ssgsea_heatmap",
    "ssgsea_groups",
    "overview",
]
GENES_OF_INTEREST = [
    "Gpx4", "Txn1", "Txnrd1", "Hmox1", "Fth1", "Taldo1", "Phgdh", "Mafg", "Slc7a11", "Nqo1",
    "Gclm",
]  # fmt: skip


def figure_stems() -> list[str]:
    """Every figure of the layout, as a path without extension below results/figures/."""
    stems = [f"qc/{stem}" for stem in QC_FIGURES]
    stems += [f"contrasts/{c}/{stem}" for c in CONTRASTS for stem in CONTRAST_FIGURES]
    return stems + [f"summary/{stem}" for stem in SUMMARY_FIGURES]


def test_report_and_every_final_output_exist(finished_run: Path) -> None:
    report = finished_run / "results" / "report.html"
    assert 100_000 < report.stat().st_size < 25_000_000, report.stat().st_size
    figures = finished_run / "results" / "figures"
    for stem in figure_stems():
        for ext in ("svg", "pdf", "png"):
            path = figures / f"{stem}.{ext}"
            assert path.stat().st_size > 1000, path
    assert not list((finished_run / "results").rglob("*.tmp")), "half-written files left behind"


def test_volcano_of_resistant_vs_sensitive_names_every_gene_of_interest(finished_run) -> None:
    import re

    svg = (finished_run / "results/figures/contrasts/resistant_vs_sensitive/volcano.svg").read_text(
        encoding="utf-8"
    )
    texts = set(re.findall(r">([^<>]+)</text>", svg))
    assert set(GENES_OF_INTEREST) <= texts, set(GENES_OF_INTEREST) - texts
    assert {"log2 fold change", "-log10 adjusted p-value"} <= texts
    assert any(t.startswith("genes of interest") for t in texts), "legend entry"


def test_rerun_after_a_finished_run_does_nothing(finished_run: Path) -> None:
    result = _snakemake(finished_run, "-n", "--cores", "2")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Nothing to be done" in output, output[-3000:]


def test_inputs_are_not_modified(finished_run: Path) -> None:
    before = json.loads((finished_run.parent / "inputs.sha256.json").read_text())
    assert input_digests(finished_run) == before, "the run modified or added input files"


def test_nrf2_targets_are_significantly_up_in_resistant_cells(finished_run, truth) -> None:
    results = _results(finished_run, "resistant_vs_sensitive")
    targets = truth.index[truth["category"] == "nrf2_target"]
    assert len(targets) >= 20
    called = results.loc[targets]
    up = (called["padj"] < 0.05) & (called["log2FoldChange"] > 0)
    assert up.all(), called.loc[~up, ["gene_name", "log2FoldChange", "padj"]]
    named = {"Gpx4", "Txn1", "Txnrd1", "Hmox1", "Fth1", "Taldo1", "Phgdh", "Mafg"}
    assert named <= set(called["gene_name"])


@pytest.mark.parametrize("contrast", WALD_CONTRASTS)
def test_calls_agree_with_the_truth(finished_run, truth, contrast) -> None:
    results = _results(finished_run, contrast)
    true_lfc = truth[f"lfc_{contrast}"].reindex(results.index)
    assert true_lfc.notna().all(), "every counted gene has a truth row"
    called = results["padj"] < 0.05
    truly_changed = true_lfc.abs() >= 1
    recall = (called & truly_changed).sum() / truly_changed.sum()
    false_calls = (called & (true_lfc == 0)).sum()
    fdp = false_calls / max(called.sum(), 1)
    assert truly_changed.sum() >= 20, "the contrast must have real changes to find"
    assert recall >= 0.90, f"{contrast}: recall {recall:.3f} of {truly_changed.sum()} genes"
    assert fdp <= 0.10, f"{contrast}: false-discovery proportion {fdp:.3f} ({false_calls} calls)"
    # Direction: every called, truly changed gene is called in the true direction.
    both = called & truly_changed
    assert (np.sign(results.loc[both, "log2FoldChange"]) == np.sign(true_lfc[both])).all()


def test_lrt_of_the_interaction_finds_the_simulated_interaction_genes(finished_run, truth) -> None:
    """The LRT (full vs ~ cell_line + treatment) calls the genes whose sorafenib response the
    simulator made differ between the cell lines, with no direction (``changed``)."""
    results = _results(finished_run, LRT_CONTRAST)
    assert set(results["test"]) == {"LRT"}
    assert set(results["significant"].dropna()) == {"changed"}
    true_lfc = truth["lfc_sorafenib_response_resistant_vs_sensitive"].reindex(results.index)
    called = results["padj"] < 0.05
    truly_changed = true_lfc.abs() >= 1
    recall = (called & truly_changed).sum() / truly_changed.sum()
    fdp = (called & (true_lfc == 0)).sum() / max(called.sum(), 1)
    assert truly_changed.sum() >= 20
    assert recall >= 0.90, f"LRT recall {recall:.3f} of {truly_changed.sum()} genes"
    assert fdp <= 0.10, f"LRT false-discovery proportion {fdp:.3f}"
    # the up / down lists of an LRT are empty: its calls have no direction
    for direction in ("up", "down"):
        path = finished_run / "results" / "deseq2" / f"{LRT_CONTRAST}.{direction}.tsv"
        assert pd.read_csv(path, sep="\t").empty, path


def test_lrt_figures_make_no_direction_claim(finished_run) -> None:
    import re

    folder = finished_run / "results" / "figures"

    def texts(stem: str) -> set[str]:
        svg = (folder / f"{stem}.svg").read_text(encoding="utf-8")
        return set(re.findall(r">([^<>]+)</text>", svg))

    volcano = texts(f"contrasts/{LRT_CONTRAST}/volcano")
    assert not any(t.startswith(("up (", "down (")) for t in volcano), volcano
    assert any(t.startswith("called (LRT)") for t in volcano)
    # the x axis names the coefficient R reports for an LRT
    assert any("cell_line[T.resistant]:treatment[T.sorafenib]" in t for t in volcano)
    # GSEA does not rank an LRT: the running-sum figures say so instead of drawing a curve
    for gene_set in ("REDOXSEQ_NRF2_CORE_TARGETS", "WP_FERROPTOSIS"):
        shown = texts(f"contrasts/{LRT_CONTRAST}/gsea_running_sum.{gene_set}")
        assert "GSEA did not test this set." in shown, shown
        assert not any("running" in t for t in shown)
    ora = texts(f"contrasts/{LRT_CONTRAST}/ora")
    assert any(t.startswith("changed genes (LRT, no direction") for t in ora), ora
    assert not any(t.startswith(("up genes", "down genes")) for t in ora)
    counts = texts("summary/de_gene_counts")
    lrt_calls = int((_results(finished_run, LRT_CONTRAST)["significant"] == "changed").sum())
    assert f"{lrt_calls:,} changed (LRT, no direction)" in counts
    upset = pd.read_csv(folder / "summary" / "de_genes_upset.intersections.tsv", sep="\t")
    assert f"{LRT_CONTRAST} changed" in upset.columns
    assert f"{LRT_CONTRAST} up" not in upset.columns
    assert any(LRT_CONTRAST in t for t in texts("summary/gsea_nes"))


def test_nrf2_gene_set_is_enriched_in_resistant_cells(finished_run) -> None:
    tables = sorted((finished_run / "results" / "gsea").glob("resistant_vs_sensitive.*.gsea.tsv"))
    assert tables, "no GSEA table for resistant_vs_sensitive"
    gsea = pd.concat([pd.read_csv(path, sep="\t") for path in tables])
    nrf2 = gsea[gsea["gene_set"].str.contains("NRF2|NFE2L2", case=False, regex=True)]
    assert not nrf2.empty
    best = nrf2.sort_values("fdr").iloc[0]
    assert best["nes"] > 0 and best["fdr"] < 0.05, nrf2[["gene_set", "nes", "fdr"]]


def test_nrf2_leading_edge_holds_the_simulated_targets(finished_run, truth) -> None:
    gsea = pd.read_csv(
        finished_run / "results" / "gsea" / "resistant_vs_sensitive.nrf2.gsea.tsv", sep="\t"
    ).set_index("gene_set")
    core = gsea.loc["REDOXSEQ_NRF2_CORE_TARGETS"]
    assert core["nes"] > 0 and core["fdr"] < 0.05
    leading_edge = set(core["leading_edge"].split(";"))
    targets = set(truth.loc[truth["category"] == "nrf2_target", "gene_name"])
    # Every leading-edge gene is a simulated NRF2 target, and most measured targets lead.
    assert leading_edge <= targets, leading_edge - targets
    assert len(leading_edge) >= 0.8 * core["n_measured"]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        *extra,
        "--dump-dom",
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=180)


def _report_results(report: Path) -> dict:
    """The report's embedded result records (path -> name, caption, data URI, ...)."""
    import json

    raw = report.read_text(encoding="utf-8")
    anchor = raw.index('<script id="results">')
    start = raw.index("var results = ", anchor) + len("var results = ")
    value, _ = json.JSONDecoder().raw_decode(raw[start:])
    return value


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(finished_run: Path, tmp_path: Path) -> None:
    """The report is a JavaScript application: render it for real and read the resulting page."""
    report = finished_run / "results" / "report.html"
    result = _chromium(report.as_uri(), tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-3000:]
    page = result.stdout
    # No script error while the page built itself (console errors are logged to stderr).
    errors = [line for line in result.stderr.splitlines() if "Uncaught" in line]
    assert not errors, errors[:5]
    # React renders each category as a menu entry; the raw file holds them only as JSON data.
    raw = report.read_text(encoding="utf-8")
    for category in (
        "0. Overview",
        "1. Quality control",
        "2. Samples",
        "3. Differential expression",
        "4. Gene-set enrichment",
        "5. Cell-death and NRF2 scores",
        "6. Run",
    ):
        entry = f"<span>{category}</span>"
        assert entry not in raw
        assert entry in page, f"{category!r} not rendered; stderr: {result.stderr[-800:]}"


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
def test_report_holds_every_figure_and_every_image_loads(finished_run, tmp_path) -> None:
    import base64

    results = _report_results(finished_run / "results" / "report.html")
    images = {}
    for stem in figure_stems():
        key = f"results/figures/{stem}.png"
        assert key in results, f"{key} is not in the report"
        assert results[key]["caption"].strip(), f"{key} has no caption"
        images[stem] = results[key]["data_uri"]
    # Load every embedded image in Chromium and record its decoded size.
    script = (
        "var uris = " + __import__("json").dumps(list(images.values())) + ";"
        "var done = 0, out = [];"
        "uris.forEach(function(u, i){ var im = new Image();"
        " im.onload = function(){ out[i] = im.naturalWidth + 'x' + im.naturalHeight; finish(); };"
        " im.onerror = function(){ out[i] = 'error'; finish(); }; im.src = u; });"
        "function finish(){ if (++done === uris.length) {"
        " var p = document.createElement('pre'); p.id = 'sizes';"
        " p.textContent = out.join('\\n'); document.body.appendChild(p); } }"
    )
    page = tmp_path / "images.html"
    page.write_text(f"<html><body><script>{script}</script></body></html>", encoding="utf-8")
    result = _chromium(page.as_uri(), tmp_path / "profile")
    sizes = result.stdout.split('<pre id="sizes">')[1].split("</pre>")[0].split("\n")
    assert len(sizes) == len(images)
    for stem, size in zip(images, sizes, strict=True):
        assert size != "error", f"{stem}: the image does not load"
        width, height = map(int, size.split("x"))
        # 300 dpi PNGs: at least an inch and a half wide, so shown at a readable size
        assert width >= 450 and height >= 200, (stem, size)
    # Key tables are pages with a rendered table and the full TSV attached.
    tables = [key for key in results if key.startswith("results/report/")]
    expected = {f"results/report/{c}.{t}.html" for c in CONTRASTS for t in ("results", "ora")}
    expected |= {
        f"results/report/{name}.html"
        for name in ("contrasts", "design", "config", "versions", "gsea_summary",
                     "ssgsea_comparison")
    }  # fmt: skip
    assert expected <= set(tables), expected - set(tables)
    for key in sorted(expected):
        uri = results[key]["data_uri"]
        html_file = tmp_path / Path(key).name
        html_file.write_bytes(base64.b64decode(uri.split("base64,", 1)[1]))
        if key.endswith(("design.html", "config.html")):
            assert "<pre>" in html_file.read_text(encoding="utf-8"), key
            continue
        rendered = _chromium(html_file.as_uri(), tmp_path / "profile2")
        errors = [line for line in rendered.stderr.splitlines() if "Uncaught" in line]
        assert not errors, (key, errors[:3])
        body = rendered.stdout
        assert "<tbody><tr>" in body and body.count("<tr>") >= 2, key
        if not key.endswith("versions.html"):
            assert 'download="' in body, f"{key}: the full TSV is not attached"
    volcano = results["results/figures/contrasts/resistant_vs_sensitive/volcano.png"]
    assert "gene of interest" in volcano["caption"] or "genes of interest" in volcano["caption"]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs it)")
@pytest.mark.parametrize("window", [1400, 800])
def test_report_shows_a_figure_at_a_readable_width(finished_run, tmp_path, window) -> None:
    """A 300-dpi figure opened in the report fits the window (at most 1000 px), uncut.

    The report is opened as a user would (the README's `snakemake --report`, which reads the
    default profile's report-stylesheet), then the report app is asked to show the widest
    and tallest figure, and the image's box is measured in Chromium.
    """
    report = finished_run / "results" / "report.html"
    raw = report.read_text(encoding="utf-8")
    assert "redoxseq: style added to Snakemake's report" in raw, "the stylesheet is not used"
    key = "results/figures/summary/gsea_nes.png"  # 2,300 x 2,400 px at 300 dpi
    probe = (
        "<script>setTimeout(function(){"
        f"app.setView({{content: 'img', contentPath: results[{json.dumps(key)}].data_uri}});"
        "setTimeout(function(){"
        " var im = document.querySelector('img[src^=\"data:image/png\"]');"
        " var pane = im.parentElement.parentElement.getBoundingClientRect();"
        " var box = im.getBoundingClientRect();"
        " var p = document.createElement('pre'); p.id = 'figure-box';"
        " p.textContent = JSON.stringify({natural: im.naturalWidth, width: box.width,"
        "  left: box.left, right: box.right, top: box.top, pane_left: pane.left,"
        "  pane_right: pane.right, pane_top: pane.top});"
        " document.body.appendChild(p); }, 1000); }, 1000);</script>"
    )
    end = raw.rindex("</body>")
    page = tmp_path / "report_probe.html"
    page.write_text(raw[:end] + probe + raw[end:], encoding="utf-8")
    result = _chromium(page.as_uri(), tmp_path / "profile", f"--window-size={window},900")
    marker = '<pre id="figure-box">'
    assert marker in result.stdout, result.stderr[-3000:]
    box = json.loads(html.unescape(result.stdout.split(marker)[1].split("</pre>")[0]))
    assert box["natural"] > 2000, box
    assert box["width"] <= 1000.5, box  # never wider than 1000 px
    assert box["width"] <= box["pane_right"] - box["pane_left"], box  # fits the pane
    assert box["left"] >= box["pane_left"] and box["right"] <= window, box  # nothing cut off
    assert box["top"] >= box["pane_top"], box  # its top is reachable, not scrolled away


@pytest.mark.parametrize(
    ("gene_set", "contrast", "numerator", "denominator"),
    [
        # The simulated biology (resources/sample_experiment/README.md), each in the direction
        # of its default contrast (numerator higher):
        ("REDOXSEQ_NRF2_CORE_TARGETS", "resistant_vs_sensitive", "resistant_vehicle",
         "sensitive_vehicle"),
        ("CELL_DEATH_APOPTOSIS", "sorafenib_vs_vehicle_in_sensitive", "sensitive_sorafenib",
         "sensitive_vehicle"),
        # CELL_DEATH_FERROPTOSIS is WP4313, scored once as ferroptosis/WP_FERROPTOSIS
        ("WP_FERROPTOSIS", "sorafenib_vs_vehicle_in_sensitive", "sensitive_sorafenib",
         "sensitive_vehicle"),
        ("CELL_DEATH_NECROPTOSIS", "sorafenib_vs_vehicle_in_sensitive", "sensitive_sorafenib",
         "sensitive_vehicle"),
        ("CELL_DEATH_NECROPTOSIS", "sorafenib_vs_vehicle_in_resistant", "resistant_sorafenib",
         "resistant_vehicle"),
        ("CELL_DEATH_PYROPTOSIS", "resistant_vs_sensitive", "resistant_vehicle",
         "sensitive_vehicle"),
        ("CELL_DEATH_AUTOPHAGY", "resistant_vs_sensitive", "resistant_vehicle",
         "sensitive_vehicle"),
    ],
)  # fmt: skip
def test_per_sample_scores_separate_the_groups_as_simulated(
    finished_run: Path, gene_set: str, contrast: str, numerator: str, denominator: str
) -> None:
    table = pd.read_csv(finished_run / "results" / "gsea" / "ssgsea.group_comparison.tsv", sep="\t")
    # one row per two-group contrast x set; the interaction (a difference) and the LRT have none
    assert not {"sorafenib_response_resistant_vs_sensitive", LRT_CONTRAST} & set(table["contrast"])
    assert not table.duplicated(["contrast", "collection", "gene_set"]).any()
    rows = table[(table["gene_set"] == gene_set) & (table["contrast"] == contrast)]
    assert len(rows) == 1, rows
    row = rows.iloc[0]
    assert (row["numerator"], row["denominator"]) == (numerator, denominator)
    assert row["difference"] > 0 and row["pvalue"] < 0.05, row.to_dict()
