"""Count matrix of the bundled sample experiment for the DESeq2 golden test (repo root):

    .venv/bin/python tests/golden/deseq2/make_sample_experiment_counts.py

Runs featureCounts (Debian subread 2.0.3) on the 12 BAMs of ``resources/sample_experiment/``
as the experiment needs it (fragments of paired-end reads, reverse-stranded dUTP library,
exons grouped by gene_id; every other option at featureCounts' default, which is also
redoxseq's ``counting:`` default) and writes to ``tests/data/counts/sample_experiment/``:

* ``counts.tsv.gz``: genes x 12 samples, integers, index gene_id (GTF order), columns in the
  order of ``resources/sample_experiment/samples.tsv``; gzip with mtime 0 (same bytes on rerun);
* ``samples.tsv``: a copy of the experiment's sample sheet;
* ``featureCounts.summary.tsv``: featureCounts' assignment summary, categories x samples;
* ``VERSION``: tool version, the exact command and the SHA-256 of every input.

featureCounts rather than ``redoxseq count`` so that the DE golden does not depend on the
counting engine under test elsewhere (``tests/golden/counting/`` shows the two are identical
on these BAMs).
"""

import gzip
import hashlib
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
EXPERIMENT = ROOT / "resources" / "sample_experiment"
OUT = ROOT / "tests" / "data" / "counts" / "sample_experiment"
OPTIONS = ["-p", "--countReadPairs", "-s", "2", "-t", "exon", "-g", "gene_id", "-T", "2"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    samples = pd.read_csv(EXPERIMENT / "samples.tsv", sep="\t", dtype=str)
    units = pd.read_csv(EXPERIMENT / "units.tsv", sep="\t", dtype=str).set_index("sample")
    bams = [ROOT / units.at[s, "bam"] for s in samples["sample"]]
    gtf = EXPERIMENT / "annotation.gtf.gz"
    version = subprocess.run(
        ["featureCounts", "-v"], capture_output=True, text=True, check=False
    ).stderr.strip()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fc.txt"
        subprocess.run(
            ["featureCounts", *OPTIONS, "-a", str(gtf), "-o", str(out), *map(str, bams)],
            check=True,
            capture_output=True,
        )
        counts = pd.read_csv(out, sep="\t", comment="#", index_col=0).iloc[:, 5:]
        summary = pd.read_csv(f"{out}.summary", sep="\t", index_col=0)
    counts.columns = list(samples["sample"])
    counts.index.name = "gene_id"
    summary.columns = list(samples["sample"])
    summary.index.name = "Status"
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        open(OUT / "counts.tsv.gz", "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle,
    ):
        handle.write(counts.to_csv(sep="\t").encode())
    summary.to_csv(OUT / "featureCounts.summary.tsv", sep="\t")
    (OUT / "samples.tsv").write_bytes((EXPERIMENT / "samples.tsv").read_bytes())
    lines = [
        version,
        "command (from the repository root, BAMs in samples.tsv order): featureCounts "
        + " ".join(OPTIONS)
        + " -a resources/sample_experiment/annotation.gtf.gz -o fc.txt "
        + " ".join(str(b.relative_to(ROOT)) for b in bams),
        "inputs (sha256, path):",
        f"{sha256(gtf)}\t{gtf.relative_to(ROOT)}",
        *(f"{sha256(b)}\t{b.relative_to(ROOT)}" for b in bams),
    ]
    (OUT / "VERSION").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
