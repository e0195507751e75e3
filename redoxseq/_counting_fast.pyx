# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Fast featureCounts-mode counting: the same rules as redoxseq.counting._Counter, in C.

Reads records with htslib's ``sam_read1`` straight from a pysam ``AlignmentFile`` (so CRAM
references and decompression threads are set up by pysam) without creating Python objects per
record. Only a pair whose mate is still ahead costs a Python dict entry (bytes key/value).
Tested equal to the reference implementation in ``tests/unit/test_counting_fast.py``.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t
from libc.string cimport memcpy
from pysam.libcalignmentfile cimport AlignmentFile
from pysam.libchtslib cimport (
    bam1_t,
    bam_aux2i,
    bam_aux_get,
    bam_destroy1,
    bam_get_cigar,
    bam_get_qname,
    bam_init1,
    htsFile,
    bam_hdr_t,
    sam_read1,
)

import numpy as np

cimport numpy as cnp

cnp.import_array()

DEF MAXB = 256        # blocks per fragment kept (longer CIGARs are merged conservatively)
DEF MAXK = 512        # distinct feature keys a fragment may touch

# summary category columns (must match redoxseq.counting.SUMMARY_CATEGORIES)
DEF ASSIGNED = 0
DEF UNMAPPED = 1
DEF SINGLETON = 3
DEF MAPQ = 4
DEF CHIMERA = 5
DEF DUPLICATE = 7
DEF MULTI = 8
DEF SECONDARY = 9
DEF NOFEATURE = 11
DEF OVERLAP_LEN = 12
DEF AMBIGUOUS = 13
DEF QCFAIL = 14
DEF NCAT = 15

cdef struct Rec:
    int32_t flag
    int32_t tid
    int32_t mtid
    int32_t mapq
    int32_t nh
    int32_t nblocks
    int64_t blocks[2 * MAXB]

cdef struct Opts:
    int paired
    int require_both
    int skip_chimeric
    int multimapping     # 0 none, 1 all, 2 fraction
    int primary_only
    int min_mapq
    int min_overlap
    int multi_overlap    # 0 ambiguous, 1 largest, 2 all
    int ignore_dup
    int drop_qc


cdef class _Engine:
    cdef Opts o
    cdef const int64_t[:] seg_start
    cdef const int64_t[:] seg_end
    cdef const int64_t[:] seg_ptr
    cdef const int32_t[:] seg_keys
    cdef const int64_t[:] tid_lo
    cdef const int64_t[:] tid_hi
    cdef const signed char[:] gene_strand
    cdef double[:, :] counts
    cdef long long[:, :] summary
    cdef public long long same_strand
    cdef public long long opposite_strand
    cdef int ntid
    # scratch
    cdef int64_t kk[MAXK]
    cdef int64_t kov[MAXK]
    cdef int nk
    cdef int64_t gg[MAXK]
    cdef int64_t gov[MAXK]
    cdef int64_t mb[4 * MAXB]
    cdef int64_t fk[MAXK]
    cdef int64_t fov[MAXK]
    cdef int nf
    cdef int64_t ek[2][MAXK]
    cdef int64_t eov[2][MAXK]
    cdef int ne[2]
    cdef int gvote[MAXK]

    def __init__(self, opts, seg_start, seg_end, seg_ptr, seg_keys, tid_lo, tid_hi,
                 gene_strand, counts, summary):
        self.o.paired = opts["paired"]
        self.o.require_both = opts["require_both"]
        self.o.skip_chimeric = opts["skip_chimeric"]
        self.o.multimapping = opts["multimapping"]
        self.o.primary_only = opts["primary_only"]
        self.o.min_mapq = opts["min_mapq"]
        self.o.min_overlap = opts["min_overlap"]
        self.o.multi_overlap = opts["multi_overlap"]
        self.o.ignore_dup = opts["ignore_dup"]
        self.o.drop_qc = opts["drop_qc"]
        self.seg_start = seg_start
        self.seg_end = seg_end
        self.seg_ptr = seg_ptr
        self.seg_keys = seg_keys
        self.tid_lo = tid_lo
        self.tid_hi = tid_hi
        self.ntid = len(tid_lo)
        self.gene_strand = gene_strand
        self.counts = counts
        self.summary = summary
        self.same_strand = 0
        self.opposite_strand = 0

    cdef inline void add_summary(self, int cat):
        self.summary[0, cat] += 1
        self.summary[1, cat] += 1
        self.summary[2, cat] += 1

    cdef int decide(self, Rec* a, Rec* b):
        cdef Rec* recs[2]
        cdef int n = 0, i, nmapped = 0, multi = 0, mapq_ok = 0
        cdef Rec* r
        if a != NULL:
            recs[n] = a
            n += 1
        if b != NULL:
            recs[n] = b
            n += 1
        for i in range(n):
            if not recs[i].flag & 0x4:
                nmapped += 1
        if nmapped == 0:
            return UNMAPPED
        if self.o.drop_qc:
            for i in range(n):
                if recs[i].flag & 0x200:
                    return QCFAIL
        for i in range(n):
            if recs[i].flag & 0x800:
                return SECONDARY
        if self.o.paired and self.o.require_both:
            for i in range(n):
                if recs[i].flag & (0x4 | 0x8):
                    return SINGLETON
        mapq_ok = 1
        if self.o.min_mapq > 0:
            mapq_ok = 0
            for i in range(n):
                r = recs[i]
                if not r.flag & 0x4 and r.mapq >= self.o.min_mapq:
                    mapq_ok = 1
            if not mapq_ok and nmapped == 1:
                return MAPQ
        if self.o.paired and self.o.skip_chimeric:
            for i in range(n):
                r = recs[i]
                if not r.flag & 0x4 and not r.flag & 0x8:
                    if r.tid != r.mtid or ((r.flag & 0x10) != 0) == ((r.flag & 0x20) != 0):
                        return CHIMERA
        if self.o.ignore_dup:
            for i in range(n):
                if recs[i].flag & 0x400:
                    return DUPLICATE
        for i in range(n):
            r = recs[i]
            if not r.flag & 0x4 and (r.nh > 1 or r.flag & 0x100):
                multi = 1
        if multi and self.o.multimapping == 0:
            return MULTI
        if not mapq_ok:
            return MAPQ
        if self.o.primary_only:
            for i in range(n):
                if recs[i].flag & 0x100:
                    return SECONDARY
        return -1

    cdef void overlaps(self, int tid, int64_t* blocks, int nb):
        """Add overlapping bases per key of sorted, merged blocks on contig tid."""
        cdef int64_t lo, hi, mid, i, s, e, j, w, k
        cdef int t
        if tid < 0 or tid >= self.ntid:
            return
        lo = self.tid_lo[tid]
        hi = self.tid_hi[tid]
        if lo >= hi:
            return
        for j in range(nb):
            s = blocks[2 * j]
            e = blocks[2 * j + 1]
            # first segment with end > s
            i = lo
            mid = hi
            while i < mid:
                k = (i + mid) >> 1
                if self.seg_end[k] <= s:
                    i = k + 1
                else:
                    mid = k
            while i < hi and self.seg_start[i] < e:
                w = (e if e < self.seg_end[i] else self.seg_end[i]) - \
                    (s if s > self.seg_start[i] else self.seg_start[i])
                for k in range(self.seg_ptr[i], self.seg_ptr[i + 1]):
                    self.add_key(self.seg_keys[k], w)
                i += 1

    cdef inline void add_key(self, int64_t key, int64_t w):
        cdef int i
        for i in range(self.nk):
            if self.kk[i] == key:
                self.kov[i] += w
                return
        if self.nk < MAXK:
            self.kk[self.nk] = key
            self.kov[self.nk] = w
            self.nk += 1

    cdef int merge_blocks(self, Rec* a, Rec* b, int tid):
        """Collect blocks of the mapped records on tid into self.mb, sorted and merged."""
        cdef int n = 0, i, j, k, m
        cdef int64_t s, e
        cdef Rec* r
        cdef Rec* recs[2]
        recs[0] = a
        recs[1] = b
        for j in range(2):
            r = recs[j]
            if r == NULL or r.flag & 0x4 or r.tid != tid:
                continue
            for i in range(r.nblocks):
                s = r.blocks[2 * i]
                e = r.blocks[2 * i + 1]
                if e <= s:
                    continue
                # insertion sort by start
                k = n
                while k > 0 and self.mb[2 * (k - 1)] > s:
                    self.mb[2 * k] = self.mb[2 * (k - 1)]
                    self.mb[2 * k + 1] = self.mb[2 * (k - 1) + 1]
                    k -= 1
                self.mb[2 * k] = s
                self.mb[2 * k + 1] = e
                n += 1
        # merge
        m = 0
        for i in range(n):
            s = self.mb[2 * i]
            e = self.mb[2 * i + 1]
            if m > 0 and s <= self.mb[2 * (m - 1) + 1]:
                if e > self.mb[2 * (m - 1) + 1]:
                    self.mb[2 * (m - 1) + 1] = e
            else:
                self.mb[2 * m] = s
                self.mb[2 * m + 1] = e
                m += 1
        return m

    cdef void fragment(self, Rec* a, Rec* b):
        cdef int reason = self.decide(a, b)
        cdef Rec* first
        cdef Rec* other
        cdef int reverse, frag_strand, nb, m, i, j, ng, strand, npass, top, ntop
        cdef int64_t g, v, best, nh
        cdef double weight, share
        if reason >= 0:
            self.add_summary(reason)
            return
        cdef Rec* ends[2]
        cdef int strands[2]
        cdef int nend = 0, e, okn, nv, found
        cdef int ok[2]
        cdef int64_t key, vv
        if a != NULL and not a.flag & 0x4:
            ends[nend] = a
            nend += 1
        if b != NULL and not b.flag & 0x4:
            ends[nend] = b
            nend += 1
        for e in range(nend):
            strands[e] = 1 if ends[e].flag & 0x10 else 0
            if (ends[e].flag & 0x80) and self.o.paired:
                strands[e] = 1 - strands[e]
        first = ends[0]
        frag_strand = strands[0]
        # merged overlaps of the fragment
        self.nk = 0
        nb = self.merge_blocks(a, b, first.tid)
        self.overlaps(first.tid, self.mb, nb)
        if nend == 2 and ends[0].tid != ends[1].tid:
            nb = self.merge_blocks(a, b, ends[1].tid)
            self.overlaps(ends[1].tid, self.mb, nb)
        self.nf = self.nk
        for i in range(self.nk):
            self.fk[i] = self.kk[i]
            self.fov[i] = self.kov[i]
        # per-end overlaps (strand checked per end; votes of genes hit by both ends)
        if nend == 2:
            for e in range(2):
                self.nk = 0
                nb = self.merge_blocks(ends[e], NULL, ends[e].tid)
                self.overlaps(ends[e].tid, self.mb, nb)
                self.ne[e] = self.nk
                for i in range(self.nk):
                    self.ek[e][i] = self.kk[i]
                    self.eov[e][i] = self.kov[i]
        nh = 1
        for e in range(nend):
            if ends[e].nh > nh:
                nh = ends[e].nh
        weight = 1.0 / nh if self.o.multimapping == 2 else 1.0
        for m in range(3):
            ng = 0
            for i in range(self.nf):
                key = self.fk[i]
                strand = key % 3
                okn = 0
                for e in range(nend):
                    ok[e] = m == 0 or strand == 2 or ((strand == strands[e]) == (m == 1))
                    okn += ok[e]
                if okn == 0:
                    continue
                vv = self.fov[i]
                nv = 0
                if nend == 2:
                    if okn < 2:
                        vv = 0
                    for e in range(2):
                        if not ok[e]:
                            continue
                        for j in range(self.ne[e]):
                            if self.ek[e][j] == key:
                                nv += 1
                                if okn < 2:
                                    vv += self.eov[e][j]
                                break
                    if vv == 0:
                        continue
                g = key // 3
                found = 0
                for j in range(ng):
                    if self.gg[j] == g:
                        if vv > self.gov[j]:
                            self.gov[j] = vv
                        if nv > self.gvote[j]:
                            self.gvote[j] = nv
                        found = 1
                        break
                if not found:
                    self.gg[ng] = g
                    self.gov[ng] = vv
                    self.gvote[ng] = nv
                    ng += 1
            if ng == 0:
                self.summary[m, NOFEATURE] += 1
                continue
            npass = 0
            best = -1
            for j in range(ng):
                if self.gov[j] >= self.o.min_overlap:
                    self.gg[npass] = self.gg[j]
                    self.gov[npass] = self.gov[j]
                    self.gvote[npass] = self.gvote[j]
                    npass += 1
            if npass == 0:
                self.summary[m, OVERLAP_LEN] += 1
                continue
            if npass > 1 and nend == 2 and self.o.multi_overlap == 0:
                nv = 0
                for j in range(npass):
                    if self.gvote[j] > nv:
                        nv = self.gvote[j]
                ng = 0
                for j in range(npass):
                    if self.gvote[j] == nv:
                        self.gg[ng] = self.gg[j]
                        self.gov[ng] = self.gov[j]
                        ng += 1
                npass = ng
            if npass > 1:
                if self.o.multi_overlap == 1:
                    best = -1
                    ntop = 0
                    top = 0
                    for j in range(npass):
                        if self.gov[j] > best:
                            best = self.gov[j]
                            ntop = 1
                            top = j
                        elif self.gov[j] == best:
                            ntop += 1
                    if ntop > 1:
                        self.summary[m, AMBIGUOUS] += 1
                        continue
                    self.gg[0] = self.gg[top]
                    npass = 1
                elif self.o.multi_overlap == 0:
                    self.summary[m, AMBIGUOUS] += 1
                    continue
            self.summary[m, ASSIGNED] += 1
            share = weight / npass if self.o.multimapping == 2 else weight
            for j in range(npass):
                self.counts[m, self.gg[j]] += share
            if m == 0 and npass == 1:
                strand = self.gene_strand[self.gg[0]]
                if strand != 2:
                    if strand == frag_strand:
                        self.same_strand += 1
                    else:
                        self.opposite_strand += 1


cdef int fill_rec(bam1_t* b, Rec* r) nogil:
    cdef uint32_t* cig = bam_get_cigar(b)
    cdef int i, op, n = 0
    cdef int64_t ref = b.core.pos
    cdef int64_t ln, bs = -1
    cdef uint8_t* aux
    r.flag = b.core.flag
    r.tid = b.core.tid
    r.mtid = b.core.mtid
    r.mapq = b.core.qual
    r.nh = 1
    aux = bam_aux_get(b, "NH")
    if aux != NULL:
        r.nh = <int32_t>bam_aux2i(aux)
    r.nblocks = 0
    if r.flag & 0x4:
        return 0
    for i in range(b.core.n_cigar):
        op = cig[i] & 0xF
        ln = cig[i] >> 4
        if op == 0 or op == 7 or op == 8:   # M = X
            if bs < 0:
                bs = ref
            ref += ln
        elif op == 2 or op == 3:            # D N: end the block, skip reference
            if bs >= 0:
                if n < MAXB:
                    r.blocks[2 * n] = bs
                    r.blocks[2 * n + 1] = ref
                    n += 1
                bs = -1
            ref += ln
    if bs >= 0 and n < MAXB:
        r.blocks[2 * n] = bs
        r.blocks[2 * n + 1] = ref
        n += 1
    r.nblocks = n
    return 0


cdef inline bytes pack_rec(Rec* r):
    return PyBytes_FromStringAndSize(<char*>r, 6 * sizeof(int32_t) + 2 * r.nblocks * sizeof(int64_t))


cdef inline void unpack_rec(bytes data, Rec* r):
    memcpy(<void*>r, PyBytes_AS_STRING(data), len(data))


def count_alignment_file(AlignmentFile af, dict opts, seg_start, seg_end, seg_ptr, seg_keys,
                         tid_lo, tid_hi, gene_strand, int n_genes, bint coordinate_sorted):
    """Count every record of an open AlignmentFile; returns (counts, summary, same, opposite).

    counts: 3 x n_genes float64; summary: 3 x categories int64 (rows none/forward/reverse).
    """
    counts = np.zeros((3, n_genes), dtype=np.float64)
    summary = np.zeros((3, NCAT), dtype=np.int64)
    cdef _Engine eng = _Engine(opts, seg_start, seg_end, seg_ptr, seg_keys, tid_lo, tid_hi,
                               gene_strand, counts, summary)
    cdef htsFile* fp = af.htsfile
    cdef bam_hdr_t* hdr = af.header.ptr
    cdef bam1_t* b = bam_init1()
    cdef Rec rec
    cdef Rec mate
    cdef int ret
    cdef bint paired = opts["paired"]
    cdef dict pending = {}
    cdef bytes key, val
    cdef int64_t hi, r1tid, r1pos, r2tid, r2pos
    cdef uint8_t* aux
    cdef long long nrec = 0
    cdef int64_t keybuf[5]
    cdef char* qname
    cdef int qlen
    try:
        while True:
            with nogil:
                ret = sam_read1(fp, hdr, b)
            if ret < -1:
                raise OSError(f"truncated or corrupt alignment file (htslib error {ret})")
            if ret < 0:
                break
            nrec += 1
            fill_rec(b, &rec)
            if not paired or not rec.flag & 0x1 or rec.flag & 0x800:
                eng.fragment(&rec, NULL)
                continue
            hi = 0
            aux = bam_aux_get(b, "HI")
            if aux != NULL:
                hi = bam_aux2i(aux)
            if rec.flag & 0x80:
                keybuf[0] = b.core.mtid
                keybuf[1] = b.core.mpos
                keybuf[2] = b.core.tid
                keybuf[3] = b.core.pos
            else:
                keybuf[0] = b.core.tid
                keybuf[1] = b.core.pos
                keybuf[2] = b.core.mtid
                keybuf[3] = b.core.mpos
            keybuf[4] = hi
            qname = bam_get_qname(b)
            qlen = b.core.l_qname
            key = PyBytes_FromStringAndSize(<char*>keybuf, 5 * sizeof(int64_t)) + \
                PyBytes_FromStringAndSize(qname, qlen)
            val = pending.pop(key, None)
            if val is None:
                pending[key] = pack_rec(&rec)
                if coordinate_sorted and nrec % 1000000 == 0 and len(pending) > 100000:
                    _flush_passed(eng, pending, b.core.tid, b.core.pos)
                continue
            unpack_rec(val, &mate)
            if rec.flag & 0x80:
                eng.fragment(&mate, &rec)
            else:
                eng.fragment(&rec, &mate)
        for val in pending.values():
            unpack_rec(val, &mate)
            if mate.flag & 0x80:
                eng.fragment(NULL, &mate)
            else:
                eng.fragment(&mate, NULL)
    finally:
        bam_destroy1(b)
    return counts, summary, eng.same_strand, eng.opposite_strand, nrec


cdef void _flush_passed(_Engine eng, dict pending, int64_t tid, int64_t pos):
    """Count as single ends the buffered records whose mate position is already passed."""
    cdef list done = []
    cdef bytes key, val
    cdef int64_t* kb
    cdef int64_t mtid, mpos
    cdef Rec r
    for key, val in pending.items():
        kb = <int64_t*>PyBytes_AS_STRING(key)
        unpack_rec(val, &r)
        if r.flag & 0x80:
            mtid = kb[0]
            mpos = kb[1]
        else:
            mtid = kb[2]
            mpos = kb[3]
        if mtid >= 0 and (mtid < tid or (mtid == tid and mpos < pos)):
            done.append(key)
    for key in done:
        val = pending.pop(key)
        unpack_rec(val, &r)
        if r.flag & 0x80:
            eng.fragment(NULL, &r)
        else:
            eng.fragment(&r, NULL)
