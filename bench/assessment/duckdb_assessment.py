#!/usr/bin/env python3
"""The yardstick for `jiesu bench assessment`: DuckDB runs exactly the statements jiesu ran
(written by `--sql-out`) over the same fact rows exported from the database, converted once to
Parquet (conversion not timed). Prints JSON: median ms of the three statements plus folding the
groups and ranking them, and the totals, to compare with jiesu's answer.

usage: duckdb_assessment.py --dir DIR --sql FILE [--runs N]
DIR holds cycles.csv, callbacks.csv, whistles.csv (with headers).
"""
import argparse, json, re, statistics, time
import duckdb

p = argparse.ArgumentParser()
p.add_argument("--dir", required=True)
p.add_argument("--sql", required=True)
p.add_argument("--runs", type=int, default=7)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()

con = duckdb.connect()
con.execute(f"SET threads = {a.threads}")
tables = {"cycles": "assessment_cycles", "callbacks": "assessment_callbacks", "whistles": "assessment_whistles"}
bools = {"reached": "BOOLEAN", "resolved": "BOOLEAN"}
convert_ms = {}
for short, table in tables.items():
    csv, pq = f"{a.dir}/{short}.csv", f"{a.dir}/{short}.parquet"
    t = time.perf_counter()
    types = ", types = {'reached': 'BOOLEAN', 'resolved': 'BOOLEAN'}" if short == "callbacks" else ""
    con.execute(
        f"COPY (SELECT * FROM read_csv('{csv}', header = true{types})) TO '{pq}' (FORMAT parquet)"
    )
    convert_ms[short] = round((time.perf_counter() - t) * 1000)
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pq}')")
rows = {s: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for s, t in tables.items()}
# `at` is a keyword in DuckDB's grammar: the only change to the statements is quoting it.
statements = [re.sub(r"\bat\b", '"at"', l.strip()) for l in open(a.sql) if l.strip()]
assert len(statements) == 3, "expected the three statements of --sql-out"


def once():
    cyc, cb, wh = (con.execute(s).fetchall() for s in statements)
    g = {}

    def row(k):
        return g.setdefault(k, [0] * 12)

    for k, n, rit, rep, rep_it in cyc:
        r = row(k); r[0] += n; r[1] += rit or 0
    for k, reached, resolved, sat, basic, unsat, unreached in cb:
        r = row(k); r[2] += reached or 0; r[3] += resolved or 0
        r[4] += sat or 0; r[5] += basic or 0; r[6] += unsat or 0; r[7] += unreached or 0
    for k, n, it in wh:
        r = row(k); r[8] += n; r[9] += it or 0
    scored = []
    for k, r in g.items():
        answers = r[4] + r[5] + r[6]
        if r[0] and r[2] and answers:
            resp, res = r[1] * 100 / r[0], r[3] * 100 / r[2]
            sat = (r[4] * 100 + r[5] * 80) / answers
            scored.append(((10 * resp + 45 * res + 45 * sat) / 100, k))
    scored.sort(key=lambda x: (-x[0], x[1]))
    totals = [sum(r[i] for r in g.values()) for i in range(10)]
    return len(g), len(scored), totals


once()  # warm-up
times = []
for _ in range(a.runs):
    t = time.perf_counter()
    groups, ranked, totals = once()
    times.append((time.perf_counter() - t) * 1000)
print(json.dumps({
    "engine": f"duckdb {duckdb.__version__}",
    "threads": a.threads,
    "rows": rows,
    "parquet_convert_ms": convert_ms,
    "groups": groups,
    "groups_ranked": ranked,
    "totals": {"dispatched": totals[0], "responded_in_time": totals[1], "callbacks_reached": totals[2],
               "resolved": totals[3], "whistled": totals[8]},
    "runs_ms": [round(x, 2) for x in times],
    "median_ms": round(statistics.median(times), 2),
}))
