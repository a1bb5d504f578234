/** The types of return-to.js, which the browser loads as it is (no build step for the console). */
export function returnTo(rd: string | null | undefined, cookieDomain: string | null | undefined): string | null
