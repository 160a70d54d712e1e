// Which exposition format a scraper asked for. Prometheus sends something like
// `application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,
// text/plain;version=0.0.4;q=0.5,*/*;q=0.1`; curl sends `*/*`; an old scraper sends nothing.

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/**
 * OpenMetrics only when the Accept header names it explicitly with a weight above that of the
 * classic text format (text/plain, text/* or any type); every tie and every unknown goes to the
 * classic text format, which every scraper understands.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept) return 'prometheus';
  let openMetrics = 0;
  let text = 0;
  for (const range of accept.split(',')) {
    const [typePart, ...params] = range.split(';');
    const type = typePart?.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key?.trim().toLowerCase() === 'q') {
        const parsed = Number(value?.trim());
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    if (type === 'application/openmetrics-text') openMetrics = Math.max(openMetrics, q);
    else if (type === 'text/plain' || type === 'text/*' || type === '*/*') text = Math.max(text, q);
  }
  return openMetrics > 0 && openMetrics > text ? 'openmetrics' : 'prometheus';
}
