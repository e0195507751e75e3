"""Figures: matplotlib ``Figure`` objects built from result tables; adapters save them.

- :mod:`~redoxseq.plots.style`: the house style, figure sizes, saving as SVG, PDF and PNG;
- :mod:`~redoxseq.plots.qc`, :mod:`~redoxseq.plots.contrasts`, :mod:`~redoxseq.plots.summary`,
  :mod:`~redoxseq.plots.enrichment`, :mod:`~redoxseq.plots.heatmaps`,
  :mod:`~redoxseq.plots.cohort`: the figures of each part of the analysis;
- :mod:`~redoxseq.plots.labels`, :mod:`~redoxseq.plots.choices`, :mod:`~redoxseq.plots.tables`:
  non-overlapping labels, genes/sets of interest, the report's table pages.
"""
