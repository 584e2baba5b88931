#!/bin/sh
# Run every contrib/bench/bench-*.sh in turn (make bench).
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
for b in "$here"/bench-*.sh; do
	echo "== $(basename "$b")"
	sh "$b" || status=1
done
exit $status
