"""Read counting: alignments + annotation -> gene counts, featureCounts semantics by default.

Modules, by concern (as HTSeq splits its counting):

- :mod:`~redoxseq.counting.annotation`: GTF / GFF3 / SAF -> gene index (exon segments);
- :mod:`~redoxseq.counting.types`: options, per-unit counts, summary categories, SAM flags;
- :mod:`~redoxseq.counting.alignments`: opening BAM/SAM/CRAM, matching contig names;
- :mod:`~redoxseq.counting.reference`: the reference (pure-Python) engine, featureCounts and
  htseq-count modes;
- :mod:`~redoxseq.counting.parallel`: driver of the compiled engine, per-region processes;
- :mod:`~redoxseq.counting.strandedness`: the ``auto`` strandedness decision;
- :mod:`~redoxseq.counting.sample`: one sample (its units summed), the merged matrix;
- :mod:`~redoxseq.counting.countmatrix`: importing a user's count matrix instead.

Importing this package imports none of them (pysam is loaded only by those that read files).
"""
