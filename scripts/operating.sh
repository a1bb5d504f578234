#!/usr/bin/env bash
# Runs every admin command of the README's "Operating vai" section against a
# fresh dist/vai and prints it as Markdown with the real output:
#   bash scripts/operating.sh > /tmp/operating.md
# (test/binary/readme.test.ts runs it and checks the README against it; VAI_README_PORT
# moves the server off 3918, which the commands and outputs still show)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x dist/vai ] || bun run build >/dev/null
vai=$PWD/dist/vai
work=$(mktemp -d)
cd "$work"
ln -s "$vai" vai
export PATH="$work:$PATH" VAI_DB=/var/lib/vai/vai.db
mkdir -p "$work/var/lib/vai"
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

port=${VAI_README_PORT:-3918}
shown() { sed "s#$work##g; s#:$port\b#:3918#g"; } # as the reader would see it: their paths, port 3918

show() { # the command as the reader types it, then what it printed
  printf '```console\n$ %s\n' "$1"
  local command=${1//\/var\/lib\/vai/$work/var/lib/vai}
  command=${command//3918/$port}
  (eval "$command" 2>&1 | shown) || true
  printf '```\n\n'
}

VAI_DB=$work/var/lib/vai/vai.db vai serve --port "$port" --metrics >"$work/server.log" &
pid=$!
until curl -s -o /dev/null "localhost:$port/healthz"; do sleep 0.05; done
export VAI_DB=$work/var/lib/vai/vai.db

show "printf '%s\n' 'correct horse battery' | vai user add --email ada@example.com --name Ada"
curl -s "localhost:$port/api/v1/auth/login" -H 'content-type: application/json' -d '{"email":"ada@example.com","password":"correct horse battery"}' -o /dev/null
curl -s "localhost:$port/api/v1/auth/login" -H 'content-type: application/json' -A 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0' -d '{"email":"ada@example.com","password":"correct horse battery"}' -o /dev/null
show "printf '%s\n' 'another good password' | vai user passwd --email ada@example.com"
curl -s "localhost:$port/api/v1/auth/login" -H 'content-type: application/json' -d '{"email":"ada@example.com","password":"another good password"}' -o /dev/null
show "printf '%s\n' 'bob password 1' | vai user add --email bob@example.com"
show "vai user list"
show "vai user list --json"
show "vai tokens list --email ada@example.com"
show "vai tokens revoke-all --email ada@example.com"
curl -s "localhost:$port/api/v1/auth/login" -H 'content-type: application/json' -d '{"email":"ada@example.com","password":"not her password"}' -o /dev/null
show "vai audit --email ada@example.com"
show "vai tokens purge --retention-days 90"
show "echo n | vai user delete --email bob@example.com"
show "vai user delete --email bob@example.com --yes"
show "vai backup /var/lib/vai/backup-2026-11-30.db"
show "vai migrate"
show "vai doctor"
show "vai healthcheck --url http://127.0.0.1:3918/healthz"
show "curl -s localhost:3918/metrics | grep -E '^vai_(logins|auth_failures|active_tokens|database)'"
kill -TERM $pid; wait $pid || true
printf 'The server'"'"'s stdout meanwhile (start line, retention job, access log, shutdown):\n\n```\n'
shown <"$work/server.log"
printf '```\n'
