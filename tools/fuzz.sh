#!/usr/bin/env bash
# `make fuzz`: schemathesis against /api/openapi.json as a community worker and as an auditor.
#
# A throwaway SQLite database loaded by seed_demo, served by gunicorn on 127.0.0.1 (loopback
# only), then one schemathesis run per user with a Bearer token from POST /api/auth/token.
# Checks: not_a_server_error and response_schema_conformance (a documented status whose body
# contradicts its schema fails). Bounded: FUZZ_EXAMPLES cases per operation and FUZZ_SECONDS
# per user. Everything is removed afterwards; the server is stopped by its own pid.
set -euo pipefail

BIN=${BIN:-.venv/bin}
FUZZ_BIN=$(cd "${FUZZ_BIN:-.venv-fuzz/bin}" && pwd)
PORT=${FUZZ_PORT:-8765}
EXAMPLES=${FUZZ_EXAMPLES:-30}
SECONDS_PER_USER=${FUZZ_SECONDS:-300}
SEED=${FUZZ_SEED:-8}
USERS=${FUZZ_USERS:-community auditor}
BASE="http://127.0.0.1:${PORT}"

WORK=$(mktemp -d -t yinling-fuzz.XXXXXX)
REPORTS=${FUZZ_REPORTS:-$WORK/reports}
export DJANGO_SETTINGS_MODULE=yinling.settings
# FUZZ_DATABASE_URL: a PostgreSQL database to throw away instead (NUL in text fails only there).
export DATABASE_URL="${FUZZ_DATABASE_URL:-sqlite:///${WORK}/fuzz.sqlite3}"
export MEDIA_ROOT="${WORK}/media"
export DEBUG=1                      # plain HTTP on loopback; API errors never show tracebacks anyway
export TASK_BACKEND=database        # background imports wait in the queue; no worker runs
export LOG_LEVEL=ERROR

server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -z "${FUZZ_KEEP:-}" ]; then rm -rf "$WORK"; else echo "fuzz: kept $WORK"; fi
}
trap cleanup EXIT

echo "fuzz: seeding a throwaway database in $WORK"
"$BIN/python" manage.py migrate --no-input -v0
"$BIN/python" manage.py seed_demo >/dev/null

"$BIN/gunicorn" yinling.wsgi:application --bind "127.0.0.1:${PORT}" --workers 2 --timeout 60 \
  --error-logfile "$WORK/server.log" --capture-output &
server_pid=$!
for _ in $(seq 1 60); do
  if "$BIN/python" -c "import urllib.request,sys; urllib.request.urlopen('${BASE}/healthz', timeout=1)" 2>/dev/null; then break; fi
  sleep 0.5
done

token() {
  "$BIN/python" - "$BASE" "$1" <<'PY'
import json, sys, urllib.request
base, user = sys.argv[1], sys.argv[2]
body = json.dumps({"username": user, "password": "demo12345"}).encode()
req = urllib.request.Request(base + "/api/auth/token", body, {"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=10))["token"])
PY
}

status=0
mkdir -p "$REPORTS"
for user in $USERS; do
  echo "fuzz: as ${user} (${EXAMPLES} examples per operation, at most ${SECONDS_PER_USER} s)"
  bearer=$(token "$user")
  # From $WORK, so schemathesis's replay store (.schemathesis/) goes away with it.
  (cd "$WORK" && timeout --signal=INT "$SECONDS_PER_USER" "$FUZZ_BIN/schemathesis" run "${BASE}/api/openapi.json" \
    --header "Authorization: Bearer ${bearer}" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$EXAMPLES" --seed "$SEED" --workers 2 \
    --phases examples,coverage,fuzzing \
    --generation-database none --request-timeout 30 --no-color \
    --report junit --report-junit-path "$REPORTS/${user}.xml") || status=$?
done
if grep -qE "Internal Server Error|API error on" "$WORK/server.log" 2>/dev/null; then
  echo "fuzz: the server answered 5xx:"; grep -A20 -E "Internal Server Error|API error on" "$WORK/server.log" | head -60
  status=1
fi
echo "fuzz: reports in $REPORTS$( [ -z "${FUZZ_KEEP:-}" ] && [ -z "${FUZZ_REPORTS:-}" ] && echo ' (removed; FUZZ_KEEP=1 keeps them)')"
exit $status
