"""Gene-set enrichment: the gene-set library and GSEA prerank, ORA and per-sample scores.

- :mod:`~redoxseq.enrichment.genesets`: GMT files, the bundled library, ID -> symbol mapping,
  orthologs;
- :mod:`~redoxseq.enrichment.gsea`: GSEA prerank (gseapy), over-representation, ssGSEA and the
  cross-contrast summary.

Importing this package imports neither (gseapy is loaded only by ``gsea``).
"""
