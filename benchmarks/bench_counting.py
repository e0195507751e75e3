"""Benchmark redoxseq's read counter against featureCounts and htseq-count on the same files.

Synthetic but realistically shaped data, made once and cached in --workdir:

* a GENCODE-shaped annotation: the line types (gene, transcript, exon, CDS, UTR,
  start_codon, stop_codon), the attribute layout (gene_id "ENSG...", gene_type, gene_name,
  transcript_id, level, tags, havana ids ...) and about the numbers of genes (62,700),
  transcripts, exon lines and lines (3.4 M, 1.5 GB) of GENCODE human 44 on the human
  chromosomes (no GENCODE file is available offline);
* coordinate-sorted, indexed paired-end BAMs of --pairs read pairs simulated from its
  transcripts: 2 x 100 bp, spliced, reverse-stranded (dUTP), 8 % multimapper pairs (NH 2,
  HI, secondary), 10 % intronic/intergenic, 0.5 % chimeric pairs (mates on different
  chromosomes), 1 % pairs with one end unmapped.

Sub-commands::

    # GTF -> index: redoxseq vs featureCounts' own annotation loading
    .venv/bin/python benchmarks/bench_counting.py annotation --workdir /tmp/rq/bench
    # counting: redoxseq (from the GTF, and from the prebuilt index as the workflow does),
    # featureCounts -T <threads>, htseq-count (optionally on a subset)
    .venv/bin/python benchmarks/bench_counting.py count --pairs 5000000 --threads 2 \
        --htseq-pairs 1000000 --workdir /tmp/rq/bench
    # peak memory of redoxseq against the number of pairs
    .venv/bin/python benchmarks/bench_counting.py memory --pairs 1000000 5000000 20000000

Every tool runs under /usr/bin/time: wall time, CPU time (user + sys) and peak RSS; ratios
are against featureCounts measured in the same run; gene counts are checked identical.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

READ_LEN = 100
HUMAN_CHROMS = {
    "chr1": 248_956_422,
    "chr2": 242_193_529,
    "chr3": 198_295_559,
    "chr4": 190_214_555,
    "chr5": 181_538_259,
    "chr6": 170_805_979,
    "chr7": 159_345_973,
    "chr8": 145_138_636,
    "chr9": 138_394_717,
    "chr10": 133_797_422,
    "chr11": 135_086_622,
    "chr12": 133_275_309,
    "chr13": 114_364_328,
    "chr14": 107_043_718,
    "chr15": 101_991_189,
    "chr16": 90_338_345,
    "chr17": 83_257_441,
    "chr18": 80_373_285,
    "chr19": 58_617_616,
    "chr20": 64_444_167,
    "chr21": 46_709_983,
    "chr22": 50_818_468,
    "chrX": 156_040_895,
    "chrY": 57_227_415,
}
# (gene_type, fraction of genes, mean transcripts per gene), roughly GENCODE 44
GENE_TYPES = [
    ("protein_coding", 0.32, 9.0),
    ("lncRNA", 0.30, 3.0),
    ("processed_pseudogene", 0.16, 1.0),
    ("unprocessed_pseudogene", 0.04, 1.2),
    ("misc_RNA", 0.04, 1.0),
    ("snRNA", 0.03, 1.0),
    ("miRNA", 0.03, 1.0),
    ("TEC", 0.02, 1.0),
    ("snoRNA", 0.02, 1.0),
    ("transcribed_unprocessed_pseudogene", 0.04, 3.0),
]
TAGS = ["basic", "Ensembl_canonical", "CCDS", "MANE_Select", "appris_principal_1"]


def make_gencode_gtf(path: Path, n_genes: int, rng: np.random.Generator) -> list:
    """Write the GENCODE-shaped GTF; return transcripts as (chrom, strand, exons 0-based)."""
    names = list(HUMAN_CHROMS)
    sizes = np.array([HUMAN_CHROMS[c] for c in names], dtype=float)
    chrom_of = rng.choice(len(names), n_genes, p=sizes / sizes.sum())
    types = rng.choice(len(GENE_TYPES), n_genes, p=[t[1] for t in GENE_TYPES])
    transcripts = []
    exon_no = tx_no = 0
    with open(path, "w") as out:
        out.write(
            "##description: synthetic GENCODE-shaped annotation (GRCh38 chromosome sizes), "
            "made by benchmarks/bench_counting.py\n##provider: GENCODE\n##format: gtf\n"
            "##date: 2026-11-21\n"
        )
        for c, chrom in enumerate(names):
            genes = np.flatnonzero(chrom_of == c)
            starts = np.sort(rng.integers(10_000, HUMAN_CHROMS[chrom] - 3_000_000, len(genes)))
            for g, gstart in zip(genes, starts, strict=True):
                gtype, _, tx_mean = GENE_TYPES[types[g]]
                coding = gtype == "protein_coding"
                strand = "+" if rng.random() < 0.5 else "-"
                gid = f"ENSG{g + 1:011d}.{rng.integers(1, 20)}"
                gname = f"GENE{g + 1}"
                long_gene = coding or gtype == "lncRNA"
                n_ex = int(rng.integers(4, 25)) if long_gene else int(rng.integers(1, 3))
                pos = int(gstart)
                exons = []
                for _ in range(n_ex):
                    length = int(rng.integers(60, 400))
                    exons.append((pos, pos + length))
                    pos += length + int(rng.integers(300, 8000))
                gattr = (
                    f'gene_id "{gid}"; gene_type "{gtype}"; gene_name "{gname}"; level 2; '
                    f'hgnc_id "HGNC:{g + 1}"; havana_gene "OTTHUMG{g + 1:011d}.1";'
                )
                lines = [
                    f"{chrom}\tHAVANA\tgene\t{gstart + 1}\t{exons[-1][1]}\t.\t{strand}\t.\t"
                    f"{gattr}\n"
                ]
                for t in range(int(rng.poisson(tx_mean - 1)) + 1):
                    tx_no += 1
                    keep = [
                        e for j, e in enumerate(exons) if j in (0, n_ex - 1) or rng.random() < 0.42
                    ]
                    if not coding and len(keep) > 2:
                        keep = keep[: int(rng.integers(2, len(keep) + 1))]
                    tid = f"ENST{tx_no:011d}.{rng.integers(1, 9)}"
                    tags = "".join(f' tag "{x}";' for x in TAGS[: int(rng.integers(1, 5))])
                    head = (
                        f'gene_id "{gid}"; transcript_id "{tid}"; gene_type "{gtype}"; '
                        f'gene_name "{gname}"; transcript_type "{gtype}"; '
                        f'transcript_name "{gname}-{201 + t}"; '
                    )
                    tail = (
                        f'level 2; transcript_support_level "1"; hgnc_id "HGNC:{g + 1}";{tags} '
                        f'havana_gene "OTTHUMG{g + 1:011d}.1"; '
                        f'havana_transcript "OTTHUMT{tx_no:011d}.1";'
                    )
                    lines.append(
                        f"{chrom}\tHAVANA\ttranscript\t{keep[0][0] + 1}\t{keep[-1][1]}\t.\t"
                        f"{strand}\t.\t{head}{tail}\n"
                    )
                    order = keep if strand == "+" else keep[::-1]
                    for k, (a, b) in enumerate(order, start=1):
                        exon_no += 1
                        exon = f'exon_number {k}; exon_id "ENSE{exon_no:011d}.1"; '
                        lines.append(
                            f"{chrom}\tHAVANA\texon\t{a + 1}\t{b}\t.\t{strand}\t.\t"
                            f"{head}{exon}{tail}\n"
                        )
                        if coding and 1 < k < len(order):
                            lines.append(
                                f"{chrom}\tHAVANA\tCDS\t{a + 1}\t{b}\t.\t{strand}\t0\t{head}"
                                f'{exon}protein_id "ENSP{tx_no:011d}.1"; {tail}\n'
                            )
                    if coding and len(order) > 2 and rng.random() < 0.6:
                        first, last = order[0], order[-1]
                        for kind, (a, b) in (
                            ("UTR", first),
                            ("start_codon", (first[1] - 3, first[1])),
                            ("stop_codon", (last[0], last[0] + 3)),
                            ("UTR", last),
                        ):
                            lines.append(
                                f"{chrom}\tHAVANA\t{kind}\t{a + 1}\t{b}\t.\t{strand}\t0\t{head}"
                                f'exon_number 1; exon_id "ENSE{exon_no:011d}.1"; {tail}\n'
                            )
                    transcripts.append((chrom, strand, keep))
                out.write("".join(lines))
    return transcripts


def _blocks(exons: list, start: int, length: int) -> list:
    """Genomic blocks of transcript interval [start, start+length) over the exons."""
    out, offset = [], 0
    for a, b in exons:
        lo, hi = max(start, offset), min(start + length, offset + (b - a))
        if lo < hi:
            out.append((a + lo - offset, a + hi - offset))
        offset += b - a
    return out


def _cigar(blocks: list) -> str:
    parts = []
    for i, (a, b) in enumerate(blocks):
        if i:
            parts.append(f"{a - blocks[i - 1][1]}N")
        parts.append(f"{b - a}M")
    return "".join(parts)


def make_bam(
    path: Path, transcripts: list, n_pairs: int, rng: np.random.Generator, threads: int
) -> None:
    """Simulate a coordinate-sorted, indexed BAM of ``n_pairs`` pairs from ``transcripts``."""
    unsorted = path.with_suffix(".unsorted.bam")
    header = "@HD\tVN:1.6\tSO:unsorted\n" + "".join(
        f"@SQ\tSN:{c}\tLN:{n}\n" for c, n in HUMAN_CHROMS.items()
    )
    names = list(HUMAN_CHROMS)
    seq, qual = "A" * READ_LEN, "I" * READ_LEN
    weights = rng.lognormal(0, 2, len(transcripts))
    weights /= weights.sum()
    proc = subprocess.Popen(
        ["samtools", "view", "-b", "-@", str(threads), "-o", str(unsorted), "-"],
        stdin=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(header)
    chunk = 100_000
    for first in range(0, n_pairs, chunk):
        n = min(chunk, n_pairs - first)
        tx_idx = rng.choice(len(transcripts), n, p=weights)
        frag = rng.integers(180, 400, n)
        kind = rng.random(n)
        lines = []
        for j in range(n):
            chrom, strand, exons = transcripts[tx_idx[j]]
            name = f"p{first + j}"
            if kind[j] < 0.10:  # intronic / intergenic pair
                lo = max(exons[0][0] + int(rng.integers(-20000, 20000)), 1)
                b1, b2 = [(lo, lo + READ_LEN)], [(lo + frag[j] - READ_LEN, lo + frag[j])]
            else:
                tlen = sum(b - a for a, b in exons)
                f = min(int(frag[j]), tlen)
                s = int(rng.integers(0, max(tlen - f, 0) + 1))
                b1 = _blocks(exons, s, min(READ_LEN, f))
                b2 = _blocks(exons, max(s + f - READ_LEN, s), min(READ_LEN, f))
            nh = 2 if kind[j] > 0.92 else 1
            chimeric = 0.10 <= kind[j] < 0.105
            half_mapped = 0.105 <= kind[j] < 0.115
            for h in range(nh):
                shift = 0 if h == 0 else (-7_000_000 if b1[0][0] > 8_000_000 else 7_000_000)
                left = [(a + shift, b + shift) for a, b in b1]
                right = [(a + shift, b + shift) for a, b in b2]
                chrom_l = chrom_r = chrom
                if chimeric:  # right mate on another chromosome, same offset
                    chrom_r = names[(names.index(chrom) + 1) % len(names)]
                    off = right[0][0] - right[0][0] % 40_000_000  # fits every chromosome
                    right = [(a - off, b - off) for a, b in right]
                left_is_r1 = strand == "-"  # reverse-stranded: read 1 opposite the gene
                for is_left in (True, False):
                    blocks, mate = (left, right) if is_left else (right, left)
                    c_self, c_mate = (chrom_l, chrom_r) if is_left else (chrom_r, chrom_l)
                    is_r1 = is_left == left_is_r1
                    flag = 0x1 | (0 if chimeric else 0x2) | (0x100 if h else 0)
                    flag |= (0x40 if is_r1 else 0x80) | (0x20 if is_left else 0x10)
                    unmapped_self = half_mapped and not is_left
                    unmapped_mate = half_mapped and is_left
                    tags = f"NH:i:{nh}\tHI:i:{h + 1}"
                    if unmapped_self:  # placed at the mate's position, as aligners do
                        flag = (flag | 0x4) & ~0x10 & ~0x2
                        lines.append(
                            f"{name}\t{flag}\t{c_mate}\t{mate[0][0] + 1}\t0\t*\t=\t"
                            f"{mate[0][0] + 1}\t0\t{seq}\t{qual}\n"
                        )
                        continue
                    if unmapped_mate:
                        flag = (flag | 0x8) & ~0x20 & ~0x2
                        mpos = blocks[0][0]
                    else:
                        mpos = mate[0][0]
                    qlen = sum(b - a for a, b in blocks)
                    same = c_self == c_mate and not unmapped_mate
                    tl = 0
                    if same:
                        tl = (
                            mate[-1][1] - blocks[0][0] if is_left else -(blocks[-1][1] - mate[0][0])
                        )
                    rnext = "=" if c_self == c_mate or unmapped_mate else c_mate
                    lines.append(
                        f"{name}\t{flag}\t{c_self}\t{blocks[0][0] + 1}\t{60 if nh == 1 else 1}\t"
                        f"{_cigar(blocks)}\t{rnext}\t{mpos + 1}\t{tl}\t{seq[:qlen]}\t"
                        f"{qual[:qlen]}\t{tags}\n"
                    )
        proc.stdin.write("".join(lines))
    proc.stdin.close()
    proc.wait()
    subprocess.run(
        ["samtools", "sort", "-@", str(threads), "-m", "768M", "-o", str(path), str(unsorted)],
        check=True,
    )
    subprocess.run(["samtools", "index", str(path)], check=True)
    unsorted.unlink()


def timed(cmd: list, log: Path) -> dict:
    """Run cmd under /usr/bin/time; return wall, cpu (s) and peak RSS (MB)."""
    with open(log, "w") as err:
        subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", f"{log}.time", *cmd],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    wall, user, sys_, rss = Path(f"{log}.time").read_text().split()[-4:]
    return {"wall_s": float(wall), "cpu_s": float(user) + float(sys_), "peak_mb": int(rss) / 1024}


def annotation_files(work: Path, n_genes: int, seed: int) -> tuple[Path, Path, list]:
    """The GENCODE-shaped GTF (plain and gzipped) and its transcripts (cached)."""
    gtf = work / f"gencode_like_{n_genes}.gtf"
    gz = gtf.with_suffix(".gtf.gz")
    cache = gtf.with_suffix(".transcripts.pkl")
    if not (gtf.exists() and gz.exists() and cache.exists()):
        t0 = time.perf_counter()
        transcripts = make_gencode_gtf(gtf, n_genes, np.random.default_rng(seed))
        subprocess.run(f"gzip -4 -c {gtf} > {gz}", shell=True, check=True)
        pd.to_pickle(transcripts, cache)
        print(f"made {gtf} in {time.perf_counter() - t0:.0f} s")
    return gtf, gz, pd.read_pickle(cache)


def tiny_bam(work: Path) -> Path:
    """A BAM with one read on chr1 (featureCounts' run time on it is its annotation loading)."""
    bam = work / "one_read.bam"
    if not bam.exists():
        header = "".join(f"@SQ\tSN:{c}\tLN:{n}\n" for c, n in HUMAN_CHROMS.items())
        sam = header + f"r1\t0\tchr1\t100000\t60\t{READ_LEN}M\t*\t0\t0\t{'A' * READ_LEN}\t*\n"
        subprocess.run(["samtools", "view", "-b", "-o", str(bam), "-"], input=sam, text=True)
    return bam


def bench_annotation(args: argparse.Namespace) -> None:
    work = Path(args.workdir)
    gtf, gz, _ = annotation_files(work, args.genes, args.seed)
    out = work / "out"
    out.mkdir(exist_ok=True)
    with open(gtf, "rb") as handle:
        lines = [line[:200] for line in handle]
    n_lines, n_exons = len(lines), sum(1 for line in lines if b"\texon\t" in line)
    del lines
    print(
        f"{gtf}: {n_lines:,} lines, {n_exons:,} exon lines, {gtf.stat().st_size / 1e9:.2f} GB "
        f"({gz.stat().st_size / 1e6:.0f} MB gzipped)"
    )
    py = sys.executable
    build = (
        "import sys; from redoxseq.counting.annotation import build_gene_index, save_gene_index; "
        "save_gene_index(build_gene_index(sys.argv[1]), sys.argv[2])"
    )
    load = (
        "import sys; from redoxseq.counting.annotation import load_gene_index; "
        "load_gene_index(sys.argv[1])"
    )
    index = out / "gencode_like.index.pkl"
    results = {
        "redoxseq index build (gtf)": timed([py, "-c", build, str(gtf), str(index)], out / "b1"),
        "redoxseq index build (gtf.gz)": timed([py, "-c", build, str(gz), str(index)], out / "b2"),
        "redoxseq index load (pickle)": timed([py, "-c", load, str(index)], out / "b3"),
    }
    if shutil.which("featureCounts"):
        bam = tiny_bam(work)
        for name, path in (("gtf", gtf), ("gtf.gz", gz)):
            results[f"featureCounts load + 1 read ({name})"] = timed(
                ["featureCounts", "-a", str(path), "-o", str(out / "fc1.txt"), str(bam)],
                out / f"fc_{name}",
            )
    print(f"index file: {index.stat().st_size / 1e6:.0f} MB; cpus {os.cpu_count()}")
    print(pd.DataFrame(results).T.round(2).to_string())


def bench_count(args: argparse.Namespace) -> None:
    work = Path(args.workdir)
    _, gz, transcripts = annotation_files(work, args.genes, args.seed)
    bam = work / f"bench_{args.pairs}.bam"
    if not bam.exists():
        t0 = time.perf_counter()
        make_bam(bam, transcripts, args.pairs, np.random.default_rng(args.seed + 1), 2)
        print(f"made {bam} in {time.perf_counter() - t0:.0f} s")
    print(f"data: {bam} ({bam.stat().st_size / 1e6:.0f} MB), {gz}")
    venv = Path(sys.executable).parent
    out = work / "out"
    out.mkdir(exist_ok=True)
    index = out / "gencode_like.index.pkl"
    count = [str(venv / "redoxseq"), "count", "--strandedness", "reverse", "--paired", "yes"]
    count += ["--threads", str(args.threads)]
    results = {
        "redoxseq (from gtf.gz)": timed(
            [
                *count,
                "--gtf",
                str(gz),
                "--save-index",
                str(index),
                "-o",
                str(out / "rq_gtf.tsv"),
                str(bam),
            ],
            out / "rq_gtf.log",
        ),
        "redoxseq (from index)": timed(
            [*count, "--index", str(index), "-o", str(out / "rq.tsv"), str(bam)],
            out / "rq.log",
        ),
    }
    fc_cmd = ["featureCounts", "-p", "--countReadPairs", "-s", "2", "-T", str(args.threads)]
    results["featureCounts"] = timed(
        [*fc_cmd, "-a", str(gz), "-o", str(out / "fc.txt"), str(bam)], out / "fc.log"
    )
    ours = pd.read_csv(out / "rq.tsv", sep="\t", index_col=0).iloc[:, 0]
    fc = pd.read_csv(out / "fc.txt", sep="\t", comment="#", index_col=0).iloc[:, -1]
    same = bool((ours.reindex(fc.index) == fc).all())
    ours_gtf = pd.read_csv(out / "rq_gtf.tsv", sep="\t", index_col=0).iloc[:, 0]
    same_gtf = bool((ours_gtf.reindex(fc.index) == fc).all())
    table = pd.DataFrame(results).T
    if args.htseq_pairs and (venv / "htseq-count").exists():
        # same simulation, fewer pairs (the RNG runs in chunks: the first pairs are the same)
        sub = work / f"bench_{args.htseq_pairs}.bam"
        if not sub.exists():
            make_bam(sub, transcripts, args.htseq_pairs, np.random.default_rng(args.seed + 1), 2)
        htseq = [str(venv / "htseq-count"), "-f", "bam", "-r", "pos", "-s", "reverse"]
        results_sub = {
            f"htseq-count ({args.htseq_pairs} pairs)": timed(
                [*htseq, "-c", str(out / "htseq.tsv"), str(sub), str(gz)], out / "htseq.log"
            ),
            f"redoxseq ({args.htseq_pairs} pairs, from index)": timed(
                [*count, "--index", str(index), "-o", str(out / "rq_sub.tsv"), str(sub)],
                out / "rq_sub.log",
            ),
        }
        scale = args.pairs / args.htseq_pairs
        for name, res in results_sub.items():
            table.loc[name] = pd.Series(res)
            table.loc[f"{name.split(' (')[0]} per {args.pairs} pairs (x{scale:g})"] = pd.Series(
                {"wall_s": res["wall_s"] * scale, "cpu_s": res["cpu_s"] * scale}
            )
    for col in ("wall_s", "cpu_s", "peak_mb"):
        table[f"{col}/fC"] = table[col] / table.loc["featureCounts", col]
    print(
        f"gene counts identical to featureCounts: from index {same}, from GTF {same_gtf} "
        f"({int(ours.sum()):,} vs {int(fc.sum()):,} fragments assigned)"
    )
    print(f"pairs {args.pairs:,}, threads {args.threads}, cpus {os.cpu_count()}")
    print(table.round(2).to_string())


def bench_memory(args: argparse.Namespace) -> None:
    work = Path(args.workdir)
    _, gz, transcripts = annotation_files(work, args.genes, args.seed)
    venv = Path(sys.executable).parent
    out = work / "out"
    out.mkdir(exist_ok=True)
    index = out / "gencode_like.index.pkl"
    if not index.exists():
        from redoxseq.counting.annotation import build_gene_index, save_gene_index

        save_gene_index(build_gene_index(gz), index)
    rows = {}
    for pairs in args.pairs:
        bam = work / f"bench_{pairs}.bam"
        if not bam.exists():
            make_bam(bam, transcripts, pairs, np.random.default_rng(args.seed + 1), 2)
        for threads in args.threads:
            cmd = [str(venv / "redoxseq"), "count", "--index", str(index), "--paired", "yes"]
            cmd += ["--strandedness", "reverse", "--threads", str(threads)]
            rows[(pairs, threads)] = timed(
                [*cmd, "-o", str(out / "mem.tsv"), str(bam)], out / "mem.log"
            )
    table = pd.DataFrame(rows).T
    table.index.names = ["pairs", "threads"]
    print(table.round(2).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="benchmarks/data")
    parser.add_argument("--genes", type=int, default=62_700, help="genes of the GTF")
    parser.add_argument("--seed", type=int, default=20261121)
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("annotation", help="GTF -> index timing")
    count = sub.add_parser("count", help="counting timing against featureCounts/htseq-count")
    count.add_argument("--pairs", type=int, default=5_000_000)
    count.add_argument("--threads", type=int, default=2)
    count.add_argument(
        "--htseq-pairs", type=int, default=0, help="run htseq-count on the first N pairs"
    )
    memory = sub.add_parser("memory", help="peak RSS against the number of pairs")
    memory.add_argument("--pairs", type=int, nargs="+", default=[1_000_000, 5_000_000])
    memory.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    {"annotation": bench_annotation, "count": bench_count, "memory": bench_memory}[args.what](args)


if __name__ == "__main__":
    main()
