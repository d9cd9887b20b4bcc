#!/usr/bin/env python3
"""OSRM table (foot profile, CH) on the Porto Alegre hexagons, and its agreement with terril.

What it measures
  * OSRM's many-to-many table for all hexagon centroids (N x N durations), called in-process
    through the `osrm-bindings` Python package: one warm-up call, then the best of 3 timed
    calls (the `Table` call alone; turning the result into Python lists is timed separately).
  * peak resident memory of this process once the engine is loaded and the queries are done
    (getrusage ru_maxrss, before terril's CSV is read), and of the bare interpreter + import.
  * agreement with terril's walk-only matrix (CSV from `terril matrix --seconds`): over the
    pairs both answer, the median and 90th percentile of |terril - osrm| (seconds) and the
    10th/50th/90th percentiles of terril / osrm; raw, with terril rescaled by 4.8/5 (terril
    walks at 4.8 km/h, OSRM's foot.lua at 5 km/h), and with OSRM given its snapping legs back
    (terril times start and end at the centroid, OSRM's at the snapped points: the
    waypoints' "distance" at 5 km/h is added for source and destination).

Output: OUT (from_id,to_id,seconds; empty when OSRM finds no route) and, on stdout, one
Markdown table; with --timings (JSON written by osrm_walk_matrix.sh) the table also carries
terril's and OSRM's preprocessing figures.

Run it through benches/peers/osrm_walk_matrix.sh, which prepares everything; by hand:
  target/peers-venv/bin/python benches/peers/osrm_table.py --osrm target/peers-osrm/poa.osrm \
      --points /work/shared/data/porto-alegre/poa_hexgrid.csv \
      --terril target/peers/terril-walk.csv --out target/peers/osrm-walk.csv

Caveats: terril's matrix runs on all cores (rayon), OSRM's Table call on one thread, hence
the CPU-time row; terril's whole-process time also writes its 1.5 M-row CSV, OSRM's does not.
"""

import argparse
import csv
import json
import resource
import time

import osrm

OSRM_FOOT_KMH = 5.0  # walking_speed in osrm/share/profiles/foot.lua
TERRIL_WALK_KMH = 4.8  # terril's default --walk-speed


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def current_rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def quantile(sorted_xs, q):
    """Linear-interpolation quantile of an already sorted list."""
    if not sorted_xs:
        return float("nan")
    pos = (len(sorted_xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def load_points(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    ids = [r["id"] for r in rows]
    coords = [(float(r["lon"]), float(r["lat"])) for r in rows]
    return ids, coords


def agreement(terril, osrm_s, scale=1.0):
    """terril, osrm_s: dict (i, j) -> seconds. Figures over pairs both answer."""
    diffs, ratios = [], []
    for key, o in osrm_s.items():
        t = terril.get(key)
        if t is None:
            continue
        t *= scale
        diffs.append(abs(t - o))
        if o > 0:
            ratios.append(t / o)
    diffs.sort()
    ratios.sort()
    return {
        "pairs": len(diffs),
        "absdiff_p50": quantile(diffs, 0.5),
        "absdiff_p90": quantile(diffs, 0.9),
        "ratio_p10": quantile(ratios, 0.1),
        "ratio_p50": quantile(ratios, 0.5),
        "ratio_p90": quantile(ratios, 0.9),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osrm", required=True, help="the .osrm base of a CH dataset (extract + contract)")
    ap.add_argument("--points", required=True, help="CSV with id,lon,lat (the hexagon centroids)")
    ap.add_argument("--terril", required=True, help="terril matrix CSV (from_id,to_id,travel_time_p50_s)")
    ap.add_argument("--out", required=True, help="OSRM matrix CSV written here")
    ap.add_argument("--timings", help="JSON of terril / preprocessing figures from osrm_walk_matrix.sh")
    ap.add_argument("--runs", type=int, default=3, help="timed Table calls after the warm-up (best is kept)")
    args = ap.parse_args()

    rss_import = rss_mib()
    ids, coords = load_points(args.points)
    n = len(ids)

    t0 = time.perf_counter()
    engine = osrm.OSRM(
        algorithm="CH",
        storage_config=args.osrm,
        use_shared_memory=False,
        max_locations_distance_table=n,  # osrm-routed's default is 100; the library's is unlimited
    )
    load_s = time.perf_counter() - t0
    rss_engine = current_rss_mib()

    params = osrm.TableParameters(coordinates=coords, annotations=["duration"])
    res = engine.Table(params)  # warm-up
    times, cpus = [], []
    for _ in range(args.runs):
        t0, c0 = time.perf_counter(), time.process_time()
        res = engine.Table(params)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    query_s = min(times)
    query_cpu_s = min(cpus)
    if res["code"] != "Ok":
        raise SystemExit(f"OSRM table failed: {res['code']}")

    t0 = time.perf_counter()
    durations = [list(row) for row in res["durations"]]  # None where no route
    snap_m = [wp["distance"] for wp in res["sources"]]
    convert_s = time.perf_counter() - t0
    rss_osrm = rss_mib()

    osrm_s, osrm_snapped = {}, {}
    snap_s = [d / (OSRM_FOOT_KMH / 3.6) for d in snap_m]
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["from_id", "to_id", "seconds"])
        for i in range(n):
            row = durations[i]
            for j in range(n):
                d = row[j]
                w.writerow([ids[i], ids[j], "" if d is None else f"{d:.1f}"])
                if d is not None:
                    osrm_s[(i, j)] = d
                    osrm_snapped[(i, j)] = d + snap_s[i] + snap_s[j]

    index = {h: k for k, h in enumerate(ids)}
    terril = {}
    with open(args.terril, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        col = header.index("travel_time_p50_s")
        for row in r:
            if row[col] != "":
                terril[(index[row[0]], index[row[1]])] = float(row[col])

    raw = agreement(terril, osrm_s)
    rescaled = agreement(terril, osrm_s, TERRIL_WALK_KMH / OSRM_FOOT_KMH)
    snapped = agreement(terril, osrm_snapped, TERRIL_WALK_KMH / OSRM_FOOT_KMH)

    tm = {}
    if args.timings:
        with open(args.timings) as f:
            tm = json.load(f)

    def g(key, fmt="{:.2f}"):
        return fmt.format(tm[key]) if key in tm else "n/a"

    ratio = tm["terril_matrix_compute_s"] / query_s if "terril_matrix_compute_s" in tm else float("nan")
    osrm_wall = load_s + query_s + convert_s
    ratio_wall = tm["terril_matrix_wall_s"] / osrm_wall if "terril_matrix_wall_s" in tm else float("nan")

    print()
    print(f"### Walk-only travel-time matrix, Porto Alegre, {n} x {n} hexagon centroids ({n * n} pairs)")
    print()
    print("| work | terril | OSRM (foot.lua, CH, osrm-bindings " + osrm_version() + ") | terril / OSRM |")
    print("|---|---|---|---|")
    print(f"| preprocessing (s, wall) | {g('terril_build_s')} (`terril build`, 2 GTFS + OSM) "
          f"| {g('osrm_extract_s')} extract + {g('osrm_contract_s')} contract "
          f"| {tm['terril_build_s'] / (tm['osrm_extract_s'] + tm['osrm_contract_s']):.3f} |"
          if tm else "| preprocessing | n/a | n/a | |")
    print(f"| preprocessing peak memory (MiB) | {g('terril_build_mib', '{:.0f}')} "
          f"| {g('osrm_extract_mib', '{:.0f}')} extract, {g('osrm_contract_mib', '{:.0f}')} contract | |")
    print(f"| matrix, query only (s, best of {args.runs}) | {g('terril_matrix_compute_s')} (self-reported, excl. load and CSV) "
          f"| {query_s:.2f} (`Table` call; +{convert_s:.2f} to Python lists) | {ratio:.2f} |")
    print(f"| matrix, whole process (s, wall, best of {args.runs}) | {g('terril_matrix_wall_s')} (load + compute + CSV) "
          f"| {osrm_wall:.2f} (engine load {load_s:.2f} + query + lists) | {ratio_wall:.2f} |")
    print(f"| matrix CPU time (s, user + sys, best of {args.runs}) | {g('terril_matrix_cpu_s')} (whole process; rayon over "
          f"the cores) | {query_cpu_s:.2f} (`Table` call; one thread per request) | "
          f"{tm['terril_matrix_cpu_s'] / query_cpu_s if 'terril_matrix_cpu_s' in tm else float('nan'):.2f} |")
    print(f"| matrix peak memory (MiB) | {g('terril_matrix_mib', '{:.0f}')} (whole process) "
          f"| {rss_osrm:.0f} (Python + engine + result objects; {rss_engine:.0f} once the engine is loaded, "
          f"{rss_import:.0f} bare interpreter + import) | |")
    print(f"| pairs answered | {len(terril)} (cutoff 240 min) | {len(osrm_s)} | both: {raw['pairs']} |")
    for label, a in [("raw", raw), ("terril x 4.8/5", rescaled), ("terril x 4.8/5, OSRM + snap legs", snapped)]:
        print(f"| agreement, {label}: abs diff p50 / p90 (s) | | | {a['absdiff_p50']:.0f} / {a['absdiff_p90']:.0f} |")
        print(f"| agreement, {label}: terril/OSRM p10 / p50 / p90 | | | "
              f"{a['ratio_p10']:.3f} / {a['ratio_p50']:.3f} / {a['ratio_p90']:.3f} |")
    print()
    print(f"OSRM Table timings (s): {', '.join(f'{t:.3f}' for t in times)}; "
          f"snap distance of the centroids (m): median {quantile(sorted(snap_m), 0.5):.0f}, "
          f"p90 {quantile(sorted(snap_m), 0.9):.0f}, max {max(snap_m):.0f}")
    json.dump({"n": n, "osrm_query_s": query_s, "osrm_query_runs_s": times, "osrm_query_cpu_s": query_cpu_s, "osrm_convert_s": convert_s,
               "osrm_load_s": load_s, "osrm_rss_mib": rss_osrm, "osrm_engine_rss_mib": rss_engine, "import_rss_mib": rss_import,
               "terril_pairs": len(terril), "osrm_pairs": len(osrm_s),
               "raw": raw, "rescaled": rescaled, "rescaled_snap_legs": snapped, **tm},
              open(args.out + ".summary.json", "w"), indent=1)


def osrm_version():
    try:
        from importlib.metadata import version
        return version("osrm-bindings")
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
