// What `vai doctor` says of the connection to PostgreSQL, from the URL and the protocol
// pg_stat_ssl reports (null: not encrypted). The end-to-end side, against a server with
// TLS, is test/postgres/tls.test.ts.
import { describe, expect, test } from 'bun:test'
import { transportFinding } from '../../src/store/postgres-backend'

const ADVICE = 'add sslmode=verify-full&sslrootcert=<the CA file> to the URL'

describe('transportFinding', () => {
  test.each([
    ['verify-full', 'postgres://vai:pw@db.internal/vai?sslmode=verify-full&sslrootcert=/etc/vai/ca.pem', 'TLSv1.3',
      ['ok', "connection encrypted (TLSv1.3), the server's certificate and name verified (sslmode=verify-full)"]],
    ['verify-ca', 'postgres://vai:pw@db.internal/vai?sslmode=verify-ca', 'TLSv1.2',
      ['ok', "connection encrypted (TLSv1.2), the server's certificate verified but not its name (sslmode=verify-ca)"]],
    ['require: encrypted, nobody checked who answers', 'postgres://vai:pw@db.internal/vai?sslmode=require', 'TLSv1.3',
      ['warn', `connection encrypted (TLSv1.3), but the server's certificate is not verified (sslmode=require): anyone on the path can pose as the database; ${ADVICE}`]],
    ['prefer, and the server offered TLS', 'postgres://vai:pw@db.internal/vai?sslmode=prefer', 'TLSv1.3',
      ['warn', `connection encrypted (TLSv1.3), but the server's certificate is not verified (sslmode=prefer): anyone on the path can pose as the database; ${ADVICE}`]],
    ['require with a CA: Bun.SQL then checks the certificate and the name', 'postgres://vai:pw@db.internal/vai?sslmode=require&sslrootcert=/etc/vai/ca.pem', 'TLSv1.3',
      ['ok', "connection encrypted (TLSv1.3), the server's certificate and name verified (sslmode=require with sslrootcert)"]],
    ['plain, across the network', 'postgres://vai:pw@db.internal:5432/vai', null,
      ['warn', `connection to db.internal is not encrypted: the password and every query cross the network readable; ${ADVICE}`]],
    ['prefer, and the server had no TLS', 'postgres://vai:pw@10.0.0.5/vai?sslmode=prefer', null,
      ['warn', `connection to 10.0.0.5 is not encrypted: the password and every query cross the network readable; ${ADVICE}`]],
    ['plain, 127.0.0.1', 'postgres://vai@127.0.0.1:5432/vai', null, ['ok', 'connection not encrypted, to 127.0.0.1 on this machine']],
    ['plain, localhost', 'postgres://vai@localhost/vai', null, ['ok', 'connection not encrypted, to localhost on this machine']],
    ['plain, ::1', 'postgres://vai@[::1]:5432/vai', null, ['ok', 'connection not encrypted, to [::1] on this machine']],
    ['plain, a unix socket', 'postgres://vai@localhost/vai?host=/run/postgresql', null, ['ok', 'connection not encrypted, to a unix socket on this machine']],
  ] as const)('%s', (_name, url, tls, finding) => {
    expect(transportFinding(url, tls)).toEqual([...finding])
  })
})
