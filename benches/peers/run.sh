#!/usr/bin/env bash
# The peers, side by side with terril in one run (issue 16): installs OSRM (osrm-bindings),
# Valhalla (pyvalhalla) and pyraptor from PyPI into virtual environments, runs the same
# workloads as `terril bench`, and prints one table of ratios terril / peer (below 1: terril
# is faster). With --append, the table goes to BENCHMARKS.md under the date and machine.
#
#   bash benches/peers/run.sh [--append]
#
# Workloads (data: ../shared/data):
#   1. walking route point to point, 100 Porto Alegre hexagon pairs drawn by `terril bench
#      walk` (10 rounds): terril (plan, modes=walk) / OSRM Route (CH, foot.lua) / Valhalla
#      route (pedestrian); each answer with its full geometry and steps.
#   2. street preparation: terril build (2 GTFS + OSM, hierarchies included) / OSRM extract
#      + contract / Valhalla tiles.
#   3. walking matrix 1,227 x 1,227 hexagons: terril matrix --mode walk / OSRM Table
#      (benches/peers/osrm_walk_matrix.sh).
#   4. station-to-station earliest arrival, TER national 2025-02-04: terril (bench plan) /
#      pyraptor (benches/peers/pyraptor_ter.py).
#   5. transit isochrone and the accessibility headline: terril only (Valhalla cannot route
#      transit; urbanaccess + pandana took 98 s and 5 GB in the issue's run and is left out).
# Needs target/release/terril (cargo build --release). Writes only under target/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
DATA="${DATA:-$ROOT/../shared/data}"
TERRIL="$ROOT/target/release/terril"
OUT="$ROOT/target/peers"
LIMIT=900
[ -x "$TERRIL" ] || { echo "missing $TERRIL: cargo build --release first" >&2; exit 1; }
mkdir -p "$OUT"

. benches/peers/python.sh
# OSRM and Valhalla ship abi3 wheels for Python >= 3.12; pyraptor pins pandas < 2 (no 3.12 wheel).
if [ ! -x target/peers-venv/bin/python ]; then "$(pyenv_python 3.12)" -m venv target/peers-venv; fi
target/peers-venv/bin/python -c "import osrm, valhalla" 2>/dev/null || target/peers-venv/bin/pip install -q "osrm-bindings==26.10.0" "pyvalhalla==3.9.1"
if [ ! -x target/peers-venv311/bin/python ]; then "$(pyenv_python 3.11)" -m venv target/peers-venv311; fi
target/peers-venv311/bin/python -c "import pyraptor, attr" 2>/dev/null || target/peers-venv311/bin/pip install -q "pyraptor==1.3.10" "numpy<2" attrs

echo "== terril bench (build, plan, walk, access)" >&2
timeout $LIMIT "$TERRIL" bench build --data "$DATA" --work target/bench > "$OUT/terril-build.md"
timeout $LIMIT "$TERRIL" bench plan --data "$DATA" --work target/bench --queries 1000 > "$OUT/terril-plan.md"
timeout $LIMIT "$TERRIL" bench walk --data "$DATA" --work target/bench > "$OUT/terril-walk.md"
timeout $LIMIT "$TERRIL" bench access --data "$DATA" --work target/bench > "$OUT/terril-access.md"

echo "== OSRM: foot.lua extract + contract, walking matrix against terril" >&2
DATA="$DATA/porto-alegre" timeout $LIMIT bash benches/peers/osrm_walk_matrix.sh > "$OUT/walk-matrix.md"

echo "== Valhalla tiles (pedestrian)" >&2
VAL="$ROOT/target/peers-valhalla"
rm -rf "$VAL" && mkdir -p "$VAL/tiles"
target/peers-venv/bin/python - "$VAL" <<'PY'
import json, sys
from valhalla import get_config
val = sys.argv[1]
c = get_config(tile_extract="", tile_dir=f"{val}/tiles")
json.dump(c, open(f"{val}/config.json", "w"), indent=1)
PY
start=$(date +%s.%N)
VALHALLA_BIN="$(target/peers-venv/bin/python -m valhalla print_bin_path)"
timeout $LIMIT "$VALHALLA_BIN/valhalla_build_tiles" -c "$VAL/config.json" "$DATA/porto-alegre/poa_osm.pbf" > "$VAL/build.log" 2>&1 \
  || { tail -20 "$VAL/build.log" >&2; exit 1; }
echo "{\"valhalla_tiles_s\": $(echo "$(date +%s.%N) - $start" | bc)}" > "$OUT/valhalla-tiles.json"

echo "== walking routes: OSRM and Valhalla on terril's pairs" >&2
timeout $LIMIT target/peers-venv/bin/python benches/peers/streets.py --pairs target/bench/walk-pairs.csv \
  --osrm target/peers-osrm/poa.osrm --valhalla "$VAL/config.json" > "$OUT/streets.json"

echo "== pyraptor on the TER national feed" >&2
timeout $LIMIT target/peers-venv311/bin/python benches/peers/pyraptor_ter.py --gtfs "$DATA/ter/ter-2025-01-22.gtfs.zip" \
  --work "$OUT/pyraptor" --queries "${PYRAPTOR_QUERIES:-10}" > "$OUT/pyraptor.json"

python3 benches/peers/ratios.py "$OUT" "$("$TERRIL" --version)" ${1:-}
