#!/usr/bin/env bash
# Set up redoxseq in a virtual environment (.venv) on Debian/Ubuntu with Python >= 3.11.
# Uses apt only for what is missing: python3-venv, gcc + python3-dev to compile the fast
# counting engine (without them redoxseq still works, counting with its slower Python engine),
# and hisat2, samtools and fastp for FASTQ input (trimming and alignment).
# Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup.sh: redoxseq needs Python >= 3.11; '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
    echo "          Set PYTHON=/path/to/python3.11 (or newer) and rerun." >&2
    exit 1
fi

apt_install() {
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

missing=()
if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
    missing+=(python3-venv)
fi
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
include_dir=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
[ -f "$include_dir/Python.h" ] || missing+=(python3-dev)
# FASTQ units: trimming (fastp), alignment (hisat2, hisat2-build), sorting/indexing (samtools).
command -v hisat2 >/dev/null 2>&1 && command -v hisat2-build >/dev/null 2>&1 || missing+=(hisat2)
command -v samtools >/dev/null 2>&1 || missing+=(samtools)
command -v fastp >/dev/null 2>&1 || missing+=(fastp)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]} with apt" >&2
    apt_install "${missing[@]}" || echo "setup.sh: could not install ${missing[*]}" >&2
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi

.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[dev]"
echo "setup.sh: redoxseq is installed in .venv ($(.venv/bin/python --version))" >&2

# The sample experiment's reads as FASTQ (config/examples/fastq.yaml), written once from its
# BAMs (~12 MB, ~15 s; not in git).
if [ ! -f resources/sample_experiment/fastq/resistant_sorafenib_3_R2.fastq.gz ]; then
    .venv/bin/python -m redoxseq.simulate --fastq >/dev/null 2>&1 \
        || echo "setup.sh: could not write resources/sample_experiment/fastq/" >&2
fi
