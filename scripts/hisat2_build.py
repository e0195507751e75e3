"""Snakemake adapter: build the HISAT2 index of the genome (with splice sites and exons)."""

import gzip
import os
import shutil
import tempfile
from pathlib import Path

from redoxseq.align.commands import hisat2_build_command
from redoxseq.align.tools import log_versions, run
from redoxseq.logs import setup_logging

setup_logging(snakemake.log[0])
log_versions(["hisat2-build"])
prefix = Path(str(snakemake.output.index[0]).removesuffix(".1.ht2"))
prefix.parent.mkdir(parents=True, exist_ok=True)
with tempfile.TemporaryDirectory(dir=prefix.parent, prefix=".hisat2_build.") as tmp:
    fasta = str(snakemake.input.fasta)
    if fasta.endswith(".gz"):  # hisat2-build reads plain FASTA only
        plain = os.path.join(tmp, "genome.fa")
        with gzip.open(fasta, "rb") as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        fasta = plain
    command = hisat2_build_command(
        fasta,
        os.path.join(tmp, prefix.name),
        threads=snakemake.threads,
        splice_sites=snakemake.input.get("splice_sites"),
        exons=snakemake.input.get("exons"),
    )
    run(command, stderr_log=Path(snakemake.log[0]))
    for path in snakemake.output.index:  # move into place only when every file is built
        os.replace(os.path.join(tmp, Path(path).name), path)
