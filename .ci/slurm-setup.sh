#!/usr/bin/env bash
# Install a single-node SLURM (Debian packages slurm-wlm and munge) for the cluster-profile tests
# (tests/cluster/). Only installs: the tests write their own slurm.conf and munge key in a
# temporary directory and start and stop the daemons themselves. This script configures no
# service: the packages enable their systemd units, but slurmctld and slurmd do not start without
# /etc/slurm/slurm.conf (never written here), and a system munged, if one starts, keeps its own
# key and socket, which the tests do not use.
#
# Run as root on Debian 12 (bookworm). Idempotent: when every binary the tests need is already
# present it changes nothing and exits 0. Without root and without the binaries it exits 1 with
# a message (the cluster tests then skip, saying why).
set -euo pipefail

needed=(slurmctld slurmd sinfo squeue sbatch srun scontrol scancel sacct munged)
missing=()
for binary in "${needed[@]}"; do
    command -v "$binary" >/dev/null 2>&1 || [[ -x "/usr/sbin/$binary" ]] || missing+=("$binary")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    echo "slurm-setup: SLURM and munge already installed (slurm-wlm $(dpkg-query -W -f='${Version}' slurm-wlm 2>/dev/null || echo "not from apt"))"
    exit 0
fi
echo "slurm-setup: missing ${missing[*]}; installing slurm-wlm and munge"

if [[ $(id -u) -ne 0 ]]; then
    echo "slurm-setup: must run as root to install slurm-wlm and munge with apt" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run (up to 10 minutes) instead of failing on its lock.
apt_options=(-o DPkg::Lock::Timeout=600 -y -q)
apt-get "${apt_options[@]}" update
# slurm-wlm pulls in slurmctld, slurmd and slurm-client. The packages' own services stay
# unconfigured: Debian ships no /etc/slurm/slurm.conf, so their units do not start.
apt-get "${apt_options[@]}" install --no-install-recommends slurm-wlm munge
echo "slurm-setup: installed slurm-wlm $(dpkg-query -W -f='${Version}' slurm-wlm)"
