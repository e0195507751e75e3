"""Make the featureCounts golden of the bundled sample experiment (run from the repo root).

    .venv/bin/python tests/golden/counting/sample_experiment/make_golden.py

Runs featureCounts (subread) on the 12 BAMs of ``resources/sample_experiment/`` as the
experiment needs it (paired-end fragments, reverse-stranded dUTP library, exons grouped by
gene_id) and writes, next to this script:

* ``featureCounts.counts.tsv.gz``: genes x samples fragment counts, index gene_id, samples in
  the order of ``resources/sample_experiment/units.tsv``;
* ``featureCounts.summary.tsv``: featureCounts' summary categories x samples;
* ``VERSION``: the tool version, the exact command and the SHA-256 of every input file (the
  test checks them: a regenerated sample experiment needs a new golden).
* ``lone_unmapped.bam``: the pairs of ``sensitive_vehicle_1.bam`` with one end unmapped. The
  unmapped end carries no HI tag and the mapped one ``HI:i:1``, so neither tool pairs them:
  each record is a fragment of its own, and the unmapped one is *not* Unassigned_Unmapped
  (its flags say the mate is mapped). ``lone_unmapped.summary.tsv``: featureCounts' summary
  (categories x option sets in ``LONE_OPTIONS``) on it, with ``annotation.gtf.gz`` (a copy of
  the experiment's annotation, so that this test runs without the experiment).
"""

import hashlib
import subprocess
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[4]
EXPERIMENT = ROOT / "resources" / "sample_experiment"
HERE = Path(__file__).resolve().parent


#: featureCounts options run on lone_unmapped.bam (all with -p --countReadPairs)
LONE_OPTIONS = ["-s 2", "-s 2 -Q 10", "-s 2 -B", "-s 2 -C", "-s 2 -M", "-s 2 --primary"]
LONE_FLAGS = {69, 73, 89, 101, 133, 137, 153, 165}


def lone_unmapped(gtf: Path, bam: Path, tmp: Path) -> None:
    import shutil

    import pysam

    shutil.copy(gtf, HERE / "annotation.gtf.gz")
    out_bam = HERE / "lone_unmapped.bam"
    with (
        pysam.AlignmentFile(str(bam)) as inp,
        pysam.AlignmentFile(str(out_bam), "wb", template=inp) as out,
    ):
        for read in inp.fetch(until_eof=True):
            if read.flag in LONE_FLAGS:
                out.write(read)
    columns = {}
    for opts in LONE_OPTIONS:
        fc = tmp / "lone.txt"
        subprocess.run(
            [
                "featureCounts",
                "-p",
                "--countReadPairs",
                *opts.split(),
                "-a",
                str(gtf),
                "-o",
                str(fc),
                str(out_bam),
            ],
            check=True,
            capture_output=True,
        )
        columns[opts] = pd.read_csv(f"{fc}.summary", sep="\t", index_col=0).iloc[:, 0]
    pd.DataFrame(columns).to_csv(HERE / "lone_unmapped.summary.tsv", sep="\t")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    units = pd.read_csv(EXPERIMENT / "units.tsv", sep="\t", dtype=str)
    samples = list(units["sample"])
    bams = [ROOT / b for b in units["bam"]]
    gtf = EXPERIMENT / "annotation.gtf.gz"
    version = subprocess.run(
        ["featureCounts", "-v"], capture_output=True, text=True, check=False
    ).stderr.strip()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fc.txt"
        args = ["-p", "--countReadPairs", "-s", "2", "-t", "exon", "-g", "gene_id", "-T", "2"]
        subprocess.run(
            ["featureCounts", *args, "-a", str(gtf), "-o", str(out), *map(str, bams)],
            check=True,
            capture_output=True,
        )
        counts = pd.read_csv(out, sep="\t", comment="#", index_col=0).iloc[:, 5:]
        summary = pd.read_csv(f"{out}.summary", sep="\t", index_col=0)
        lone_unmapped(gtf, bams[0], Path(tmp))
    counts.columns = samples
    counts.index.name = "gene_id"
    summary.columns = samples
    counts.to_csv(HERE / "featureCounts.counts.tsv.gz", sep="\t", compression="gzip")
    summary.to_csv(HERE / "featureCounts.summary.tsv", sep="\t")
    lines = [
        version,
        "command (in resources/sample_experiment/, BAMs in units.tsv order): featureCounts "
        + " ".join(args)
        + " -a annotation.gtf.gz -o fc.txt "
        + " ".join(b.name for b in bams),
        "inputs (sha256, path):",
        f"{sha256(gtf)}\tannotation.gtf.gz",
        *(f"{sha256(b)}\tbams/{b.name}" for b in bams),
    ]
    (HERE / "VERSION").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
