// vai's verifier as an Elysia plugin (`import { vai } from 'vai/verify/elysia'`): a route
// with `{ vai: true }` (any valid token) or `{ vai: 'deploy:staging' }` / `{ vai: [...] }`
// (every scope named) answers 401/403/503 as vai itself would, and finds who the caller
// is as `vai` on its context.
import { Elysia } from 'elysia'
import { authorize, type Verifier } from './verify.js'

export type VaiRequirement = true | string | readonly string[]

export function vai(verifier: Verifier) {
  return new Elysia().macro({
    vai: (requirement: VaiRequirement) => ({
      async resolve({ request, set, status }) {
        const scopes = requirement === true ? [] : typeof requirement === 'string' ? [requirement] : requirement
        const outcome = await authorize(verifier, request.headers, scopes)
        if ('refusal' in outcome) {
          Object.assign(set.headers, outcome.refusal.headers)
          return status(outcome.refusal.status, outcome.refusal.body)
        }
        return { vai: outcome.identity }
      },
    }),
  })
}
