// The status page's address as a browser link, for the start-up record of the HTTP endpoints.

/** http://HOST:PORT/ for a browser: the wildcard addresses shown as localhost */
export function statusPageUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}/`;
}
