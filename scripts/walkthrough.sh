#!/usr/bin/env bash
# Runs the README's curl walkthrough against a fresh dist/vai and prints it as
# Markdown, so the README shows real output: bash scripts/walkthrough.sh > /tmp/w.md
# (test/binary/readme.test.ts runs it and checks the README against it; VAI_README_PORT
# moves the server off 3917, the commands still read as port 3000)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x dist/vai ] || bun run build >/dev/null
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=${VAI_README_PORT:-3917}
vai=$PWD/dist/vai
cd "$work"
"$vai" serve --port $port --db "$work/vai.db" >/dev/null &
pid=$!
until curl -s -o /dev/null localhost:$port/healthz; do sleep 0.05; done

show() { # the command as the reader types it, then what it printed
  printf '```console\n$ %s\n' "$1"
  eval "${1//3000/$port}"
  printf '\n```\n\n'
}

show "curl -s localhost:3000/api/v1/auth/signup -H 'content-type: application/json' -d '{\"email\":\"ada@example.com\",\"password\":\"correct horse battery\",\"name\":\"Ada\"}'"
show "curl -si localhost:3000/api/v1/auth/login -c cookies.txt -H 'content-type: application/json' -d '{\"email\":\"ada@example.com\",\"password\":\"correct horse battery\"}'"
show "curl -s localhost:3000/api/v1/access-tokens -b cookies.txt -H 'content-type: application/json' -d '{\"name\":\"ci deploy key\",\"expiresInDays\":90}'"
capture='TOKEN=$(curl -s localhost:3000/api/v1/access-tokens -b cookies.txt -H "content-type: application/json" -d '"'"'{"name":"laptop"}'"'"' | sed -E '"'"'s/.*"plaintext":"([^"]+)".*/\1/'"'"')'
printf '```console\n$ %s\n```\n\n' "$capture"
eval "${capture//3000/$port}"
export TOKEN
show 'curl -s "localhost:3000/api/v1/access-tokens?limit=2" -H "Authorization: Bearer $TOKEN"'
show 'curl -s -X DELETE localhost:3000/api/v1/access-tokens -H "X-API-Key: $TOKEN"'
show 'curl -s localhost:3000/api/v1/auth/me -b cookies.txt'
show 'curl -s localhost:3000/api/v1/auth/me -H "Authorization: Bearer $TOKEN"'
