#!/usr/bin/env bash
# 考评 benchmark end to end: a month's assessment of all units + the ranking through jiesu's
# fast path (the assessment facts), median of several runs, on SQLite (the Xicheng demo year)
# and on PostgreSQL (a city-scale year); in the same run DuckDB runs the very same statements
# over the same fact rows exported to CSV and converted to Parquet. Prints one JSON document.
#
#   bench/assessment/run.sh [--build]
#
# Environment (defaults in brackets):
#   JIESU          the binary [$CARGO_TARGET_DIR/release/jiesu]
#   SQLITE_DB      demo year, built with --build if missing [$HOME/.cache/jiesu-rollup/demo.db]
#   PG_CITY        city year; built with --build if empty [postgres://postgres@127.0.0.1:5432/jiesu_city]
#   CITY_REQUESTS  requests of the city year when building [24000000]
#   SQLITE_PERIOD / PG_PERIOD  the month [last full month]
#   AS_OF          the cut-off [now]
#   RUNS           timed runs per engine [7]
#   DUCKDB_PY      a Python with duckdb [$HOME/.cache/jiesu-duckdb-venv/bin/python; created if missing]
#   SKIP_PG=1      SQLite only
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${CARGO_TARGET_DIR:-$HOME/.cache/jiesu-target}
JIESU=${JIESU:-$target/release/jiesu}
work=${WORK:-$HOME/.cache/jiesu-rollup}
SQLITE_DB=${SQLITE_DB:-$work/demo.db}
PG_CITY=${PG_CITY:-postgres://postgres@127.0.0.1:5432/jiesu_city}
RUNS=${RUNS:-7}
month=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
SQLITE_PERIOD=${SQLITE_PERIOD:-$month}
PG_PERIOD=${PG_PERIOD:-$month}
AS_OF=${AS_OF:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
DUCKDB_PY=${DUCKDB_PY:-$HOME/.cache/jiesu-duckdb-venv/bin/python}
mkdir -p "$work"

if [[ ! -x $DUCKDB_PY ]]; then
  python3 -m venv "$HOME/.cache/jiesu-duckdb-venv" >&2
  "$HOME/.cache/jiesu-duckdb-venv/bin/pip" install -q duckdb >&2
fi
if [[ ${1:-} == --build ]]; then
  [[ -x $JIESU ]] || cargo build --release -p jiesu >&2
  if [[ ! -f $SQLITE_DB ]]; then
    "$JIESU" demo --months 12 --no-serve --db "sqlite://$SQLITE_DB" > "$work/demo-build.txt"
  fi
  if [[ -z ${SKIP_PG:-} ]]; then
    name=${PG_CITY##*/}; admin=${PG_CITY%/*}/postgres
    if ! psql "$PG_CITY" -Atc "SELECT 1 FROM assessment_cycles LIMIT 1" 2>/dev/null | grep -q 1; then
      psql "$admin" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >&2
      "$JIESU" demo --scale city --db "$PG_CITY" --requests "${CITY_REQUESTS:-24000000}" > "$work/city-build.json"
    fi
  fi
fi

one() { # backend url period
  local backend=$1 url=$2 period=$3 dir="$work/export-$1" extra=()
  mkdir -p "$dir"
  [[ $backend == sqlite ]] && extra=(--replay)
  "$JIESU" bench assessment --db "$url" --period "$period" --as-of "$AS_OF" --runs "$RUNS" \
    --sql-out "$dir/statements.sql" "${extra[@]}" > "$dir/ours.json"
  local t0=$(date +%s.%N)
  for t in cycles callbacks whistles; do
    if [[ $backend == sqlite ]]; then
      sqlite3 -header -csv "${url#sqlite://}" "SELECT * FROM assessment_$t" > "$dir/$t.csv"
    else
      psql "$url" -qc "\\copy assessment_$t TO '$dir/$t.csv' WITH (FORMAT csv, HEADER)"
    fi
  done
  local export_s=$(echo "$(date +%s.%N) - $t0" | bc)
  "$DUCKDB_PY" "$here/duckdb_assessment.py" --dir "$dir" --sql "$dir/statements.sql" --runs "$RUNS" > "$dir/duckdb.json"
  python3 - "$dir/ours.json" "$dir/duckdb.json" "$export_s" <<'PY'
import json, sys
ours, duck = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
same = (ours["groups"] == duck["groups"] and ours["groups_ranked"] == duck["groups_ranked"]
        and ours["totals"]["dispatched"] == duck["totals"]["dispatched"]
        and ours["totals"]["callbacks_reached"] == duck["totals"]["callbacks_reached"])
print(json.dumps({"jiesu": ours, "duckdb": duck, "export_csv_seconds": round(float(sys.argv[3]), 1),
                  "same_answer": same,
                  "ratio_ours_over_duckdb": round(ours["median_ms"] / duck["median_ms"], 2)}))
PY
  rm -f "$dir"/*.csv "$dir"/*.parquet
}

{
  echo "{\"as_of\": \"$AS_OF\", \"sqlite\": "
  one sqlite "sqlite://$SQLITE_DB" "$SQLITE_PERIOD"
  if [[ -z ${SKIP_PG:-} ]]; then
    echo ", \"postgres\": "
    one postgres "$PG_CITY" "$PG_PERIOD"
  fi
  echo "}"
} | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=2, ensure_ascii=False))'
