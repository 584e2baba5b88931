#!/bin/sh
# make lint: banned calls (curl's checksrc idea). Exit 1 on any finding.
#  - unbounded or unchecked string/number calls anywhere in src/;
#  - shell-spawning calls anywhere in src/;
#  - open()/fopen() outside pathsafe/ and config/, except the reviewed
#    non-request paths listed below (they never see request data);
#  - sqlite3_exec() outside the migration runner.
set -u
src=${1:-src}
status=0
report() { echo "lint: $1"; echo "$2" | sed 's/^/  /'; status=1; }

# strip C comments and strings crudely enough for grep: drop // and /* */ lines
code() { grep -rnE "$1" "$src" --include='*.c' --include='*.h' | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)'; }

hits=$(code '(^|[^a-z_0-9])(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok)[[:space:]]*\(')
[ -z "$hits" ] || report "banned unbounded/unchecked calls" "$hits"
hits=$(code '(^|[^a-z_0-9])(system|popen)[[:space:]]*\(')
[ -z "$hits" ] || report "shell-spawning calls (use src/spawn)" "$hits"

allowed_open='^src/(pathsafe|config)/|^src/sysinfo/sysinfo\.c:|^src/monitor/monitor\.c:|^src/audit/audit\.c:|^src/cli/main\.c:|^src/spawn/spawn\.c:|^src/db/db\.c:'
hits=$(code '(^|[^a-z_0-9>.])(fopen|open)[[:space:]]*\(' | grep -vE "$allowed_open")
[ -z "$hits" ] || report "open()/fopen() outside pathsafe/ and config/" "$hits"
hits=$(code 'sqlite3_exec[[:space:]]*\(' | grep -v '^src/db/db\.c:')
[ -z "$hits" ] || report "sqlite3_exec() outside migrations" "$hits"
hits=$(code '#include[[:space:]]*<(fcgiapp|fcgi_stdio)\.h>' | grep -v '^src/fcgi/')
[ -z "$hits" ] || report "fcgiapp.h outside fcgi/" "$hits"
hits=$(code '#include[[:space:]]*<sqlite3\.h>' | grep -v '^src/db/')
[ -z "$hits" ] || report "sqlite3.h outside db/" "$hits"
hits=$(code '#include[[:space:]]*<jwt\.h>' | grep -v '^src/auth/')
[ -z "$hits" ] || report "jwt.h outside auth/" "$hits"
hits=$(code '#include[[:space:]]*<curl/curl\.h>' | grep -v '^src/outbound/')
[ -z "$hits" ] || report "curl/curl.h outside outbound/" "$hits"
hits=$(code '#include[[:space:]]*<yaml\.h>' | grep -v '^src/config/')
[ -z "$hits" ] || report "yaml.h outside config/" "$hits"
[ $status -eq 0 ] && echo "lint: clean"
exit $status
