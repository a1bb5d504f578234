import { Kind } from '@sinclair/typebox'
import type { ValidationIssue } from '../schemas'
import { isScope, scopeList } from '../tokens/scopes'
import { emailProblem, isQueryBoolean, laxInteger, textProblem, type TextOptions } from './kinds'

export type Loc = (string | number)[]
// Elysia's view of a schema: plain JSON Schema plus TypeBox's Kind symbol.
export type Schema = Record<string, any> & { [Kind]?: string }

export const issue = (loc: Loc, type: string, msg: string): ValidationIssue => ({ loc, msg, type })

export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/**
 * Explains why `value` fails `schema`, in Pydantic's vocabulary, listing every
 * problem. Elysia's own check is the gate; this only describes what it refused.
 */
export function explain(schema: Schema, value: unknown, loc: Loc): ValidationIssue[] {
  switch (schema[Kind]) {
    case 'Text': {
      const problem = textProblem(schema as TextOptions, value)
      if (!problem) return []
      const messages = {
        string_type: 'Input should be a valid string',
        string_unicode: 'Input should be a valid string, unable to parse raw data as a unicode string',
        string_too_short: `String should have at least ${plural(schema.minLength, 'character')}`,
        string_too_long: `String should have at most ${plural(schema.maxLength, 'character')}`,
      }
      return [issue(loc, problem, messages[problem])]
    }
    case 'Email': {
      const problem = emailProblem(value)
      if (!problem) return []
      const messages = {
        string_type: 'Input should be a valid string',
        string_too_long: `String should have at most ${plural(schema.maxLength, 'character')}`,
        string_unicode: 'Input should be a valid string, unable to parse raw data as a unicode string',
        value_error: 'value is not a valid email address: it must look like name@example.com',
      }
      return [issue(loc, problem, messages[problem])]
    }
    case 'LaxInteger':
      if (typeof value === 'string' && laxInteger(value) === undefined) {
        return [issue(loc, 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer')]
      }
      return explain({ type: 'integer', minimum: schema.minimum, maximum: schema.maximum }, laxInteger(value) ?? value, loc)
    case 'QueryBoolean':
      return isQueryBoolean(value) ? [] : [issue(loc, 'bool_parsing', 'Input should be a valid boolean, unable to interpret input')]
    case 'Scope':
      if (typeof value !== 'string') return [issue(loc, 'string_type', 'Input should be a valid string')]
      return isScope(value) ? [] : [issue(loc, 'string_pattern_mismatch', SCOPE_SYNTAX)]
    case 'ScopeQuery': {
      const values = typeof value === 'string' ? [value] : value
      if (!Array.isArray(values) || !values.every((item) => typeof item === 'string')) return [issue(loc, 'string_type', 'Input should be a valid string')]
      const bad = scopeList(values).filter((scope) => !isScope(scope))
      return bad.length === 0 ? [] : [issue(loc, 'string_pattern_mismatch', `Not a scope: ${bad.map((scope) => JSON.stringify(scope)).join(', ')}. ${SCOPE_SYNTAX}`)]
    }
  }

  if (schema.anyOf) {
    const branches = schema.anyOf as Schema[]
    if (value === null && branches.some((b) => b.type === 'null')) return []
    if (branches.every((b) => 'const' in b)) {
      if (branches.some((b) => b.const === value)) return []
      const names = branches.map((b) => `'${b.const}'`)
      return [issue(loc, 'enum', `Input should be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`)]
    }
    const target = branches.find((b) => b.type !== 'null')
    return target ? explain(target, value, loc) : []
  }

  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return [issue(loc, 'model_attributes_type', 'Input should be a valid dictionary or object to extract fields from')]
      }
      const record = value as Record<string, unknown>
      const properties = schema.properties as Record<string, Schema>
      const required = new Set<string>(schema.required ?? [])
      const fields = Object.entries(properties).flatMap(([key, property]) =>
        record[key] === undefined
          ? required.has(key) && !('default' in property)
            ? [issue([...loc, key], 'missing', 'Field required')]
            : []
          : explain(property, record[key], [...loc, key]),
      )
      // As Pydantic's extra='forbid' does: after the fields, each key the schema does not define.
      const extras = schema.additionalProperties === false ? Object.keys(record).filter((key) => !Object.hasOwn(properties, key)) : []
      return [...fields, ...extras.map((key) => issue([...loc, key], 'extra_forbidden', 'Extra inputs are not permitted'))]
    }
    case 'array': {
      if (!Array.isArray(value)) return [issue(loc, 'list_type', 'Input should be a valid list')]
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        return [issue(loc, 'too_short', `List should have at least ${plural(schema.minItems, 'item')} after validation, not ${value.length}`)]
      }
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        return [issue(loc, 'too_long', `List should have at most ${plural(schema.maxItems, 'item')} after validation, not ${value.length}`)]
      }
      return value.flatMap((item, index) => explain(schema.items, item, [...loc, index]))
    }
    case 'integer': {
      if (typeof value !== 'number') return [issue(loc, 'int_type', 'Input should be a valid integer')]
      if (!Number.isInteger(value)) {
        return [issue(loc, 'int_from_float', 'Input should be a valid integer, got a number with a fractional part')]
      }
      if (schema.minimum !== undefined && value < schema.minimum) {
        return [issue(loc, 'greater_than_equal', `Input should be greater than or equal to ${schema.minimum}`)]
      }
      if (schema.maximum !== undefined && value > schema.maximum) {
        return [issue(loc, 'less_than_equal', `Input should be less than or equal to ${schema.maximum}`)]
      }
      return []
    }
    case 'string': {
      if (typeof value !== 'string') return [issue(loc, 'string_type', 'Input should be a valid string')]
      if (schema.format === 'uuid' && !new RegExp(schema.pattern).test(value)) {
        return [issue(loc, 'uuid_parsing', 'Input should be a valid UUID: 32 hexadecimal digits in the 8-4-4-4-12 form')]
      }
      if (schema.maxLength !== undefined && value.length > schema.maxLength) {
        return [issue(loc, 'string_too_long', `String should have at most ${plural(schema.maxLength, 'character')}`)]
      }
      return []
    }
  }
  return []
}

const SCOPE_SYNTAX = 'A scope is * or 1 to 64 characters of A-Z a-z 0-9 _ . : / -'

/** Why a body that could not be decoded at all is refused: there was none, or it was not JSON. */
export function explainUndecodable(reason: 'missing' | 'json_invalid'): ValidationIssue[] {
  return [
    reason === 'missing'
      ? issue(['body'], 'missing', 'Field required')
      : issue(['body'], 'json_invalid', 'Request body is not valid JSON: send a JSON object with Content-Type: application/json'),
  ]
}
