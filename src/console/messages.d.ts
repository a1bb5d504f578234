/** The types of messages.js, which the browser loads as it is (no build step for the console). */
export const NOT_CLAIMED: string

/** A refused or failed API request, as api.js's ApiError holds it. */
export interface Refusal {
  status: number
  body?: { detail?: unknown } | null
  retryAfter?: string | null
}

export function plainWords(error: Refusal, action?: 'signin' | 'signup' | 'create' | 'list' | 'revoke'): string
