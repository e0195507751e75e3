"""Figures: matplotlib ``Figure`` objects built from result tables; adapters save them.

- :mod:`~redoxseq.plots.figures`: read assignment, PCA, volcano, MA, UpSet, heatmaps, GSEA.
"""
