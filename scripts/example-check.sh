#!/usr/bin/env bash
# The README's first command, checked from outside as a newcomer runs it (CI runs this before any
# other npm script, on its fresh clone): `npm run example` must start with no generated files,
# answer SCIM requests with the token it was given, and exit on SIGTERM with nothing left behind.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf src/filter/generated   # as if nothing but `npm ci --ignore-scripts` had run
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
token=ci-example-token
PORT=0 SCIM_TOKEN=$token SCIM_DB="$work/example.db" setsid npm run example >"$work/out" 2>&1 &
pid=$!
url=
for _ in $(seq 1 120); do
  url=$(sed -n 's/^SCIM server ready at //p' "$work/out")
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$url" ]; then
  echo "example-check: npm run example did not start:" >&2
  cat "$work/out" >&2
  kill -KILL -- "-$pid" 2>/dev/null || true
  exit 1
fi
status() { curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $token" "$url$1"; }
fail=0
for path in /ServiceProviderConfig /Users /Groups; do
  code=$(status "$path")
  if [ "$code" != 200 ]; then echo "example-check: GET $path answered $code: $(cat "$work/body")" >&2; fail=1; fi
done
status /ServiceProviderConfig >/dev/null
grep -q '"bulk":{"supported":true' "$work/body" || { echo "example-check: Bulk is not served" >&2; fail=1; }
kill -TERM "$pid"
for _ in $(seq 1 40); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.25; done
if kill -0 -- "-$pid" 2>/dev/null; then
  echo "example-check: processes left after SIGTERM:" >&2
  ps -o pid,cmd -g "$pid" >&2 || true
  kill -KILL -- "-$pid" 2>/dev/null || true
  fail=1
fi
[ "$fail" = 0 ] && echo "example-check: npm run example answered at $url and stopped on SIGTERM"
exit "$fail"
