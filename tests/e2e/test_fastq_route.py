"""End to end: the FASTQ route (fastp -> HISAT2 -> samtools -> counting) against the BAM route.

The simulator's tiny experiment is written as BAMs and, from the same reads, as paired-end
gzipped FASTQ. The workflow runs once from each (counts, DE and, for FASTQ, the MultiQC
report). HISAT2 does not reproduce the simulated alignments exactly, so the routes are
compared by what a user would check: library sizes, per-gene counts and the genes called.
The one systematic difference, explained in the test below, is at the parents of processed
pseudogenes (2 of the tiny experiment's ~45 genes, but ~7% of its reads).

Agreement on the full sample experiment (config/examples/fastq.yaml vs config/config.yaml,
1,018 genes x 12 samples, measured 2026-12-04): outside the 16 pseudogene parents, assigned
fragments per sample 0.9995-0.9999 of the BAM route's, 97.9% of gene x sample counts
identical, log-count correlation >= 0.9994 per sample; genes called (padj < 0.1) overlap with
Jaccard 0.986-1.000 in the four contrasts (e.g. 223 of 225 BAM-route calls in
resistant_vs_sensitive). The thresholds below are looser, for the tiny experiment's
few reads per gene.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from redoxseq.sim.experiment import (
    DEFAULT_SEED,
    SimulationParams,
    sample_table,
    simulate_experiment,
)
from redoxseq.sim.fastq import write_fastq
from tests.conftest import BIN, REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CONTRASTS = [
    "resistant_vs_sensitive",
    "sorafenib_vs_vehicle_in_sensitive",
    "sorafenib_vs_vehicle_in_resistant",
    "sorafenib_response_resistant_vs_sensitive",
]
TARGETS = ["results/counts/all.counts.tsv"] + [
    f"results/deseq2/{contrast}.results.tsv" for contrast in CONTRASTS
]


def _workdir(root: Path, name: str, experiment: Path, units: str) -> Path:
    work = root / name
    shutil.copytree(REPO / "config", work / "config")
    (work / "resources").mkdir()
    (work / "resources" / "sample_experiment").symlink_to(experiment)
    (work / "resources" / "genesets").symlink_to(REPO / "resources" / "genesets")
    path = work / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["samples"] = "resources/sample_experiment/samples.tsv"
    config["units"] = units
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return work


def _snakemake(work: Path, *targets: str) -> None:
    result = subprocess.run(
        [
            str(BIN / "snakemake"),
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(work),
            "--cores",
            "2",
            *targets,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(BAM-route, FASTQ-route) working directories, both run on the same simulated reads."""
    root = tmp_path_factory.mktemp("fastq_route")
    experiment = root / "experiment"
    simulate_experiment(experiment, seed=DEFAULT_SEED, params=SimulationParams.tiny())
    write_fastq(experiment, list(sample_table()["sample"]))
    bam = _workdir(root, "bam", experiment, "resources/sample_experiment/units.tsv")
    fastq = _workdir(root, "fastq", experiment, "resources/sample_experiment/units_fastq.tsv")
    _snakemake(bam, *TARGETS)
    _snakemake(fastq, *TARGETS, "results/qc/multiqc_report.html")
    return bam, fastq


def _counts(work: Path) -> pd.DataFrame:
    return pd.read_csv(work / "results" / "counts" / "all.counts.tsv", sep="\t", index_col=0)


def test_fastq_route_aligned_and_reported(routes) -> None:
    _, fastq = routes
    bams = sorted((fastq / "results" / "align" / "bams").rglob("*.bam"))
    assert len(bams) == 12 and all(Path(f"{b}.bai").exists() for b in bams)
    report = (fastq / "results" / "qc" / "multiqc_report.html").read_text(encoding="utf-8")
    for module in ("fastp", "HISAT2", "featureCounts"):
        assert module in report
    log = (fastq / "logs" / "hisat2_align" / "sensitive_vehicle_1.1.log").read_text()
    assert "tool version: hisat2" in log and "tool version: samtools" in log


def test_gene_counts_agree_except_where_hisat2_places_multimappers(routes) -> None:
    bam, fastq = map(_counts, routes)
    fastq = fastq.loc[bam.index, bam.columns]
    truth = pd.read_csv(routes[0] / "resources" / "sample_experiment" / "truth.tsv", sep="\t")
    parents = set(truth.loc[truth["category"] == "pseudogene_parent", "gene_id"])
    others = bam.index.difference(sorted(parents))
    # Outside processed-pseudogene parents, library sizes and genes agree closely.
    ratio = fastq.loc[others].sum() / bam.loc[others].sum()
    assert ratio.between(0.98, 1.02).all(), ratio
    assert (fastq.loc[others] == bam.loc[others]).to_numpy().mean() > 0.85
    for sample in bam.columns:
        r = np.corrcoef(np.log1p(bam.loc[others, sample]), np.log1p(fastq.loc[others, sample]))
        assert r[0, 1] > 0.95, (sample, r[0, 1])
    # The parents' reads also align to the (intronless) pseudogene copy: the simulation lists
    # both alignments (NH 2, not counted), HISAT2 reports junction reads once, on the spliced
    # parent (counted). So the FASTQ route counts more there; elsewhere few genes are off by
    # more than 10% and 5 reads (full sample experiment: 3 of 1,002, not investigated).
    total_bam, total_fastq = bam.sum(axis=1), fastq.sum(axis=1)
    off = total_bam.index[
        ((total_fastq - total_bam).abs() > 5)
        & ((total_fastq - total_bam).abs() > 0.1 * total_bam)
        & ~total_bam.index.isin(truth.loc[truth["category"] == "pseudogene", "gene_id"])
    ]
    assert len(set(off) - parents) <= 0.01 * len(others), sorted(set(off) - parents)
    assert (total_fastq.loc[sorted(parents)] >= total_bam.loc[sorted(parents)]).all()


@pytest.mark.parametrize("contrast", CONTRASTS)
def test_called_genes_agree(routes, contrast) -> None:
    """Both routes find the same truly changed genes; calls near the cut-off may differ.

    The tiny experiment's ~45 genes make the size factors sensitive to the two pseudogene
    parents (up to 9% apart between the routes), which moves genes near padj 0.1 (measured:
    6 of 17 BAM-route calls in sorafenib_vs_vehicle_in_sensitive, all truly unchanged genes,
    not called from FASTQ). On the full experiment the called sets agree with Jaccard >= 0.986.
    The interaction missed this check (2 truly changed genes called by one route only) from the
    R-equal defaults until the gene-wise dispersions followed R's estimator; it passes since.
    """
    truth = pd.read_csv(
        routes[0] / "resources" / "sample_experiment" / "truth.tsv", sep="\t", index_col="gene_id"
    )
    changed = set(truth.index[truth[f"lfc_{contrast}"] != 0])
    called = []
    for work in routes:
        table = pd.read_csv(
            work / "results" / "deseq2" / f"{contrast}.results.tsv", sep="\t", index_col="gene_id"
        )
        called.append(set(table.index[table["padj"] < 0.1]))
    union = called[0] | called[1]
    if not union:
        pytest.skip(f"{contrast}: no gene called by either route in the tiny experiment")
    true_calls = [c & changed for c in called]
    assert len(true_calls[0] ^ true_calls[1]) <= 1, true_calls
    assert len(called[0] & called[1]) / len(union) >= 0.6, called
