#!/usr/bin/env bash
# Schemathesis (PyPI) against a live `jiesu serve`: the API's own OpenAPI document drives
# generated requests, as a handler, a 民政 care admin and an admin, and the run fails on any 5xx, any
# status the document does not list, any answer that does not match its schema.
#
#   bash .ci/schemathesis.sh JIESU_BINARY [SECONDS_PER_ROLE]
#
# Prints one closing line: `schemathesis: N operations, M cases, F failures`.
set -euo pipefail
script="$(realpath "$0")"
cd "$(dirname "$script")/.."

jiesu="$(realpath "${1:?usage: schemathesis.sh JIESU_BINARY [SECONDS_PER_ROLE]}")"
budget="${2:-90}"
venv="$HOME/.cache/jiesu-schemathesis-venv"

if [ -z "${JIESU_ST_IN_NETNS:-}" ]; then
  # Installed before leaving the network (the run itself needs none).
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check schemathesis==4.32.5
  # Generated webhook URLs must never be delivered to: run the server and schemathesis in a
  # network namespace of their own with only loopback. Without one (no unshare), webhook
  # creation is left out instead.
  if command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
    exec unshare -n env JIESU_ST_IN_NETNS=1 bash "$script" "$@"
  fi
  JIESU_ST_IN_NETNS=none
fi
if [ "$JIESU_ST_IN_NETNS" = 1 ]; then
  ip link set lo up
fi

work="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "${JIESU_ST_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

db="sqlite://$work/st.db"
password="St-password-2026"
add_user() { # username role [unit]
  local args=(user add --db "$db" --username "$1" --role "$2" --password-stdin)
  [ -n "${3:-}" ] && args+=(--unit "$3")
  echo "$password" | "$jiesu" "${args[@]}" >"$work/user-add.log" 2>&1 || { cat "$work/user-add.log" >&2; return 1; }
}
add_user st-admin admin
add_user st-handler handler 110102012
add_user st-operator operator
add_user st-care care_admin

"$jiesu" serve --db "$db" --bind 127.0.0.1:0 >"$work/server.out" 2>"$work/server.err" &
server=$!
base=""
for _ in $(seq 1 100); do
  base="$(grep -o 'http://[0-9.:]*' "$work/server.out" | head -1 || true)"
  [ -n "$base" ] && curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  base=""
  sleep 0.2
done
[ -n "$base" ] || { echo "schemathesis: the server did not start" >&2; cat "$work/server.err" >&2; exit 1; }

token() {
  curl -fsS -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$password\"}" "$base/api/v1/auth/login" |
    "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# A few requests for the generated ids to land on, dispatched to the handler's unit.
op="$(token st-operator)"
for text in "小区物业不清理楼道杂物，堆了两个月了，存在消防隐患。" "路灯坏了一个星期，晚上很黑，老人出门不方便。" "楼下餐馆油烟太大，窗户都不敢开，希望处理。"; do
  curl -fsS -o /dev/null -H "authorization: Bearer $op" -H 'content-type: application/json' \
    -d "{\"request_type\":\"complaint\",\"category\":\"property.service\",\"street\":\"110102012\",\"address\":\"鼓楼西大街12号院\",\"text\":\"$text\",\"caller_name\":\"王建国\",\"caller_phone\":\"13812345678\",\"dispatch_to\":\"110102012\"}" \
    "$base/api/v1/requests"
done

# Ending its own session would turn the rest of the run into 401s; logout is covered by tests.
excludes=(--exclude-path /api/v1/auth/logout)
[ "$JIESU_ST_IN_NETNS" = 1 ] || excludes+=(--exclude-path /api/v1/webhooks)

# Half the generated path ids name rows that exist (the requests above, the accounts), so the
# handlers' own logic is reached rather than their 404.
cat >"$work/schemathesis.toml" <<'TOML'
[dictionaries.ids]
values = [1, 2, 3]

[parameters]
"path.id" = { dictionary = "ids", probability = 0.5 }
TOML

total_ops=0 total_cases=0 total_failures=0 status=0
# The handler first: the admin's run may change accounts (resets, disables) the handler uses.
for who in st-handler st-care st-admin; do
  tok="$(token "$who")"
  out="$work/$who.txt"
  set +e
  # From the scratch folder: schemathesis keeps its example database in the working directory.
  (cd "$work" && "$venv/bin/st" --config-file "$work/schemathesis.toml" run "$base/api/v1/openapi.json" \
    --url "$base" \
    -H "Authorization: Bearer $tok" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples 25 --max-time "$budget" --workers 1 --seed 12345 \
    --request-timeout 20 --suppress-health-check all --no-color \
    --report ndjson --report-ndjson-path "$work/$who.ndjson" \
    "${excludes[@]}" >"$out" 2>&1)
  rc=$?
  set -e
  # The counts come from the run's own event stream, not its screen layout.
  read -r ops cases failures < <("$venv/bin/python" - "$work/$who.ndjson" <<'PY'
import json, sys
ops, cases, failures = set(), 0, 0
for line in open(sys.argv[1], encoding="utf-8"):
    ev = json.loads(line)
    for kind, body in ev.items():
        if kind == "ScenarioFinished":
            rec = body.get("recorder") or {}
            label = rec.get("label")
            if label:
                ops.add(label)
            cases += len(rec.get("cases") or {})
            # A case fails when any of its checks does.
            for checks in (rec.get("checks") or {}).values():
                failures += any(c.get("status") == "failure" for c in checks)
print(len(ops), cases, failures)
PY
)
  echo "schemathesis as ${who#st-}: $ops operations, $cases cases, $failures failures (exit $rc)"
  if [ "$rc" -ne 0 ] || [ "$failures" -ne 0 ]; then
    status=1
    tail -120 "$out"
  fi
  total_ops=$((ops > total_ops ? ops : total_ops))
  total_cases=$((total_cases + cases))
  total_failures=$((total_failures + failures))
done

if grep -q 'panicked' "$work/server.err"; then
  echo "the server panicked:" >&2
  grep -A5 'panicked' "$work/server.err" | head -40 >&2
  status=1
fi
echo "schemathesis: $total_ops operations, $total_cases cases, $total_failures failures"
exit "$status"
