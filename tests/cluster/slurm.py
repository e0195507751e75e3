"""A throw-away single-node SLURM cluster (Debian's slurm-wlm and munge) for the profile tests.

Everything lives in one temporary directory: a generated munge key and socket, ``slurm.conf``,
the controller's state, the node's spool, the daemons' logs and a job-completion log
(``jobcomp/filetxt``: one line per finished job, the cluster's own record that a job ran). The
daemons listen on free TCP ports, so a system SLURM on the same machine is never touched.
Clients (``sbatch``, ``squeue``, ``sinfo``, Snakemake's SLURM executor) find this cluster
through the ``SLURM_CONF`` environment variable in :attr:`SlurmCluster.env`.

Inside a job, snakemake-executor-plugin-slurm-jobstep 0.6 runs the rule with a nested ``srun``
after deleting every ``SLURM_*`` variable, ``SLURM_CONF`` included, so that ``srun`` reads the
compiled-in default ``/etc/slurm/slurm.conf``. slurmd therefore runs in a private mount
namespace (``unshare --mount``) in which our configuration folder is bind-mounted on
``/etc/slurm``: the jobs it starts see this cluster's ``slurm.conf`` there, while the host's
``/etc/slurm`` stays untouched for every other process.

No accounting database (slurmdbd) runs; with ``accounting_storage/none``, ``sacct`` answers
from the controller's memory, which keeps finished jobs for ``MinJobAge`` seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

# Client and daemon binaries the tests need; the daemons live in /usr/sbin on Debian, which is
# not on every user's PATH.
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "scontrol", "scancel", "srun", "sacct")
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
PARTITION = "redoxseq_test"
# A second partition on the same node whose pending jobs start first (higher PriorityTier).
URGENT_PARTITION = "redoxseq_urgent"
# Where srun looks for slurm.conf when SLURM_CONF is not set (Debian's compiled-in default).
DEFAULT_CONF_DIR = Path("/etc/slurm")


def find_binary(name: str) -> str | None:
    """Absolute path of a SLURM/munge binary, searching PATH and the sbin folders."""
    return shutil.which(name, path=SEARCH_PATH)


def missing_binaries() -> list[str]:
    """Names of the SLURM/munge (and util-linux unshare) binaries that are not installed."""
    return [name for name in (*DAEMONS, *CLIENTS, "unshare") if find_binary(name) is None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def node_hardware() -> tuple[int, int]:
    """(CPUs, RealMemory in MB) of this host, as slurmd itself detects them (``slurmd -C``)."""
    slurmd = find_binary("slurmd")
    cpus, memory_mb = os.cpu_count() or 1, 1024
    if slurmd:
        probe = subprocess.run(
            [slurmd, "-C"], capture_output=True, text=True, check=False, timeout=30
        )
        cpus_match = re.search(r"\bCPUs=(\d+)", probe.stdout)
        memory_match = re.search(r"\bRealMemory=(\d+)", probe.stdout)
        if cpus_match and memory_match:
            return int(cpus_match.group(1)), int(memory_match.group(1))
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return cpus, memory_mb


@dataclass
class SlurmCluster:
    """One controller, one node (this host), one partition; started and stopped by the tests."""

    root: Path
    node: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    #: CPUs and memory (MB) of the node, as slurmd detects them (set by write_config).
    cpus: int = 0
    memory_mb: int = 0

    @property
    def conf(self) -> Path:
        return self.root / "etc" / "slurm.conf"

    @property
    def jobcomp(self) -> Path:
        """Job-completion log: one line per finished job (JobId, JobName, JobState, ...)."""
        return self.root / "jobcomp.log"

    @property
    def env(self) -> dict[str, str]:
        """Environment in which sbatch, squeue, sinfo and snakemake talk to this cluster."""
        env = dict(os.environ)
        env["SLURM_CONF"] = str(self.conf)
        env["PATH"] = SEARCH_PATH
        # A submission from inside another SLURM job would inherit that job's settings.
        for name in list(env):
            if name.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_")) and name != "SLURM_CONF":
                del env[name]
        return env

    def logs(self) -> str:
        """The tail of every daemon log, for a failure message."""
        parts = []
        for path in sorted(self.root.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-40:]
            parts.append(f"--- {path.name} (last {len(lines)} lines) ---\n" + "\n".join(lines))
        return "\n".join(parts) or f"(no logs in {self.root})"

    def write_config(self) -> None:
        """Write the munge key and a minimal slurm.conf (no cgroups, no accounting daemon)."""
        for folder in ("state", "spool", "etc"):
            (self.root / folder).mkdir(mode=0o700, exist_ok=True)
        # munged wants its socket folder traversable by all (clients of any user connect).
        (self.root / "munge").mkdir(exist_ok=True)
        (self.root / "munge").chmod(0o755)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        self.cpus, self.memory_mb = node_hardware()
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "root")
        self.conf.write_text(
            f"""# Single-node test cluster written by tests/cluster/slurm.py
ClusterName=redoxseq_test
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.root / "munge" / "munge.socket"}
StateSaveLocation={self.root / "state"}
SlurmdSpoolDir={self.root / "spool"}
SlurmctldPidFile={self.root / "slurmctld.pid"}
SlurmdPidFile={self.root / "slurmd.pid"}
SlurmctldLogFile={self.root / "slurmctld.log"}
SlurmdLogFile={self.root / "slurmd.log"}
MailProg=/bin/true
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig={self.root / "etc" / "plugstack.conf"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={self.jobcomp}
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
# Keep finished jobs in the controller for 10 minutes: squeue/sacct still see them.
MinJobAge=600
SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP PriorityTier=1
PartitionName={URGENT_PARTITION} Nodes={self.node} MaxTime=INFINITE State=UP PriorityTier=10
"""
        )
        (self.root / "etc" / "plugstack.conf").write_text("")

    def _start(self, name: str, *arguments: str, private_etc: bool = False) -> None:
        binary = find_binary(name)
        assert binary, name
        command = [binary, *arguments]
        if private_etc:
            # See the module docstring: the daemon and its jobs see our slurm.conf at the
            # default path; `unshare` execs the shell, which execs the daemon (same PID).
            command = [
                find_binary("unshare") or "unshare",
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                'mount --bind "$0" "$1" && shift && exec "$@"',
                str(self.conf.parent),
                str(DEFAULT_CONF_DIR),
                *command,
            ]
        # the daemon keeps its own copy of the file descriptor; ours is closed at once
        with (self.root / f"{name}.stdout.log").open("wb") as log:
            self.processes[name] = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode}")

    def _wait(self, what: str, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            if ready():
                return
            time.sleep(0.5)
        raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")

    def node_state(self) -> str:
        """State of the node as sinfo prints it (idle, mix, alloc, down*, ...), or ''.

        sinfo prints the node once per partition; a node in one state prints that state once.
        """
        try:
            result = subprocess.run(
                [find_binary("sinfo") or "sinfo", "-h", "-N", "-o", "%t"],
                capture_output=True,
                text=True,
                check=False,
                env=self.env,
                timeout=30,
            )
        except subprocess.TimeoutExpired:
            return ""
        if result.returncode != 0:
            return ""
        return " ".join(sorted(set(result.stdout.split())))

    def start(self, timeout: float = 90) -> None:
        """Start munged, slurmctld and slurmd; return when sinfo shows the node idle.

        Raises RuntimeError (the caller adds :meth:`logs`) if a daemon dies or the node does
        not become idle in time.
        """
        self.write_config()
        munge = self.root / "munge"
        self._start(
            "munged",
            "--foreground",
            # The test folder is private (0700); munged would refuse a socket below it.
            "--force",
            f"--socket={munge / 'munge.socket'}",
            f"--key-file={munge / 'munge.key'}",
            f"--pid-file={munge / 'munged.pid'}",
            f"--seed-file={munge / 'munged.seed'}",
            f"--log-file={self.root / 'munged.log'}",
            "--num-threads=2",
        )
        self._wait("the munge socket", (munge / "munge.socket").exists, 30)
        self._start("slurmctld", "-D", "-c", "-i", "-f", str(self.conf))
        self._start("slurmd", "-D", "-N", self.node, "-f", str(self.conf), private_etc=True)
        self._wait(f"node {self.node} idle in sinfo", lambda: self.node_state() == "idle", timeout)

    def cancel_all_jobs(self, timeout: float = 60) -> None:
        """Cancel every job of the cluster and wait until none is left running."""
        if "slurmctld" not in self.processes:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            queue = subprocess.run(
                [find_binary("squeue") or "squeue", "-h", "-t", "PD,R,CG,CF,S", "-o", "%i"],
                capture_output=True,
                text=True,
                check=False,
                env=self.env,
                timeout=30,
            )
            jobs = queue.stdout.split()
            if queue.returncode != 0 or not jobs:
                return
            subprocess.run(
                [find_binary("scancel") or "scancel", *jobs],
                capture_output=True,
                check=False,
                env=self.env,
                timeout=30,
            )
            time.sleep(1)

    def stop(self) -> None:
        """Cancel the jobs, then stop slurmd, slurmctld and munged (in that order)."""
        try:
            self.cancel_all_jobs()
        finally:
            for name in ("slurmd", "slurmctld", "munged"):
                process = self.processes.pop(name, None)
                if process is None or process.poll() is not None:
                    continue
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
