"""Cohort analysis: many samples, no contrast; per-sample scores and their correlations.

- :mod:`~redoxseq.cohort.vst`: blind variance-stabilising transform of all samples;
- :mod:`~redoxseq.cohort.scoring`: per-sample gene-set scores (exact vectorised ssGSEA from
  :mod:`redoxseq.enrichment.ssgsea`, or gseapy's own);
- :mod:`~redoxseq.cohort.correlations`: Spearman/Pearson correlations between genes and
  scores with p-values and FDR, overall and per stratum; per-stratum score distributions.

Importing this package imports none of them (pyDESeq2 and gseapy load only where used).
"""
