/** An email as it is stored and compared: trimmed and lower-cased, so that Ada@Example.com is ada@example.com. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase()
