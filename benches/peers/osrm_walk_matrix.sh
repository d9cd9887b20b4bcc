#!/usr/bin/env bash
# Peer benchmark: terril's walk-only travel-time matrix against OSRM's table service.
#
# What it measures, on the Porto Alegre data (1,227 H3 hexagon centroids, all 1,505,529 pairs):
#   * preprocessing: `terril build` (2 GTFS + OSM) vs OSRM foot.lua extract + CH contract;
#   * the matrix: `terril matrix --mode walk` (best of 3 runs; self-reported compute time
#     and whole-process wall time) vs OSRM's Table through the osrm-bindings Python package
#     (osrm_table.py: one warm-up, best of 3);
#   * peak memory of each step (GNU time %M; getrusage inside osrm_table.py);
#   * agreement of the two matrices (osrm_table.py): raw, terril rescaled by 4.8/5 (its walk
#     speed vs foot.lua's), and with OSRM's snapping legs added back.
# Prints one Markdown table. Every step is bounded by `timeout`.
#
# Run from anywhere (needs target/release/terril already built; it builds nothing of terril):
#   bash benches/peers/osrm_walk_matrix.sh
# Environment: DATA (default /work/shared/data/porto-alegre), PYTHON312 (a python3.12 to make
# the venv from; default: pyenv's 3.12), OSRM_BINDINGS_VERSION (default 26.10.0).
# Writes only under target/: peers-venv/ (Python venv), peers-osrm/ (OSRM dataset, logs),
# peers/ (terril network, both matrices, timings.json, osrm-walk.csv.summary.json).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
DATA="${DATA:-$ROOT/../shared/data/porto-alegre}"
TERRIL="$ROOT/target/release/terril"
VENV="$ROOT/target/peers-venv"
OSRM_DIR="$ROOT/target/peers-osrm"
OUT="$ROOT/target/peers"
OSRM_BINDINGS_VERSION="${OSRM_BINDINGS_VERSION:-26.10.0}"
LIMIT=600 # seconds, for every step
GNU_TIME=/usr/bin/time

[ -x "$TERRIL" ] || { echo "missing $TERRIL: build it first (cargo build --release)" >&2; exit 1; }
[ -x "$GNU_TIME" ] || { echo "missing $GNU_TIME (apt-get install time)" >&2; exit 1; }
for f in poa_osm.pbf poa_hexgrid.csv poa_eptc.zip poa_trensurb.zip; do
  [ -r "$DATA/$f" ] || { echo "missing $DATA/$f" >&2; exit 1; }
done
mkdir -p "$OSRM_DIR" "$OUT"

# timed OUTFILE CMD...: runs CMD under GNU time (wall s, peak RSS KiB, user s, system s into OUTFILE),
# its stdout+stderr into OUTFILE.log.
timed() {
  local rec="$1"; shift
  if ! "$GNU_TIME" -f '%e %M %U %S' -o "$rec" timeout "$LIMIT" "$@" >"$rec.log" 2>&1; then
    echo "failed: $* (see $rec.log)" >&2; tail -20 "$rec.log" >&2; exit 1
  fi
}
secs() { cut -d' ' -f1 "$1"; }
mib() { awk '{ printf "%.1f", $2 / 1024 }' "$1"; }
cpu() { awk '{ printf "%.2f", $3 + $4 }' "$1"; }

# --- 1. Python 3.12 venv with osrm-bindings (abi3 wheels need Python >= 3.12) ---------------
if [ ! -x "$VENV/bin/python" ]; then
  . "$ROOT/benches/peers/python.sh"
  PY="${PYTHON312:-$(pyenv_python 3.12)}"
  "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import osrm" 2>/dev/null; then
  "$VENV/bin/pip" install -q "osrm-bindings==$OSRM_BINDINGS_VERSION"
fi
# The wheel ships the OSRM executables in osrm/bin/ and the Lua profiles in osrm/share/profiles/
# (also reachable as `python -m osrm extract|contract|...`).
OSRM_PKG="$("$VENV/bin/python" -c 'import os, osrm; print(os.path.dirname(osrm.__file__))')"
echo "osrm-bindings $("$VENV/bin/pip" show osrm-bindings | awk '/^Version/ {print $2}') at $OSRM_PKG" >&2

# --- 2. OSRM preprocessing: foot profile, CH (extract + contract) -----------------------------
# osrm-extract names its output after the input, so it reads a symlink named poa.osm.pbf.
ln -sf "$DATA/poa_osm.pbf" "$OSRM_DIR/poa.osm.pbf"
rm -f "$OSRM_DIR"/poa.osrm*
echo "OSRM extract (foot.lua)..." >&2
timed "$OSRM_DIR/extract.time" "$OSRM_PKG/bin/osrm-extract" -p "$OSRM_PKG/share/profiles/foot.lua" -t "$(nproc)" "$OSRM_DIR/poa.osm.pbf"
echo "OSRM contract (CH)..." >&2
timed "$OSRM_DIR/contract.time" "$OSRM_PKG/bin/osrm-contract" -t "$(nproc)" "$OSRM_DIR/poa.osrm"

# --- 3. terril network --------------------------------------------------------------------
echo "terril build..." >&2
timed "$OUT/build.time" "$TERRIL" build --gtfs "$DATA/poa_eptc.zip" --gtfs "$DATA/poa_trensurb.zip" \
  --osm "$DATA/poa_osm.pbf" --out "$OUT/poa.bin"

# --- 4. terril walk matrix, best of 3 -------------------------------------------------------
# Walk mode ignores the timetable; date/window just give one departure. 240 min bounds
# nothing in the city (the longest walk is under 4 h) so both tools answer the same pairs.
best_wall="" best_compute="" peak_mib="" best_cpu=""
for run in 1 2 3; do
  echo "terril matrix, run $run/3..." >&2
  timed "$OUT/matrix.time" "$TERRIL" matrix --network "$OUT/poa.bin" --origins "$DATA/poa_hexgrid.csv" \
    --mode walk --date 2019-05-13 --window 14:00-14:01 --cutoff 240 --max-walk-time 240 \
    --seconds --out "$OUT/terril-walk.csv"
  wall="$(secs "$OUT/matrix.time")"
  m="$(mib "$OUT/matrix.time")"
  # terril prints "... N departures: 3.86 s (3.1 ms per origin) ..." (compute only)
  compute="$(sed -n 's/.*departures: \([0-9.]*\) s (.*/\1/p' "$OUT/matrix.time.log" | tail -1)"
  [ -n "$compute" ] || { echo "could not read terril's matrix time from $OUT/matrix.time.log" >&2; exit 1; }
  if [ -z "$best_wall" ] || awk "BEGIN { exit !($wall < $best_wall) }"; then best_wall="$wall"; fi
  c="$(cpu "$OUT/matrix.time")"
  if [ -z "$best_cpu" ] || awk "BEGIN { exit !($c < $best_cpu) }"; then best_cpu="$c"; fi
  if [ -z "$best_compute" ] || awk "BEGIN { exit !($compute < $best_compute) }"; then best_compute="$compute"; fi
  if [ -z "$peak_mib" ] || awk "BEGIN { exit !($m > $peak_mib) }"; then peak_mib="$m"; fi # the largest peak
done

cat >"$OUT/timings.json" <<EOF
{
 "osrm_extract_s": $(secs "$OSRM_DIR/extract.time"), "osrm_extract_mib": $(mib "$OSRM_DIR/extract.time"),
 "osrm_contract_s": $(secs "$OSRM_DIR/contract.time"), "osrm_contract_mib": $(mib "$OSRM_DIR/contract.time"),
 "terril_build_s": $(secs "$OUT/build.time"), "terril_build_mib": $(mib "$OUT/build.time"),
 "terril_matrix_wall_s": $best_wall, "terril_matrix_cpu_s": $best_cpu, "terril_matrix_compute_s": $best_compute, "terril_matrix_mib": $peak_mib
}
EOF

# --- 5. OSRM table + comparison ---------------------------------------------------------------
echo "OSRM table + comparison..." >&2
timeout "$LIMIT" "$VENV/bin/python" "$ROOT/benches/peers/osrm_table.py" --osrm "$OSRM_DIR/poa.osrm" \
  --points "$DATA/poa_hexgrid.csv" --terril "$OUT/terril-walk.csv" --out "$OUT/osrm-walk.csv" \
  --timings "$OUT/timings.json"
echo >&2
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
