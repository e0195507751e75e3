"""End to end from a count matrix of real human data (Marioni et al. 2008, kidney vs liver):
one factor with two levels, human gene sets, genes of interest mapped from the mouse defaults.

The figures adapt: no read-level QC (there are no reads), one contrast, human symbols on the
volcano plot, group bars of a one-factor design.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DATA = REPO / "tests" / "data" / "counts" / "marioni2008"
CONFIG = {
    "samples": "data/samples.tsv",
    "species": "human",
    "annotation": {"gtf": ""},
    "counting": {
        "count_matrix": "data/counts.tsv.gz",
        "count_matrix_annotation": "data/annotation.tsv",
    },
    "deseq2": {"design": "~ tissue", "reference_levels": {"tissue": "Kidney"}},
    "contrasts": {
        "liver_vs_kidney": {"factor": "tissue", "numerator": "Liver", "denominator": "Kidney"}
    },
}


def _snakemake(work: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(work), "--configfile", str(work / "config.yaml"),
               *arguments]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=1800)


@pytest.fixture(scope="module")
def human_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("human")
    shutil.copytree(DATA, work / "data")
    (work / "resources").symlink_to(REPO / "resources")
    (work / "config.yaml").write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    result = _snakemake(work, "--cores", "2")
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    report = _snakemake(work, "--report", "results/report.html")
    assert report.returncode == 0, (report.stdout + report.stderr)[-6000:]
    return work


def test_figures_adapt_to_a_count_matrix_and_one_contrast(human_run: Path) -> None:
    figures = human_run / "results" / "figures"
    stems = ["qc/library_sizes", "qc/sample_distances", "qc/pca", "qc/pca_scree",
             "qc/dispersion", "summary/de_gene_counts", "summary/de_genes_upset",
             "summary/gsea_nes", "summary/genes_of_interest", "summary/overview",
             "summary/ssgsea_heatmap", "summary/ssgsea_groups"]  # fmt: skip
    stems += [
        f"contrasts/liver_vs_kidney/{stem}"
        for stem in ("volcano", "ma", "pvalue_histogram", "top_genes_heatmap", "ora",
                     "gsea_running_sum.REDOXSEQ_NRF2_CORE_TARGETS",
                     "gsea_running_sum.WP_FERROPTOSIS")
    ]  # fmt: skip
    for stem in stems:
        for ext in ("svg", "pdf", "png"):
            assert (figures / f"{stem}.{ext}").stat().st_size > 1000, f"{stem}.{ext}"
    # No reads, so no read-level QC figures.
    assert not (figures / "qc" / "read_assignment.svg").exists()
    assert not (figures / "qc" / "strandedness.svg").exists()
    assert (human_run / "results" / "report.html").stat().st_size < 25_000_000


def test_volcano_names_the_human_genes_of_interest(human_run: Path) -> None:
    results = (human_run / "results" / "deseq2" / "liver_vs_kidney.results.tsv").read_text()
    measured = {g for g in ("GPX4", "TXN", "PHGDH", "SLC7A11", "GCLM", "NQO1")
                if re.search(rf"\t{g}\t", results)}  # fmt: skip
    assert measured, "the matrix holds some of the genes of interest"
    svg = (human_run / "results/figures/contrasts/liver_vs_kidney/volcano.svg").read_text()
    texts = set(re.findall(r">([^<>]+)</text>", svg))
    # a gene filtered out (padj NA) is named in the note under the plot instead
    for gene in measured:
        assert gene in texts or any(gene in t and "padj NA" in t for t in texts), gene
    assert not {"Gpx4", "Txn1"} & texts, "mouse symbols on a human volcano"
