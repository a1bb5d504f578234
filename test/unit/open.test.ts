import { describe, expect, test } from 'bun:test'
import { resolve } from 'node:path'
import { backendFor, describeDb, sqlitePath } from '../../src/store/open'

describe('which backend a --db value names', () => {
  test.each([
    ['postgres://vai@db:5432/vai', true],
    ['postgresql://vai@db/vai', true],
    ['POSTGRES://vai@db/vai', true],
    ['./vai.db', false],
    ['sqlite:./vai.db', false],
    ['/var/lib/vai/postgres.db', false],
  ])('%s → PostgreSQL: %p', (db, postgres) => {
    expect(backendFor(db).name).toBe(postgres ? 'postgres' : 'sqlite')
  })

  test.each([
    ['sqlite:./vai.db', './vai.db'],
    ['sqlite:///var/lib/vai/vai.db', '/var/lib/vai/vai.db'],
    ['sqlite://:memory:', ':memory:'],
    ['vai.db', 'vai.db'],
  ])('the SQLite file of %s is %s', (db, path) => {
    expect(sqlitePath(db)).toBe(path)
  })
})

describe('the database as vai prints it', () => {
  test('a URL keeps everything but its password', () => {
    expect(describeDb('postgres://vai:s3cret-pass@db.internal:5432/vai?sslmode=require')).toBe('postgres://vai:***@db.internal:5432/vai?sslmode=require')
    expect(describeDb('postgres://vai@db.internal/vai')).toBe('postgres://vai@db.internal/vai')
  })

  test('a URL that does not parse is not printed at all', () => {
    expect(describeDb('postgres://vai:pa ss@[bad/vai')).toBe('postgres://…')
  })

  test('a file is shown by its full path', () => {
    expect(describeDb('vai.db')).toBe(resolve('vai.db'))
    expect(describeDb('sqlite::memory:')).toBe(':memory:')
  })
})
