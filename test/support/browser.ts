// Debian's Chromium for the browser tests (.ci/run installs it when missing).
export const CHROMIUM = '/usr/bin/chromium'

// As root on a machine with no network: no sandbox, no GPU, and none of the background
// connections Chromium would otherwise try (and fail) at every start.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]
