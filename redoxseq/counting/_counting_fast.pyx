# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Fast featureCounts-mode counting: the same rules as redoxseq.counting.reference._Counter, in C.

Reads records with htslib's ``sam_read1`` straight from a pysam ``AlignmentFile`` (so CRAM
references and decompression threads are set up by pysam) without creating Python objects per
record. Only a pair whose mate is still ahead costs a Python dict entry (bytes key/value).
Tested equal to the reference implementation in ``tests/unit/test_counting_fast.py``.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcmp, memcpy
from pysam.libcalignmentfile cimport AlignmentFile
from pysam.libchtslib cimport (
    bam1_t,
    bam_aux2i,
    bam_aux_get,
    bam_destroy1,
    bam_get_cigar,
    bam_get_qname,
    bam_init1,
    HTS_IDX_NOCOOR,
    hts_itr_t,
    htsFile,
    bam_hdr_t,
    sam_itr_destroy,
    sam_itr_next,
    sam_itr_queryi,
    sam_read1,
)

import numpy as np

cimport numpy as cnp

cnp.import_array()

DEF MAXB = 256        # blocks per fragment kept (longer CIGARs are merged conservatively)
DEF MAXK = 512        # distinct feature keys a fragment may touch

# summary category columns (must match redoxseq.counting.types.SUMMARY_CATEGORIES)
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
        cdef int lone = 0
        for i in range(n):
            if not recs[i].flag & 0x4:
                nmapped += 1
        if nmapped == 0:
            # a lone unmapped end whose flags say the mate is mapped (mate not found): judged
            # from the flags as featureCounts does, it goes on (and has no aligned bases)
            if not (self.o.paired and n == 1 and recs[0].flag & 0x1 and not recs[0].flag & 0x8):
                return UNMAPPED
            lone = 1
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
                if (lone or not r.flag & 0x4) and r.mapq >= self.o.min_mapq:
                    mapq_ok = 1
            if not mapq_ok and (nmapped == 1 or lone):
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
        if nend == 0:
            self.add_summary(NOFEATURE)
            return
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


# ---------------------------------------------------------------------------------------
# Pending mates: an open-addressing hash table in C (no Python object per record)
# ---------------------------------------------------------------------------------------

cdef struct Slot:
    uint64_t hash
    int32_t keylen
    int32_t state       # 0 empty, 1 full, 2 deleted
    char* data          # malloc'd: key bytes, then the packed record


cdef inline uint64_t fnv1a(const char* p, int n) nogil:
    cdef uint64_t h = 1469598103934665603ULL
    cdef int i
    for i in range(n):
        h ^= <uint8_t>p[i]
        h *= 1099511628211ULL
    return h


cdef inline int rec_size(Rec* r) nogil:
    return 6 * sizeof(int32_t) + 2 * r.nblocks * sizeof(int64_t)


cdef class _Pending:
    """Records waiting for their mate, keyed by (positions, HI, name) bytes."""
    cdef Slot* slots
    cdef int64_t cap
    cdef public int64_t n
    cdef int64_t used

    def __cinit__(self):
        self.cap = 1 << 12
        self.slots = <Slot*>calloc(self.cap, sizeof(Slot))
        if self.slots == NULL:
            raise MemoryError()
        self.n = 0
        self.used = 0

    def __dealloc__(self):
        cdef int64_t i
        if self.slots != NULL:
            for i in range(self.cap):
                if self.slots[i].state == 1:
                    free(self.slots[i].data)
            free(self.slots)

    cdef int pop(self, const char* key, int keylen, Rec* out) except -1:
        """Copy the record stored under key into out and remove it; 0 if absent."""
        cdef uint64_t h = fnv1a(key, keylen)
        cdef int64_t mask = self.cap - 1
        cdef int64_t i = <int64_t>(h & <uint64_t>mask)
        cdef Slot* s
        while True:
            s = &self.slots[i]
            if s.state == 0:
                return 0
            if s.state == 1 and s.hash == h and s.keylen == keylen and \
                    memcmp(s.data, key, keylen) == 0:
                memcpy(<void*>out, s.data + keylen, 6 * sizeof(int32_t))
                memcpy(<void*>out, s.data + keylen, rec_size(out))
                free(s.data)
                s.data = NULL
                s.state = 2
                self.n -= 1
                return 1
            i = (i + 1) & mask

    cdef int put(self, const char* key, int keylen, Rec* r) except -1:
        cdef uint64_t h = fnv1a(key, keylen)
        cdef int64_t mask, i
        cdef int size = rec_size(r)
        cdef Slot* s
        if (self.used + 1) * 2 > self.cap:
            self.grow()
        mask = self.cap - 1
        i = <int64_t>(h & <uint64_t>mask)
        while self.slots[i].state == 1:
            i = (i + 1) & mask
        s = &self.slots[i]
        if s.state == 0:
            self.used += 1
        s.data = <char*>malloc(keylen + size)
        if s.data == NULL:
            raise MemoryError()
        memcpy(s.data, key, keylen)
        memcpy(s.data + keylen, <void*>r, size)
        s.hash = h
        s.keylen = keylen
        s.state = 1
        self.n += 1
        return 0

    cdef int grow(self) except -1:
        cdef int64_t old_cap = self.cap, i, j, mask
        cdef Slot* old = self.slots
        cdef int64_t new_cap = old_cap
        while self.n * 4 >= new_cap:
            new_cap *= 2
        self.slots = <Slot*>calloc(new_cap, sizeof(Slot))
        if self.slots == NULL:
            self.slots = old
            raise MemoryError()
        self.cap = new_cap
        mask = new_cap - 1
        for i in range(old_cap):
            if old[i].state == 1:
                j = <int64_t>(old[i].hash & <uint64_t>mask)
                while self.slots[j].state == 1:
                    j = (j + 1) & mask
                self.slots[j] = old[i]
        self.used = self.n
        free(old)
        return 0

    cdef void count_all(self, _Engine eng):
        """Count every waiting record as a single end of its pair, and empty the table."""
        self.count_passed(eng, -1, 0, 1)

    cdef void count_passed(self, _Engine eng, int64_t tid, int64_t pos, bint everything):
        """Count as single ends the records whose mate position lies before (tid, pos)."""
        cdef int64_t i, mtid, mpos
        cdef int64_t* kb
        cdef Rec r
        cdef Slot* s
        for i in range(self.cap):
            s = &self.slots[i]
            if s.state != 1:
                continue
            kb = <int64_t*>s.data
            memcpy(<void*>&r, s.data + s.keylen, 6 * sizeof(int32_t))
            if r.flag & 0x80:
                mtid = kb[0]
                mpos = kb[1]
            else:
                mtid = kb[2]
                mpos = kb[3]
            if not everything and not (mtid >= 0 and (mtid < tid or (mtid == tid and mpos < pos))):
                continue
            memcpy(<void*>&r, s.data + s.keylen, rec_size(&r))
            free(s.data)
            s.data = NULL
            s.state = 2
            self.n -= 1
            if r.flag & 0x80:
                eng.fragment(NULL, &r)
            else:
                eng.fragment(&r, NULL)


cdef _Engine _make_engine(dict opts, seg_start, seg_end, seg_ptr, seg_keys, tid_lo, tid_hi,
                          gene_strand, int n_genes):
    counts = np.zeros((3, n_genes), dtype=np.float64)
    summary = np.zeros((3, NCAT), dtype=np.int64)
    return _Engine(opts, seg_start, seg_end, seg_ptr, seg_keys, tid_lo, tid_hi, gene_strand,
                   counts, summary)


def count_alignment_file(AlignmentFile af, dict opts, seg_start, seg_end, seg_ptr, seg_keys,
                         tid_lo, tid_hi, gene_strand, int n_genes, bint coordinate_sorted,
                         region=None):
    """Count the records of an open AlignmentFile.

    ``region`` None: every record, read sequentially from the current position. Otherwise
    ``(tid, start, end)``: the records whose position lies in [start, end) of contig ``tid``
    (through the index; ``tid`` -1 = the unplaced reads at the end of the file). A paired
    record whose mate lies outside the region is not counted but returned in ``leftovers``
    (bytes key -> packed record) for :func:`count_leftovers`.

    Returns (counts, summary, same, opposite, n_records, leftovers): counts 3 x n_genes
    float64, summary 3 x categories int64 (rows none/forward/reverse).
    """
    cdef _Engine eng = _make_engine(opts, seg_start, seg_end, seg_ptr, seg_keys, tid_lo,
                                    tid_hi, gene_strand, n_genes)
    cdef htsFile* fp = af.htsfile
    cdef bam_hdr_t* hdr = af.header.ptr
    cdef hts_itr_t* itr = NULL
    cdef bam1_t* b = bam_init1()
    cdef Rec rec
    cdef Rec mate
    cdef int ret
    cdef bint paired = opts["paired"]
    cdef bint in_region = region is not None
    cdef int64_t rtid = -2, rstart = 0, rend = 0
    cdef _Pending pending = _Pending()
    cdef dict leftovers = {}
    cdef bytes key, val
    cdef int64_t hi
    cdef uint8_t* aux
    cdef long long nrec = 0
    cdef char keybuf[5 * 8 + 256]
    cdef int64_t* kb = <int64_t*>keybuf
    cdef int qlen
    if in_region:
        rtid, rstart, rend = region
        if af.index == NULL:
            raise ValueError("region counting needs an indexed file")
        if rtid < 0:
            itr = sam_itr_queryi(af.index, HTS_IDX_NOCOOR, 0, 0)
        else:
            itr = sam_itr_queryi(af.index, rtid, rstart, rend)
        if itr == NULL:
            raise ValueError(f"cannot query region {region}")
    try:
        while True:
            with nogil:
                if itr != NULL:
                    ret = sam_itr_next(fp, itr, b)
                else:
                    ret = sam_read1(fp, hdr, b)
            if ret < -1:
                raise OSError(f"truncated or corrupt alignment file (htslib error {ret})")
            if ret < 0:
                break
            if in_region and rtid >= 0 and b.core.pos < rstart:
                continue  # starts in the previous region
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
                kb[0] = b.core.mtid
                kb[1] = b.core.mpos
                kb[2] = b.core.tid
                kb[3] = b.core.pos
            else:
                kb[0] = b.core.tid
                kb[1] = b.core.pos
                kb[2] = b.core.mtid
                kb[3] = b.core.mpos
            kb[4] = hi
            qlen = b.core.l_qname if b.core.l_qname <= 256 else 256
            memcpy(keybuf + 40, bam_get_qname(b), qlen)
            if in_region and not (
                b.core.mtid == rtid and (rtid < 0 or rstart <= b.core.mpos < rend)
            ):
                # mate in another region: paired (or not) by count_leftovers
                key = PyBytes_FromStringAndSize(keybuf, 40 + qlen)
                val = leftovers.pop(key, None)
                if val is None:
                    leftovers[key] = pack_rec(&rec)
                    continue
                unpack_rec(val, &mate)
            elif not pending.pop(keybuf, 40 + qlen, &mate):
                pending.put(keybuf, 40 + qlen, &rec)
                if coordinate_sorted and nrec % 1000000 == 0 and pending.n > 100000:
                    pending.count_passed(eng, b.core.tid, b.core.pos, 0)
                continue
            if rec.flag & 0x80:
                eng.fragment(&mate, &rec)
            else:
                eng.fragment(&rec, &mate)
        pending.count_all(eng)
    finally:
        bam_destroy1(b)
        if itr != NULL:
            sam_itr_destroy(itr)
    return eng.counts.base, eng.summary.base, eng.same_strand, eng.opposite_strand, nrec, \
        leftovers


def count_leftovers(dict opts, seg_start, seg_end, seg_ptr, seg_keys, tid_lo, tid_hi,
                    gene_strand, int n_genes, list parts):
    """Pair and count the leftovers of several regions (a list of key -> record dicts).

    Records whose mate is found are counted as pairs, the others as single ends (as the
    sequential pass does at the end of the file). Returns (counts, summary, same, opposite).
    """
    cdef _Engine eng = _make_engine(opts, seg_start, seg_end, seg_ptr, seg_keys, tid_lo,
                                    tid_hi, gene_strand, n_genes)
    cdef dict waiting = {}
    cdef dict part
    cdef bytes key, val, other
    cdef Rec rec
    cdef Rec mate
    for part in parts:
        for key, val in part.items():
            other = waiting.pop(key, None)
            if other is None:
                waiting[key] = val
                continue
            unpack_rec(val, &rec)
            unpack_rec(other, &mate)
            if rec.flag & 0x80:
                eng.fragment(&mate, &rec)
            else:
                eng.fragment(&rec, &mate)
    _count_singles(eng, waiting)
    return eng.counts.base, eng.summary.base, eng.same_strand, eng.opposite_strand


cdef void _count_singles(_Engine eng, dict pending):
    """Count every buffered record as a single end of its pair (its mate never came)."""
    cdef bytes val
    cdef Rec r
    for val in pending.values():
        unpack_rec(val, &r)
        if r.flag & 0x80:
            eng.fragment(NULL, &r)
        else:
            eng.fragment(&r, NULL)
