// Databases of a test file's own on the PostgreSQL server VAI_TEST_POSTGRES names, so that
// runs and files never see each other's rows.
import { SQL } from 'bun'

export function testDatabases(label: string) {
  let admin: SQL | undefined
  const names: string[] = []
  return {
    /** A new empty database; its URL, with `password` in it when given (trust auth ignores it). */
    async create(password?: string): Promise<string> {
      admin ??= new SQL({ url: process.env.VAI_TEST_POSTGRES!, max: 1 })
      const name = `vai_${label}_${process.pid}_${names.length + 1}`
      await admin.unsafe(`CREATE DATABASE ${name}`)
      names.push(name)
      const url = new URL(process.env.VAI_TEST_POSTGRES!)
      if (password) url.password = password
      url.pathname = `/${name}`
      return url.toString()
    },
    /** After the servers are stopped: WITH (FORCE) ends what a killed instance left connected. */
    async dropAll() {
      for (const name of names) await admin!.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin?.close()
    },
  }
}
