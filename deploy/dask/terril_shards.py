#!/usr/bin/env python3
"""Run a terril analysis as shards on a Dask cluster, retry lost shards, merge.

The same `terril` binary runs every shard (`terril access|matrix ... --shard K/N`);
Dask schedules them, reruns a shard whose worker died, and the merge
(`terril merge`) checks that every part was computed on the same network file, inputs
and parameters before it writes the single run's output, byte for byte.

    python terril_shards.py --shards 16 --workers 2 --out access.csv -- \
        access --network poa.bin --origins hex.csv --destinations hex.csv --date 2019-05-13

    python terril_shards.py --scheduler tcp://head:8786 --shards 256 --out access.csv -- ...

The network, origins and destinations paths must be readable by every worker (shared
storage: NFS, a volume mounted in every pod); so must --parts (where the parts land).
See README.md for one laptop, a few SSH machines and a Kubernetes cluster.
"""
import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time


def _die_with_parent():
    # A shard's terril dies with the worker that runs it (Linux: PR_SET_PDEATHSIG), so a
    # killed worker leaves no orphan writing a part.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def run_shard(terril, args, k, n, parts, threads=1):
    """Runs shard k of n; returns (part path, seconds, terril's peak memory in MiB)."""
    out = os.path.join(parts, f"part-{k:05d}-of-{n:05d}.csv")
    with open(os.path.join(parts, "attempts.log"), "a") as log:
        log.write(f"start {k} {os.getpid()}\n")
    t = time.monotonic()
    cmd = [terril, *args, "--shard", f"{k}/{n}", "--out", out]
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent, env=env)
    _, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError(f"shard {k}/{n} failed ({p.returncode}): {err.decode(errors='replace')[-2000:]}")
    text = err.decode(errors="replace")
    peak = int(text.split("peak memory ")[1].split()[0]) if "peak memory " in text else None
    return out, time.monotonic() - t, peak


def run(client, terril, args, shards, parts, out, retries=3, threads=1):
    """Schedules the shards on `client` (each terril on `threads` cores), waits, merges
    into `out`; returns a summary."""
    os.makedirs(parts, exist_ok=True)
    t0 = time.monotonic()
    futures = client.map(run_shard, [terril] * shards, [args] * shards, range(1, shards + 1), [shards] * shards, [parts] * shards, [threads] * shards, retries=retries, pure=False)
    results = client.gather(futures)
    t_shards = time.monotonic() - t0
    t = time.monotonic()
    merge = subprocess.run([terril, "merge", *[r[0] for r in results], "--out", out], capture_output=True, text=True)
    if merge.returncode != 0:
        raise RuntimeError(f"merge failed: {merge.stderr}")
    with open(os.path.join(parts, "attempts.log")) as f:
        attempts = sum(1 for _ in f)
    return {
        "shards": shards,
        "attempts": attempts,
        "wall_s": round(time.monotonic() - t0, 3),
        "shards_wall_s": round(t_shards, 3),
        "merge_s": round(time.monotonic() - t, 3),
        "shard_s": [round(r[1], 3) for r in results],
        "peak_mib": max((r[2] or 0) for r in results),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", type=int, required=True, help="number of shards (more than workers: lost work is one shard)")
    ap.add_argument("--workers", type=int, default=2, help="local cluster: worker processes (one thread each)")
    ap.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:8786) instead of a local cluster")
    ap.add_argument("--terril", default=os.environ.get("TERRIL", "terril"), help="the terril binary (same path on every worker)")
    ap.add_argument("--threads", type=int, default=1, help="cores each shard's terril uses (one worker per core: 1)")
    ap.add_argument("--parts", default="parts", help="folder of the partial outputs (shared storage on a cluster)")
    ap.add_argument("--out", required=True, help="the merged output (CSV)")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- access|matrix|compare and its options, without --shard and --out")
    a = ap.parse_args()
    args = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not args or args[0] not in ("access", "matrix", "compare"):
        ap.error("give the terril command after --: access ..., matrix ... or compare ...")
    from dask.distributed import Client, LocalCluster

    if a.scheduler:
        client = Client(a.scheduler)
    else:
        client = Client(LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None))
    try:
        summary = run(client, os.path.abspath(a.terril) if os.path.exists(a.terril) else a.terril, args, a.shards, os.path.abspath(a.parts), a.out, threads=a.threads)
    finally:
        client.close()
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
