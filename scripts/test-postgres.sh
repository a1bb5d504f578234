#!/usr/bin/env bash
# The PostgreSQL leg of the test suite: starts a throwaway PostgreSQL cluster (its
# own data directory, loopback only, a free port, TLS with certificates of its own),
# runs the tests with VAI_TEST_POSTGRES pointing at it (and VAI_TEST_POSTGRES_TLS at
# the certificates), and removes the cluster afterwards.
#
#   scripts/test-postgres.sh                 # the in-process suite + test/postgres
#   scripts/test-postgres.sh test/http       # any `bun test` arguments
#
# Needs PostgreSQL's server programs (Debian: apt-get install postgresql). As root,
# the cluster runs as the `postgres` user, since PostgreSQL refuses to run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then bindir="$(pg_config --bindir)"; fi
[ -n "$bindir" ] || bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "test-postgres: PostgreSQL's server programs (initdb, pg_ctl) are missing; install the postgresql package" >&2
  exit 1
fi

as_owner=()
# runuser lives in /usr/sbin, which a root shell's PATH does not always hold.
if [ "$(id -u)" = 0 ]; then as_owner=("$(command -v runuser || echo /usr/sbin/runuser)" -u postgres --); fi

dir="$(mktemp -d /tmp/vai-pg.XXXXXX)"
chmod 755 "$dir"
[ ${#as_owner[@]} -eq 0 ] || chown postgres "$dir"
port="$(bun -e 'const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } }); console.log(s.port); s.stop(true)')"

stop() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null

# TLS for test/postgres/tls.test.ts (clients without sslmode connect in the clear, as
# before): ca.pem signs server.crt, valid for 127.0.0.1 only; stranger.crt is signed by a
# CA that vai is never given. openssl comes with Debian's postgresql (through ssl-cert).
tls="$dir/tls"
mkdir "$tls"
certificate() { # name subject issuer(empty: self-signed CA)
  local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tls/$1.key")
  if [ -z "$3" ]; then
    openssl req -x509 "${key[@]}" -days 2 -subj "/CN=$2" -out "$tls/$1.pem"
  else
    openssl req "${key[@]}" -subj "/CN=$2" -out "$tls/$1.csr"
    openssl x509 -req -in "$tls/$1.csr" -CA "$tls/$3.pem" -CAkey "$tls/$3.key" -CAcreateserial -days 2 \
      -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$tls/$1.crt"
  fi
}
if ! command -v openssl >/dev/null 2>&1; then
  echo "test-postgres: openssl is missing; install the openssl package" >&2
  exit 1
fi
{ certificate ca 'vai test CA' '' && certificate server 127.0.0.1 ca \
  && certificate stranger-ca 'a CA vai does not trust' '' && certificate stranger 127.0.0.1 stranger-ca; } >/dev/null 2>&1 \
  || { echo "test-postgres: openssl could not make the test certificates" >&2; exit 1; }
chmod 600 "$tls"/*.key
[ ${#as_owner[@]} -eq 0 ] || chown -R postgres "$tls"
# One role logs in with a real password (test/postgres/cli.test.ts); the rest are trusted.
sed -i '1i host all vai_scram 127.0.0.1/32 scram-sha-256' "$dir/data/pg_hba.conf"
# In the configuration file, not on the command line, so that a test can switch the
# certificate with ALTER SYSTEM and a reload.
printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\n" "$tls/server.crt" "$tls/server.key" >>"$dir/data/postgresql.conf"
# fsync off: a throwaway cluster for tests, where speed matters and a power cut does not.
# Each test app has a small pool of its own; 1000 connections leave room for all of them.
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
  "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=1000 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null

export VAI_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres"
export VAI_TEST_POSTGRES_TLS="$tls"
echo "test-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
if [ $# -eq 0 ]; then
  # Everything that runs in process goes through the store, and the graceful-stop and
  # kill -9 tests start dist/vai on a database of their own; test/postgres adds the
  # multi-instance, outage and CLI tests; the web console runs in Chromium against a
  # dist/vai on PostgreSQL. Left to the SQLite leg: the binary's packaging and flags
  # (test/binary/binary.test.ts) and the admin commands on a SQLite file (test/binary/cli.test.ts:
  # backup, doctor's file checks), whose PostgreSQL side is test/postgres/cli.test.ts.
  set -- test/unit test/store test/http test/security test/postgres test/binary/lifecycle.test.ts test/browser
fi
bun test "$@"
