#!/usr/bin/env python3
"""The runner on a local Dask cluster of 2 workers, on Porto Alegre (run by .ci/run).

1. `terril access` once over the 1,227 hexagons: the reference output.
2. The runner, 6 shards on 2 workers: the merged output is the reference, byte for byte.
3. Again, killing one worker (SIGKILL) while it computes a shard: Dask reruns the lost
   shard on the other worker (the nanny restarts the killed one) and the merged output is
   still the reference, byte for byte; the attempts log shows the rerun.

Usage: python test_runner.py TERRIL NETWORK HEXGRID WORKDIR
"""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import terril_shards  # noqa: E402


def main():
    terril, network, hexgrid, work = [os.path.abspath(x) for x in sys.argv[1:5]]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    args = ["access", "--network", network, "--origins", hexgrid, "--destinations", hexgrid, "--date", "2019-05-13", "--window", "14:00-14:30", "--percentiles", "25,50,75"]
    ref = os.path.join(work, "single.csv")
    t = time.monotonic()
    subprocess.run([terril, *args, "--out", ref], check=True, stderr=subprocess.DEVNULL)
    print(f"single run: {time.monotonic() - t:.2f} s")
    reference = open(ref, "rb").read()
    assert len(reference) > 10000

    from dask.distributed import Client, LocalCluster

    failures = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        out = os.path.join(work, "merged.csv")
        s = terril_shards.run(client, terril, args, 6, os.path.join(work, "parts"), out)
        print("runner, 2 workers:", s)
        if open(out, "rb").read() != reference:
            failures.append("the merged output differs from the single run")
        if s["attempts"] != 6:
            failures.append(f"{s['attempts']} attempts for 6 shards without failure")

        # Kill one worker while it computes: its shard is computed again elsewhere.
        parts = os.path.join(work, "parts-killed")
        out = os.path.join(work, "merged-killed.csv")
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]
        import threading

        def killer():
            log = os.path.join(parts, "attempts.log")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if os.path.exists(log) and any(line.split()[2] == str(victim) for line in open(log) if line.strip()):
                    time.sleep(0.3)
                    os.kill(victim, signal.SIGKILL)
                    print(f"killed worker pid {victim} during a shard")
                    return
                time.sleep(0.02)
            failures.append("the worker to kill never started a shard")

        th = threading.Thread(target=killer)
        th.start()
        s = terril_shards.run(client, terril, args, 6, parts, out)
        th.join()
        print("runner, one worker killed:", s)
        if open(out, "rb").read() != reference:
            failures.append("with a worker killed, the merged output differs from the single run")
        if s["attempts"] <= 6:
            failures.append(f"{s['attempts']} attempts: the killed worker's shard was not run again")
    if failures:
        print("FAILED:", "; ".join(failures))
        return 1
    print("ok: merged outputs identical to the single run, with and without a killed worker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
