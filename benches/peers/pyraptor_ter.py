#!/usr/bin/env python3
"""Station-to-station earliest arrival on the TER national feed with pyraptor, the peer of
terril's "station-to-station earliest arrival" row (`terril bench plan`).

pyraptor (lmeulen/pyraptor, PyPI) reads a GTFS folder shaped like the Dutch NS feed it was
written for: `calendar_dates.txt` only, numeric `trip_short_name`, `trip_long_name`,
`stop_code`, `platform_code` and stops under a `parent_station`. This script writes such a
folder from the raw TER zip (the day's services from calendar.txt and calendar_dates.txt
expanded to dates; missing columns added), lets pyraptor build its timetable for the day
(timed), then times N queries between random stations (seeded) at random times between
05:00 and 21:00, each a `run_raptor` from the origin station (pyraptor answers one origin
to all stations at once, as terril's one-to-one query does not).

Prints one JSON object. Needs Python 3.11 (pyraptor pins pandas < 2).
"""

import argparse
import csv
import io
import json
import os
import random
import time
import zipfile
from datetime import date


def prepare(gtfs_zip, out_dir, day):
    os.makedirs(out_dir, exist_ok=True)
    z = zipfile.ZipFile(gtfs_zip)

    def rows(name):
        if name not in z.namelist():
            return [], []
        r = csv.DictReader(io.TextIOWrapper(z.open(name), encoding="utf-8-sig"))
        return r.fieldnames, list(r)

    def write(name, fields, data):
        with open(os.path.join(out_dir, name), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            w.writeheader()
            w.writerows(data)

    d = date.fromisoformat(day)
    ymd = d.strftime("%Y%m%d")
    weekday = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][d.weekday()]
    active = set()
    for c in rows("calendar.txt")[1]:
        if c["start_date"] <= ymd <= c["end_date"] and c[weekday] == "1":
            active.add(c["service_id"])
    for c in rows("calendar_dates.txt")[1]:
        if c["date"] == ymd:
            (active.add if c["exception_type"] == "1" else active.discard)(c["service_id"])
    write("calendar_dates.txt", ["service_id", "date", "exception_type"], [{"service_id": s, "date": ymd, "exception_type": 1} for s in sorted(active)])
    f, agencies = rows("agency.txt")
    if "agency_id" not in f:
        for a in agencies:
            a["agency_id"] = "1"
    write("agency.txt", ["agency_id", "agency_name", "agency_url", "agency_timezone"], agencies)
    f, routes = rows("routes.txt")
    for r in routes:
        r.setdefault("agency_id", agencies[0]["agency_id"])
        r["agency_id"] = r["agency_id"] or agencies[0]["agency_id"]
    write("routes.txt", ["route_id", "agency_id", "route_short_name", "route_long_name", "route_type"], routes)
    f, trips = rows("trips.txt")
    for i, t in enumerate(trips):
        t["trip_short_name"] = t.get("trip_short_name") if (t.get("trip_short_name") or "").isdigit() else str(900000 + i)
        t["trip_long_name"] = t.get("trip_long_name") or ""
    write("trips.txt", ["route_id", "service_id", "trip_id", "trip_short_name", "trip_long_name"], trips)
    f, st = rows("stop_times.txt")
    write("stop_times.txt", ["trip_id", "stop_sequence", "stop_id", "arrival_time", "departure_time"], st)
    f, stops = rows("stops.txt")
    for s in stops:
        s["stop_code"] = s.get("stop_code") or s["stop_id"]
        s["platform_code"] = s.get("platform_code") or ""
        s["parent_station"] = s.get("parent_station") or ""
    write("stops.txt", ["stop_id", "stop_name", "stop_code", "parent_station", "platform_code", "stop_lat", "stop_lon"], stops)
    return sorted({a["agency_name"] for a in agencies})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gtfs", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--date", default="2025-02-04")
    ap.add_argument("--queries", type=int, default=20)
    args = ap.parse_args()
    from pyraptor.gtfs import timetable as gtfs_timetable
    from pyraptor.dao.timetable import read_timetable
    from pyraptor.query_raptor import run_raptor
    from loguru import logger
    logger.remove()

    agencies = prepare(args.gtfs, os.path.join(args.work, "gtfs"), args.date)
    t0 = time.perf_counter()
    gtfs_timetable.main(os.path.join(args.work, "gtfs"), os.path.join(args.work, "timetable"), args.date.replace("-", ""), agencies)
    prep_s = time.perf_counter() - t0
    tt = read_timetable(os.path.join(args.work, "timetable"))
    names = sorted(s.name for s in tt.stations)
    rng = random.Random(1)
    times, answered = [], 0
    for _ in range(args.queries):
        a, b = rng.choice(names), rng.choice(names)
        dep = rng.randrange(5 * 3600, 21 * 3600)
        t0 = time.perf_counter()
        journeys = run_raptor(tt, a, dep, 5)
        times.append((time.perf_counter() - t0) * 1000.0)
        answered += b in journeys
    times.sort()
    print(json.dumps({"engine": "pyraptor 1.3 (Python 3.11)", "stations": len(names), "prepare_s": prep_s, "queries": len(times),
                      "answered": answered, "p50_ms": times[len(times) // 2], "max_ms": times[-1]}))


if __name__ == "__main__":
    main()
