// A session is named after the client that opened it: "Firefox on Linux", "curl".

const BROWSERS: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\b(?:Headless)?Chrome\/|\bCriOS\//, 'Chrome'],
  [/\bSafari\//, 'Safari'],
]

const SYSTEMS: [RegExp, string][] = [
  [/\bAndroid\b/, 'Android'],
  [/\biPhone\b|\biPad\b|\biOS\b/, 'iOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
]

const MAX_CODE_POINTS = 255

export function sessionName(userAgent: string | null): string {
  const agent = userAgent?.trim() ?? ''
  if (agent === '') return 'session'
  const browser = BROWSERS.find(([pattern]) => pattern.test(agent))?.[1]
  const system = SYSTEMS.find(([pattern]) => pattern.test(agent))?.[1]
  // Not a browser: the first product token without its version ("curl/8.5.0" → "curl").
  const name = browser ? (system ? `${browser} on ${system}` : browser) : agent.split(/[\s/]/)[0]!
  const wellFormed = name.toWellFormed()
  return [...wellFormed].slice(0, MAX_CODE_POINTS).join('') || 'session'
}
