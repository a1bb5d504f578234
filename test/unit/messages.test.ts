// The console's words for the API's refusals, table-tested on the very file the browser loads.
import { describe, expect, test } from 'bun:test'
import { ERRORS } from '../../src/errors'
import { plainWords } from '../../src/console/messages.js'

const refused = (detail: string) => ({ status: 403, body: { detail } })

describe('plainWords: the 403s as sentences', () => {
  test.each([
    ['This token lacks the scope tokens:read', 'list', 'This session cannot list your tokens: it lacks the scope tokens:read.'],
    ['This token lacks the scope tokens:write', 'create', 'This session cannot create tokens: it lacks the scope tokens:write.'],
    ['This token lacks the scope tokens:write', 'revoke', 'This session cannot revoke tokens: it lacks the scope tokens:write.'],
    ['This token lacks the scope a b', undefined, 'This session cannot do that: it lacks the scopes a and b.'],
    ['A token cannot grant a scope it does not have: deploy:prod', 'create',
      'You cannot give a token the scope deploy:prod: a token can only be given scopes that the one creating it has.'],
    ['A token cannot grant a scope it does not have: a b c', 'create',
      'You cannot give a token the scopes a, b and c: a token can only be given scopes that the one creating it has.'],
    ['A token cannot grant a scope it does not have: admin', 'create',
      'Nobody can give a token the scope admin yet: this server has no administrators.'],
    ['A token cannot grant a scope it does not have: admin deploy:prod', 'create',
      'You cannot give a token the scope deploy:prod: a token can only be given scopes that the one creating it has. Nobody can give a token the scope admin yet: this server has no administrators.'],
    ['A token cannot outlive the token that creates it', 'create', 'A token cannot last longer than the one that creates it: choose an earlier expiry.'],
    ['Cross-site request refused', 'revoke', 'The server refused this request because it did not seem to come from this page. Reload the page and try again.'],
    ['Signup is closed', 'signup', 'Sign-up is closed on this server. Ask its administrator to create an account for you.'],
    ['This server is not claimed yet: use the setup code printed at start', 'signup',
      'This server has no account yet, and only the person who started it can create the first one: enter the setup code vai printed when it started.'],
    ['Something new', undefined, 'Not allowed: Something new.'],
  ] as const)('%p (%s) → %p', (detail, action, sentence) => {
    expect(plainWords(refused(detail), action)).toBe(sentence)
  })

  // A 403 added to the catalogue without words of its own would read "Not allowed: <the API's words>".
  test.each(Object.entries(ERRORS).filter(([, error]) => error.status === 403))('%s has a sentence of its own', (_name, error) => {
    const detail = (error.detail as string).replace('<scope>', 'tokens:read')
    expect(plainWords(refused(detail), 'create')).not.toStartWith('Not allowed:')
  })
})
