// contrib/gitleaks.toml's rule, run as a scanner would over sample text: every vai token
// found wherever it sits, nothing that merely looks like one. It is the server's own
// TOKEN_PATTERN (what the logs are scrubbed with), so the two cannot drift apart.
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import gitleaks from '../../contrib/gitleaks.toml'
import { generateToken, isWellFormedToken, TOKEN_PATTERN } from '../../src/auth/token-format'

const [rule] = (gitleaks as { rules: { id: string; regex: string; keywords: string[]; tags?: string[] }[] }).rules
// RE2, which gitleaks speaks, reads this pattern as JavaScript does: \b and classes only.
const scan = (text: string) => [...text.matchAll(new RegExp(rule!.regex, 'g'))].map((match) => match[0])

describe('the gitleaks rule for vai tokens', () => {
  test('is the server’s TOKEN_PATTERN, keyed on vai_', () => {
    expect([rule!.id, rule!.regex, rule!.keywords]).toEqual(['vai-access-token', TOKEN_PATTERN.source, ['vai_']])
  })

  test('the README shows the same rule', async () => {
    const readme = await Bun.file(join(import.meta.dir, '../../README.md')).text()
    const block = [...readme.matchAll(/```toml\n([\s\S]*?)```/g)].map((match) => match[1]!).find((text) => text.includes('vai-access-token'))
    const { tags: _, ...shown } = rule!
    expect((Bun.TOML.parse(block!) as typeof gitleaks).rules[0]).toEqual(shown)
  })

  test('finds tokens in the places people paste them', () => {
    const tokens = Array.from({ length: 6 }, generateToken)
    const text = [
      `VAI_TOKEN=${tokens[0]}`,
      `{"token": "${tokens[1]}", "other": 1}`,
      `curl -H "Authorization: Bearer ${tokens[2]}" https://vai.example.com/api/v1/auth/me`,
      `https://ci.example.com/hook?token=${tokens[3]}&x=1`,
      `export TOKEN='${tokens[4]}'`,
      `- token: ${tokens[5]}`,
    ].join('\n')
    expect(scan(text)).toEqual(tokens)
    for (const found of scan(text)) expect(isWellFormedToken(found)).toBe(true)
  })

  test('leaves alone what is not one: too short, too long, glued to other word characters', () => {
    const token = generateToken()
    const text = [
      'vai_short',
      `vai_${'a'.repeat(37)}`,
      `vai_${'a'.repeat(135)}`,
      `myvai_${token.slice(4)}`,
      `${token}_suffix`,
      'the vai_ prefix alone',
    ].join('\n')
    expect(scan(text)).toEqual([])
  })
})
