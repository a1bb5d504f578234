// Human passwords get argon2id; random tokens never do (SHA-256 is enough for 190 bits).

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: 'argon2id' })
}

let dummyHash: Promise<string> | undefined

/**
 * Verifies against the stored hash, or against a throwaway hash when there is
 * none, so an unknown email costs the same time as a wrong password.
 */
export async function verifyPassword(password: string, storedHash: string | null): Promise<boolean> {
  dummyHash ??= hashPassword(crypto.randomUUID())
  const ok = await Bun.password.verify(password, storedHash ?? (await dummyHash))
  return ok && storedHash !== null
}
