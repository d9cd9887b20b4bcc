#!/usr/bin/env python3
"""Walking routes point to point with OSRM (CH, foot.lua) and Valhalla (pedestrian), on the
pairs terril's `terril bench walk` drew (WORK/walk-pairs.csv: from_lat, from_lon, to_lat,
to_lon, terril_s), so that the three engines answer the same 100 pairs in the same run.

Each engine is called in-process (osrm-bindings, pyvalhalla), one warm-up round, then
ROUNDS timed rounds over the pairs; a request asks for what terril's answer holds (the full
geometry and the steps with street names). Prints one JSON object: per engine the latency
percentiles (ms), the pairs answered, and the agreement with terril (ratio of durations,
terril's times rescaled to the peer's walking speed).

Run through benches/peers/run.sh, which prepares the OSRM dataset and the Valhalla tiles.
"""

import argparse
import csv
import json
import statistics
import time

from osrm_table import quantile  # this folder is on sys.path when the script runs


def summary(name, times_ms, durations, pairs, speed_ratio):
    times_ms = sorted(times_ms)
    answered = [i for i, d in enumerate(durations) if d is not None]
    agree = sorted(pairs[i][4] * speed_ratio / durations[i] for i in answered if pairs[i][4] and durations[i] > 0)
    return {
        "engine": name,
        "queries": len(times_ms),
        "answered": len(answered),
        "p50_ms": quantile(times_ms, 0.5),
        "p90_ms": quantile(times_ms, 0.9),
        "mean_ms": statistics.fmean(times_ms) if times_ms else float("nan"),
        "agreement_p10_p50_p90": [quantile(agree, q) for q in (0.1, 0.5, 0.9)],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--osrm", help="the .osrm dataset (foot.lua, contracted)")
    ap.add_argument("--valhalla", help="a Valhalla config JSON whose tiles are built")
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    with open(args.pairs, newline="") as f:
        pairs = [(float(r["from_lat"]), float(r["from_lon"]), float(r["to_lat"]), float(r["to_lon"]),
                  int(r["terril_s"]) if r["terril_s"] else None) for r in csv.DictReader(f)]
    out = []
    if args.osrm:
        import osrm
        engine = osrm.OSRM(algorithm="CH", storage_config=args.osrm, use_shared_memory=False)

        def osrm_route(p):
            params = osrm.RouteParameters(coordinates=[(p[1], p[0]), (p[3], p[2])], steps=True, overview="full", geometries="geojson")
            try:
                res = engine.Route(params)
            except RuntimeError:
                return None
            if res["code"] != "Ok":
                return None
            return float(res["routes"][0]["duration"])

        out.append(run("OSRM 26 (CH, foot.lua, 5 km/h)", osrm_route, pairs, args.rounds, 4.8 / 5.0))
    if args.valhalla:
        from valhalla import Actor
        actor = Actor(args.valhalla)

        def valhalla_route(p):
            req = {"locations": [{"lat": p[0], "lon": p[1]}, {"lat": p[2], "lon": p[3]}], "costing": "pedestrian"}
            try:
                res = json.loads(actor.route(json.dumps(req)))
            except RuntimeError:
                return None
            return float(res["trip"]["summary"]["time"])

        out.append(run("Valhalla (pedestrian, 5.1 km/h)", valhalla_route, pairs, args.rounds, 4.8 / 5.1))
    print(json.dumps(out, indent=1))


def run(name, route, pairs, rounds, speed_ratio):
    durations = [route(p) for p in pairs]  # warm-up round
    times = []
    for _ in range(rounds):
        for p in pairs:
            t0 = time.perf_counter()
            route(p)
            times.append((time.perf_counter() - t0) * 1000.0)
    return summary(name, times, durations, pairs, speed_ratio)


if __name__ == "__main__":
    main()
