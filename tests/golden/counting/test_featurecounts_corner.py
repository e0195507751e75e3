"""featureCounts' own corner-case suite (subread-data 2.0.3), every case redoxseq supports.

The cases and their options are read from the suite's shell scripts (copied unchanged into
tests/data/reads/featurecounts_corner/); the expected counts are the suite's ``.ora`` files.
Cases whose options redoxseq does not support are listed in UNSUPPORTED (and in
config/README.md) and skipped with the reason.
"""

import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from redoxseq.counting.alignments import read_alias_file
from redoxseq.counting.annotation import build_gene_index
from redoxseq.counting.sample import _fast_available, count_bam
from redoxseq.counting.types import MODES, CountOptions
from tests.golden.counting.featurecounts_options import apply_option

DATA = Path(__file__).parents[2] / "data" / "reads" / "featurecounts_corner"
UNSUPPORTED = {
    "-f": "exon-level (feature) counting",
    "--fracOverlap": "minimum overlap as a fraction of the read",
    "-P": "fragment-length limits (-P -d -D)",
    "--read2pos": "reducing reads to one base",
    "--readExtension3": "read extension",
    "--readExtension5": "read extension",
    "--maxMOp": "maximum number of CIGAR M operations",
    "-J": "junction counting",
    "--splitOnly": "spliced reads only",
    "--nonSplitOnly": "unspliced reads only",
}


def _cases() -> list:
    cases = []
    for script in ("test_corner_cases.sh", "test_chr_aliases.sh", "test_chr_inference.sh"):
        for line in (DATA / script).read_text().splitlines():
            if "compare.sh" not in line or line.lstrip().startswith("#"):
                continue
            words = shlex.split(line)
            i = words.index("data/compare.sh")
            sam, ora, anno, params, name = words[i + 1 : i + 6]
            level = words[i + 6] if len(words) > i + 6 else ""
            cases.append(
                pytest.param(
                    Path(sam).name,
                    Path(ora).name,
                    Path(anno).name,
                    params,
                    level,
                    id=f"{name}:{Path(ora).name}",
                )
            )
    return cases


def _options(params: str, anno: str) -> tuple[CountOptions, str, str | None]:
    words = params.split()
    kw: dict[str, object] = {"paired": "no", "drop_qc_failed": False}
    strand = "none"
    i = 0
    while i < len(words):
        w = words[i]
        if w in UNSUPPORTED:
            return CountOptions(), strand, UNSUPPORTED[w]
        applied = apply_option(words, i, kw)
        if applied is not None:
            i, mode = applied
            strand = mode or strand
            continue
        if w == "-p":
            kw["paired"] = "yes"
        elif w in ("--countReadPairs", "--donotsort"):
            pass
        elif w == "-F":
            i += 1
        elif w == "-A":
            kw["chrom_aliases"] = read_alias_file(DATA / Path(words[i + 1]).name)
            i += 1
        else:
            raise ValueError(f"unknown featureCounts option {w}")
        i += 1
    return CountOptions(**kw), strand, None  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ["python", "fast"] if _fast_available() else ["python"])
@pytest.mark.parametrize(("sam", "ora", "anno", "params", "level"), _cases())
def test_corner_case(sam, ora, anno, params, level, engine, tmp_path):
    options, strand, unsupported = _options(params, anno)
    if unsupported or level == "FL":
        pytest.skip(f"not supported: {unsupported or 'exon-level counting'}")
    if sam in ("test-chrname.sam", "test-chralias.sam"):
        # featureCounts always infers chr-prefix aliases; redoxseq does when asked ('auto')
        aliases = {**(options.chrom_aliases or {}), "*": "auto"}
        options = CountOptions(**{**options.__dict__, "chrom_aliases": aliases})
    reads = DATA / sam
    if sam == "corner-fractions.sam":
        # its SEQ is 'N' with a 100M CIGAR, which htslib rejects as invalid SAM: blank SEQ/QUAL
        reads = tmp_path / sam
        lines = []
        for line in (DATA / sam).read_text().splitlines():
            fields = line.split("\t")
            if not line.startswith("@") and len(fields) > 10:
                fields[9] = fields[10] = "*"
            lines.append("\t".join(fields))
        reads.write_text("\n".join(lines) + "\n")
    index = build_gene_index(DATA / anno)
    result = count_bam(reads, index, options, engine=engine)
    ours = pd.Series(result.counts[MODES.index(strand)], index=index.gene_ids)
    expected = {}
    for line in (DATA / ora).read_text().splitlines():
        fields = re.split(r"\s+", line.strip())
        if len(fields) == 2 and not line.startswith("#") and fields[0].lower() != "geneid":
            expected[fields[0]] = float(fields[1])
    assert expected, f"no expected counts in {ora}"
    got = {g: round(float(ours.get(g, 0.0)), 2) for g in expected}
    assert got == expected
