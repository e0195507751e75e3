"""Make the randomized featureCounts golden fixture (development only; needs featureCounts).

Generates a random annotation (overlapping genes on both strands, multi-exon, a contig the
BAM lacks) and random single-end and paired-end alignments (spliced, deletions, insertions,
soft clips, unmapped reads and mates, multimappers with NH and secondary flags, duplicates,
chimeric and same-strand pairs, low MAPQ), then runs featureCounts 2.0.3 with many option
sets and stores its gene counts and summaries. Run from the repository root:

    .venv/bin/python tests/golden/counting/make_fuzz_golden.py

Outputs (in tests/golden/counting/fuzz/): annotation.gtf, se.bam, pe.bam (coordinate
sorted), {se,pe}.counts.tsv (genes x option sets) and {se,pe}.summary.tsv (categories x
option sets), options.tsv (the featureCounts arguments of each option set).
"""

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

SEED = 20261121
OUT = Path(__file__).parent / "fuzz"
CONTIGS = {"c1": 30000, "c2": 30000, "c3": 5000}

#: option-set name -> (featureCounts arguments, applies to single-end, applies to paired-end)
OPTION_SETS = {
    "s0": ("-s 0", True, True),
    "s1": ("-s 1", True, True),
    "s2": ("-s 2", True, True),
    "s2_Q10": ("-s 2 -Q 10", True, True),
    "s0_minov20": ("-s 0 --minOverlap 20", True, True),
    "s0_largest": ("-s 0 --largestOverlap", True, True),
    "s0_largest_minov20": ("-s 0 --largestOverlap --minOverlap 20", True, True),
    "s0_O": ("-s 0 -O", True, True),
    "s0_M": ("-s 0 -M", True, True),
    "s0_M_fraction": ("-s 0 -M --fraction", True, True),
    "s0_M_primary": ("-s 0 -M --primary", True, True),
    "s0_primary": ("-s 0 --primary", True, True),
    "s1_ignoreDup": ("-s 1 --ignoreDup", True, True),
    "s0_B": ("-s 0 -B", False, True),
    "s0_C": ("-s 0 -C", False, True),
    "s0_B_C_Q10": ("-s 0 -B -C -Q 10", False, True),
}


def make_gtf(rng: np.random.Generator, path: Path) -> None:
    lines = []
    for g in range(60):
        chrom = "c1" if g < 30 else "c2"
        if g == 59:
            chrom = "c4_not_in_bam"
        strand = "+" if rng.random() < 0.5 else "-"
        pos = int(rng.integers(100, CONTIGS.get(chrom, 30000) - 3000))
        for t in range(int(rng.integers(1, 3))):
            p = pos + int(rng.integers(0, 200))
            for _ in range(int(rng.integers(1, 5))):
                length = int(rng.integers(30, 400))
                lines.append(
                    f"{chrom}\tfuzz\texon\t{p + 1}\t{p + length}\t.\t{strand}\t.\t"
                    f'gene_id "G{g:02d}"; transcript_id "G{g:02d}.{t}"; gene_name "N{g:02d}"; '
                    'gene_biotype "protein_coding";'
                )
                p += length + int(rng.integers(20, 600))
    path.write_text("\n".join(lines) + "\n")


def random_cigar(rng: np.random.Generator, read_len: int) -> tuple[str, int]:
    """A CIGAR consuming read_len query bases; returns (cigar, reference span)."""
    ops: list[tuple[int, str]] = []
    left = read_len
    if rng.random() < 0.15:
        s = int(rng.integers(1, 10))
        ops.append((s, "S"))
        left -= s
    ref = 0
    while left > 0:
        m = min(left, int(rng.integers(5, 80)))
        ops.append((m, "M"))
        left -= m
        ref += m
        if left <= 0:
            break
        r = rng.random()
        if r < 0.25:
            n = int(rng.integers(30, 800))
            ops.append((n, "N"))
            ref += n
        elif r < 0.35:
            d = int(rng.integers(1, 6))
            ops.append((d, "D"))
            ref += d
        elif r < 0.45 and left > 3:
            i = int(rng.integers(1, 3))
            ops.append((i, "I"))
            left -= i
    return "".join(f"{n}{op}" for n, op in ops), ref


def header() -> dict:
    return {
        "HD": {"VN": "1.6", "SO": "unsorted"},
        "SQ": [{"SN": n, "LN": ln} for n, ln in CONTIGS.items()],
    }


def seg(out: pysam.AlignmentFile, **kw: object) -> pysam.AlignedSegment:
    a = pysam.AlignedSegment(out.header)
    for k, v in kw.items():
        setattr(a, k, v)
    return a


def make_se(rng: np.random.Generator, path: Path) -> None:
    read_len = 75
    with pysam.AlignmentFile(str(path), "wb", header=header()) as out:
        for i in range(3000):
            chrom = "c1" if rng.random() < 0.55 else ("c2" if rng.random() < 0.9 else "c3")
            nh = 1
            flag = 0x10 if rng.random() < 0.5 else 0
            if rng.random() < 0.12:
                nh = int(rng.integers(2, 4))
            if rng.random() < 0.05:
                flag |= 0x400
            copies = nh if rng.random() < 0.7 else 1
            for c in range(copies):
                f = flag | (0x100 if c > 0 else 0)
                cigar, span = random_cigar(rng, read_len)
                pos = int(rng.integers(0, CONTIGS[chrom] - span - 1))
                tags = [("NH", nh)] if (nh > 1 or rng.random() < 0.5) else []
                if rng.random() < 0.03 and c == 0:
                    out.write(
                        seg(
                            out,
                            query_name=f"se{i}",
                            flag=0x4,
                            reference_id=-1,
                            reference_start=-1,
                            query_sequence="A" * read_len,
                        )
                    )
                    break
                out.write(
                    seg(
                        out,
                        query_name=f"se{i}",
                        flag=f,
                        reference_id=out.get_tid(chrom),
                        reference_start=pos,
                        mapping_quality=int(rng.choice([0, 1, 3, 10, 60, 255])),
                        cigarstring=cigar,
                        query_sequence="A" * read_len,
                        tags=tags,
                    )
                )


def make_pe(rng: np.random.Generator, path: Path) -> None:
    read_len = 60
    with pysam.AlignmentFile(str(path), "wb", header=header()) as out:
        for i in range(2500):
            chrom = "c1" if rng.random() < 0.5 else ("c2" if rng.random() < 0.9 else "c3")
            nh = int(rng.integers(2, 4)) if rng.random() < 0.1 else 1
            dup = 0x400 if rng.random() < 0.05 else 0
            n_aln = nh if rng.random() < 0.7 else 1
            r = rng.random()
            kind = (
                "both_unmapped"
                if r < 0.02
                else "mate_unmapped"
                if r < 0.08
                else "chimeric"
                if r < 0.13
                else "same_strand"
                if r < 0.16
                else "proper"
            )
            for c in range(n_aln):
                sec = 0x100 if c > 0 else 0
                c1, _ = random_cigar(rng, read_len)
                c2, _ = random_cigar(rng, read_len)
                tid1 = out.get_tid(chrom)
                p1 = int(rng.integers(0, CONTIGS[chrom] - 2000))
                tid2 = tid1
                p2 = p1 + int(rng.integers(-50, 400))
                p2 = max(p2, 0)
                if kind == "chimeric":
                    other = "c2" if chrom != "c2" else "c1"
                    tid2 = out.get_tid(other)
                    p2 = int(rng.integers(0, CONTIGS[other] - 2000))
                rev1 = rng.random() < 0.5
                rev2 = rev1 if kind == "same_strand" else not rev1
                un1 = kind == "both_unmapped"
                un2 = kind in ("both_unmapped", "mate_unmapped")
                if un2 and not un1:
                    tid2, p2 = tid1, p1
                if un1:
                    tid1 = tid2 = -1
                    p1 = p2 = -1
                hi = [("HI", c + 1)] if nh > 1 else []
                tags = ([("NH", nh)] if nh > 1 or rng.random() < 0.5 else []) + hi
                mq1 = int(rng.choice([0, 3, 10, 60]))
                mq2 = int(rng.choice([0, 3, 10, 60]))
                first_is_r1 = rng.random() < 0.5
                for is_r1 in (True, False):
                    f = 0x1 | sec | dup | (0x40 if is_r1 else 0x80)
                    me_un, mate_un = (un1, un2) if is_r1 else (un2, un1)
                    me_rev, mate_rev = (rev1, rev2) if is_r1 else (rev2, rev1)
                    f |= (0x4 if me_un else 0) | (0x8 if mate_un else 0)
                    f |= 0x10 if me_rev and not me_un else 0
                    f |= 0x20 if mate_rev and not mate_un else 0
                    if not un1 and not un2 and kind == "proper":
                        f |= 0x2
                    tid, pos, mtid, mpos = (tid1, p1, tid2, p2) if is_r1 else (tid2, p2, tid1, p1)
                    if not first_is_r1:
                        pass
                    out.write(
                        seg(
                            out,
                            query_name=f"pe{i}",
                            flag=f,
                            reference_id=tid,
                            reference_start=pos,
                            next_reference_id=mtid,
                            next_reference_start=mpos,
                            mapping_quality=0 if me_un else (mq1 if is_r1 else mq2),
                            cigarstring=None if me_un else (c1 if is_r1 else c2),
                            query_sequence="A" * read_len,
                            tags=tags,
                        )
                    )


def run_featurecounts(bam: Path, gtf: Path, args: str, paired: bool, tmp: Path) -> tuple:
    out = tmp / "fc.txt"
    cmd = ["featureCounts", "-a", str(gtf), "-o", str(out), *args.split()]
    if paired:
        cmd += ["-p", "--countReadPairs"]
    subprocess.run([*cmd, str(bam)], check=True, capture_output=True)
    counts = pd.read_csv(out, sep="\t", comment="#", index_col=0).iloc[:, -1]
    summary = pd.read_csv(f"{out}.summary", sep="\t", index_col=0).iloc[:, -1]
    return counts, summary


def main() -> None:
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    gtf = OUT / "annotation.gtf"
    make_gtf(rng, gtf)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for kind, maker in (("se", make_se), ("pe", make_pe)):
            raw = tmp / f"{kind}.raw.bam"
            maker(rng, raw)
            pysam.sort("-o", str(OUT / f"{kind}.bam"), str(raw))
            pysam.index(str(OUT / f"{kind}.bam"))
            counts, summaries = {}, {}
            for name, (args, se_ok, pe_ok) in OPTION_SETS.items():
                if (kind == "se" and not se_ok) or (kind == "pe" and not pe_ok):
                    continue
                counts[name], summaries[name] = run_featurecounts(
                    OUT / f"{kind}.bam", gtf, args, kind == "pe", tmp
                )
            pd.DataFrame(counts).to_csv(OUT / f"{kind}.counts.tsv", sep="\t")
            pd.DataFrame(summaries).to_csv(OUT / f"{kind}.summary.tsv", sep="\t")
    version = subprocess.run(["featureCounts", "-v"], capture_output=True, text=True).stderr.strip()
    pd.DataFrame({"featurecounts_args": {k: v[0] for k, v in OPTION_SETS.items()}}).rename_axis(
        "option_set"
    ).to_csv(OUT / "options.tsv", sep="\t")
    (OUT / "VERSION").write_text(f"{version}\nseed {SEED}\n")


if __name__ == "__main__":
    main()
