import { describe, expect, test } from 'bun:test'
import { explain } from '../../src/validation/explain'
import { CreateTokenBody as createTokenBody, ListTokensQuery, LoginBody, RevokeAllQuery, SignupBody, TokenIdParams, VerifyQuery } from '../../src/schemas'

const CreateTokenBody = createTokenBody(null)

const issue = (loc: (string | number)[], type: string, msg: string) => ({ loc, msg, type })

const NOT_AN_INTEGER = 'Input should be a valid integer, unable to parse string as an integer'
const SCOPE_SYNTAX = 'A scope is * or 1 to 64 characters of A-Z a-z 0-9 _ . : / -'

describe('explain', () => {
  // One row per Pydantic type name the contract lists (json_invalid is decided before any
  // schema is looked at: see test/http/protocol.test.ts).
  test.each([
    ['missing', CreateTokenBody, {}, ['body'], [issue(['body', 'name'], 'missing', 'Field required')]],
    ['string_type', CreateTokenBody, { name: 5 }, ['body'], [issue(['body', 'name'], 'string_type', 'Input should be a valid string')]],
    ['string_unicode', CreateTokenBody, { name: 'a\uD800b' }, ['body'],
      [issue(['body', 'name'], 'string_unicode', 'Input should be a valid string, unable to parse raw data as a unicode string')]],
    ['string_too_short', CreateTokenBody, { name: '' }, ['body'],
      [issue(['body', 'name'], 'string_too_short', 'String should have at least 1 character')]],
    ['string_too_long', CreateTokenBody, { name: 'x'.repeat(256) }, ['body'],
      [issue(['body', 'name'], 'string_too_long', 'String should have at most 255 characters')]],
    ['string_too_short (password)', SignupBody, { email: 'ada@example.com', password: '1234567' }, ['body'],
      [issue(['body', 'password'], 'string_too_short', 'String should have at least 8 characters')]],
    ['int_parsing', ListTokensQuery, { limit: 'abc' }, ['query'], [issue(['query', 'limit'], 'int_parsing', NOT_AN_INTEGER)]],
    ['int_parsing (a fraction in a string)', ListTokensQuery, { limit: '1.5' }, ['query'],
      [issue(['query', 'limit'], 'int_parsing', NOT_AN_INTEGER)]],
    ['int_type', CreateTokenBody, { name: 'x', expiresInDays: true }, ['body'],
      [issue(['body', 'expiresInDays'], 'int_type', 'Input should be a valid integer')]],
    ['int_from_float', CreateTokenBody, { name: 'x', expiresInDays: 1.5 }, ['body'],
      [issue(['body', 'expiresInDays'], 'int_from_float', 'Input should be a valid integer, got a number with a fractional part')]],
    ['greater_than_equal', CreateTokenBody, { name: 'x', expiresInDays: 0 }, ['body'],
      [issue(['body', 'expiresInDays'], 'greater_than_equal', 'Input should be greater than or equal to 1')]],
    ['greater_than_equal (a query string)', ListTokensQuery, { limit: '0' }, ['query'],
      [issue(['query', 'limit'], 'greater_than_equal', 'Input should be greater than or equal to 1')]],
    ['less_than_equal', CreateTokenBody, { name: 'x', expiresInDays: 3651 }, ['body'],
      [issue(['body', 'expiresInDays'], 'less_than_equal', 'Input should be less than or equal to 3650')]],
    ['less_than_equal (a query string)', ListTokensQuery, { limit: '201' }, ['query'],
      [issue(['query', 'limit'], 'less_than_equal', 'Input should be less than or equal to 200')]],
    ['bool_parsing', RevokeAllQuery, { exclude_current: 'maybe' }, ['query'],
      [issue(['query', 'exclude_current'], 'bool_parsing', 'Input should be a valid boolean, unable to interpret input')]],
    ['uuid_parsing', TokenIdParams, { token_id: 'not-a-uuid' }, ['path'],
      [issue(['path', 'token_id'], 'uuid_parsing', 'Input should be a valid UUID: 32 hexadecimal digits in the 8-4-4-4-12 form')]],
    ['enum', ListTokensQuery, { tokenType: 'robot' }, ['query'], [issue(['query', 'tokenType'], 'enum', "Input should be 'session' or 'api'")]],
    ['model_attributes_type (array)', CreateTokenBody, ['name'], ['body'],
      [issue(['body'], 'model_attributes_type', 'Input should be a valid dictionary or object to extract fields from')]],
    ['model_attributes_type (null)', LoginBody, null, ['body'],
      [issue(['body'], 'model_attributes_type', 'Input should be a valid dictionary or object to extract fields from')]],
    ['value_error (email)', SignupBody, { email: 'ada.example.com', password: '12345678' }, ['body'],
      [issue(['body', 'email'], 'value_error', 'value is not a valid email address: it must look like name@example.com')]],
    ['string_unicode (email)', SignupBody, { email: 'ada\uD800@example.com', password: '12345678' }, ['body'],
      [issue(['body', 'email'], 'string_unicode', 'Input should be a valid string, unable to parse raw data as a unicode string')]],
    ['less_than_equal (--max-token-days 90)', createTokenBody(90), { name: 'x', expiresInDays: 91 }, ['body'],
      [issue(['body', 'expiresInDays'], 'less_than_equal', 'Input should be less than or equal to 90')]],
    ['string_too_long (email)', SignupBody, { email: `${'a'.repeat(243)}@example.com`, password: '12345678' }, ['body'],
      [issue(['body', 'email'], 'string_too_long', 'String should have at most 254 characters')]],
    ['extra_forbidden', LoginBody, { email: 'a@example.com', password: 'x', colour: 'blue' }, ['body'],
      [issue(['body', 'colour'], 'extra_forbidden', 'Extra inputs are not permitted')]],
    ['string_pattern_mismatch (a scope)', CreateTokenBody, { name: 'x', scopes: ['ok', 'not ok'] }, ['body'],
      [issue(['body', 'scopes', 1], 'string_pattern_mismatch', SCOPE_SYNTAX)]],
    ['string_pattern_mismatch (a query’s scopes)', VerifyQuery, { scope: ['ok', 'b!d c'] }, ['query'],
      [issue(['query', 'scope'], 'string_pattern_mismatch', `Not a scope: "b!d". ${SCOPE_SYNTAX}`)]],
    ['list_type', CreateTokenBody, { name: 'x', scopes: 'tokens:read' }, ['body'], [issue(['body', 'scopes'], 'list_type', 'Input should be a valid list')]],
    ['too_long', CreateTokenBody, { name: 'x', scopes: Array(65).fill('a') }, ['body'],
      [issue(['body', 'scopes'], 'too_long', 'List should have at most 64 items after validation, not 65')]],
  ] as const)('%s', (_type, schema, value, loc, expected) => {
    expect(explain(schema as any, value, [...loc])).toEqual(expected as any)
  })

  test('lists every problem, one entry each, in field order', () => {
    expect(explain(SignupBody as any, { email: 'nope', password: 'short', name: 5 }, ['body'])).toEqual([
      issue(['body', 'email'], 'value_error', 'value is not a valid email address: it must look like name@example.com'),
      issue(['body', 'password'], 'string_too_short', 'String should have at least 8 characters'),
      issue(['body', 'name'], 'string_type', 'Input should be a valid string'),
    ])
    expect(explain(ListTokensQuery as any, { tokenType: 'x', includeRevoked: 'maybe', limit: '0', cursor: 'c' }, ['query'])).toEqual([
      issue(['query', 'tokenType'], 'enum', "Input should be 'session' or 'api'"),
      issue(['query', 'includeRevoked'], 'bool_parsing', 'Input should be a valid boolean, unable to interpret input'),
      issue(['query', 'limit'], 'greater_than_equal', 'Input should be greater than or equal to 1'),
    ])
  })

  test.each([
    [CreateTokenBody, { name: 'ci deploy key' }],
    [CreateTokenBody, { name: '😀'.repeat(255), expiresInDays: null }],
    [CreateTokenBody, { name: 'x', expiresInDays: '30' }],
    [ListTokensQuery, { limit: ' 7 ', includeRevoked: 'YES' }],
    [SignupBody, { email: '  Ada@Example.COM ', password: '12345678', name: '' }],
    [CreateTokenBody, { name: 'x', scopes: ['*', 'deploy:staging', 'deploy:staging'] }],
    [VerifyQuery, { scope: ['a b', 'c'], writeScope: '', other: 'ignored' }],
  ])('a valid value has nothing to explain: %#', (schema, value) => {
    expect(explain(schema as any, value, ['body'])).toEqual([])
  })
})
