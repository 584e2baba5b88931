#!/bin/sh
# Foundation benchmark (issue 2): requests per second of GET /api/user/me
# (JWT + user lookup + JSON, through nginx and FastCGI) against a small
# static file served by the same nginx, and their ratio. wrk, 2 threads,
# 32 connections, 10 s each, after a short warm-up.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MC_ADMIN_BUILD:-$top/build}
dur=${BENCH_SECONDS:-10}
state=$(mktemp -d "${TMPDIR:-/tmp}/mcadmin-bench.XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap '"$top/contrib/dev/stack.sh" stop "$state"; rm -rf "$state"' EXIT
command -v wrk >/dev/null || { echo "bench-api: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

NGINX_ACCESS_LOG=off MC_ADMIN_BUILD=$build "$top/contrib/dev/stack.sh" start "$state" "$port" >/dev/null
base=http://127.0.0.1:$port
master=$(cat "$state/credentials/master_token")
curl -fsS -o /dev/null -H "Authorization: Bearer $master" -H 'Content-Type: application/json' \
	-d '{"username":"bench","password":"bench-pw","role":"owner"}' "$base/api/admin/users"
token=$(curl -fsS -F username=bench -F password=bench-pw "$base/api/auth/token" |
	sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')

rps() {
	wrk -t2 -c32 -d"$dur"s "$@" | awk '/Requests\/sec/ { print $2 }'
}
wrk -t2 -c32 -d2s -H "Authorization: Bearer $token" "$base/api/user/me" >/dev/null
api=$(rps -H "Authorization: Bearer $token" "$base/api/user/me")
static=$(rps "$base/robots.txt")
echo "GET /api/user/me (through nginx):  $api req/s"
echo "GET /robots.txt (static, nginx):   $static req/s"
awk -v a="$api" -v s="$static" 'BEGIN { printf "ratio api/static:                  %.2f (goal >= 0.5)\n", a / s }'
