#!/usr/bin/env python3
"""A regular grid of points over the Hauts-de-France bounding box (issue 15's regional
workload): `id,lat,lon` every CELL metres (default 500), optionally every k-th point only.

    python grid.py grid-500m.csv [--cell 500] [--every 1]

The bounding box is the region's (48.83-51.09 N, 1.38-4.26 E); no outline is in the
shared data, so the grid is not clipped (sea and Belgium included: those points find no
stop nearby and count as unreachable, which costs little).
"""
import argparse
import math

S, N, W, E = 48.83, 51.09, 1.38, 4.26


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--cell", type=float, default=500.0)
    ap.add_argument("--every", type=int, default=1)
    a = ap.parse_args()
    lat0 = (S + N) / 2
    dlat = a.cell / 111_320.0
    dlon = a.cell / (111_320.0 * math.cos(math.radians(lat0)))
    rows = int((N - S) / dlat) + 1
    cols = int((E - W) / dlon) + 1
    n = 0
    with open(a.out, "w") as f:
        f.write("id,lat,lon\n")
        for i in range(rows):
            for j in range(cols):
                if (i * cols + j) % a.every == 0:
                    f.write(f"r{i}c{j},{S + (i + 0.5) * dlat:.6f},{W + (j + 0.5) * dlon:.6f}\n")
                    n += 1
    print(f"{rows} x {cols} = {rows * cols} cells, {n} written to {a.out}")


if __name__ == "__main__":
    main()
