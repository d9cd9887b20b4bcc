#!/usr/bin/env python3
"""One table of ratios terril / peer from the files benches/peers/run.sh wrote in OUT.

usage: ratios.py OUT "terril VERSION" [--append]
Prints the Markdown; with --append also adds it to BENCHMARKS.md with the date and machine.
"""
import datetime
import json
import os
import re
import subprocess
import sys


def cells(md_path, startswith):
    for line in open(md_path):
        if line.startswith("| " + startswith):
            return [c.strip() for c in line.strip().strip("|").split("|")]
    raise SystemExit(f"no row starting with {startswith!r} in {md_path}")


def first_float(s):
    return float(re.search(r"[0-9]+(?:\.[0-9]+)?", s).group(0))


def main():
    out, version = sys.argv[1], sys.argv[2]
    append = "--append" in sys.argv[3:]
    j = lambda name: json.load(open(os.path.join(out, name)))
    walk = cells(os.path.join(out, "terril-walk.md"), "Porto Alegre streets")
    walk_p50 = float(walk[4])
    build = cells(os.path.join(out, "terril-build.md"), "Porto Alegre")
    build_s = float(build[1])
    plan = cells(os.path.join(out, "terril-plan.md"), "TER 2025")
    plan_p50 = float(plan[4])
    access = cells(os.path.join(out, "terril-access.md"), "POA accessibility")
    access_s, access_mib = first_float(access[2]), float(access[4])
    iso = cells(os.path.join(out, "terril-access.md"), "POA isochrone")
    iso_p50 = first_float(iso[2].split("p50")[1])
    timings = json.load(open(os.path.join(out, "timings.json")))
    table = json.load(open(os.path.join(out, "osrm-walk.csv.summary.json")))
    streets = {e["engine"].split()[0]: e for e in j("streets.json")}
    tiles = j("valhalla-tiles.json")["valhalla_tiles_s"]
    pyr = j("pyraptor.json")
    osrm, val = streets["OSRM"], streets["Valhalla"]
    osrm_prep = timings["osrm_extract_s"] + timings["osrm_contract_s"]

    def ratio(a, b):
        return f"{a / b:.3g}" if b else "n/a"

    rows = [
        ("walking route point to point, 100 hexagon pairs x 10 (Porto Alegre), p50 ms",
         f"{walk_p50:.3f} ({walk[3]} answered)", f"OSRM CH {osrm['p50_ms']:.3f} ({osrm['answered']} of 100)", ratio(walk_p50, osrm["p50_ms"]), "<= 0.5 ms, every pair", "yes" if walk_p50 <= 0.5 else "no"),
        ("", "", f"Valhalla {val['p50_ms']:.3f} ({val['answered']} of 100)", ratio(walk_p50, val["p50_ms"]), "", ""),
        ("street preparation (s): terril build with hierarchies / OSRM extract + contract / Valhalla tiles",
         f"{build_s:.2f} (whole build, 2 GTFS + OSM)", f"OSRM {osrm_prep:.2f}", ratio(build_s, osrm_prep), "< 3 s", "yes" if build_s < 3 else "no"),
        ("", "", f"Valhalla {tiles:.2f}", ratio(build_s, tiles), "", ""),
        ("walking matrix 1,227 x 1,227 (s, compute)", f"{timings['terril_matrix_compute_s']:.2f}", f"OSRM CH Table {table['osrm_query_s']:.2f}", ratio(timings["terril_matrix_compute_s"], table["osrm_query_s"]), "<= 0.5 s", "yes" if timings["terril_matrix_compute_s"] <= 0.5 else "no"),
        ("station-to-station earliest arrival, TER national 2025-02-04, p50 ms", f"{plan_p50:.3f}", f"pyraptor {pyr['p50_ms']:.0f} ({pyr['queries']} queries)", ratio(plan_p50, pyr["p50_ms"]), "<= 0.3 ms", "yes" if plan_p50 <= 0.3 else "no"),
        ("transit isochrone, 60-min window (Porto Alegre), p50 ms", f"{iso_p50:.1f}", "Valhalla cannot route transit", "", "<= 10 ms", "yes" if iso_p50 <= 10 else "no"),
        ("1,227 hexagons walk + transit, 120 departures, p5/p50/p95, jobs 30/45/60 (s, MiB)", f"{access_s:.2f} s, {access_mib:.0f} MiB", "urbanaccess + pandana 98 s, 5 GB (issue's run, not re-run)", ratio(access_s, 98.0), "<= 5 s, <= 100 MiB", "yes" if access_s <= 5 and access_mib <= 100 else "no"),
    ]
    machine = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2; nproc"], capture_output=True, text=True).stdout.split("\n")
    head = (f"## {datetime.date.today()} — peers side by side (`bash benches/peers/run.sh`)\n\n"
            f"Machine: {machine[0].strip()}, {machine[1].strip()} cores. {version}; osrm-bindings 26.10.0, pyvalhalla 3.9.1, "
            f"pyraptor 1.3.10; one run, same data (`../shared/data`). Ratio below 1: terril is faster.\n\n"
            "| work (data) | terril | peer | terril / peer | target | met |\n|---|---|---|---|---|---|\n")
    body = "".join(f"| {' | '.join(r)} |\n" for r in rows)
    extra = (f"\nAgreement of the walking times with terril's (terril rescaled to the peer's speed), p10 / p50 / p90: "
             f"OSRM {' / '.join(f'{x:.3f}' for x in osrm['agreement_p10_p50_p90'])}, Valhalla {' / '.join(f'{x:.3f}' for x in val['agreement_p10_p50_p90'])}. "
             f"pyraptor: {pyr['stations']} stations, timetable prepared in {pyr['prepare_s']:.0f} s, one origin to all stations per query.\n")
    text = head + body + extra
    print(text)
    if append:
        with open("BENCHMARKS.md", "a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
