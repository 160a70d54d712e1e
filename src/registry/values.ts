// Reading one scalar value of the registry: each function returns the value, or a message saying
// what was expected and what was found.
import { constants } from 'node:os';

/** a value as shown in a message: quoted, escaped, cut short; never a line break or a control character */
export function quoted(text: string, max = 60): string {
  return `"${escapeControls(text, max, { quotes: true })}"`;
}

/**
 * Characters that must not reach a terminal or a log line as they are: C0 and C1 controls, DEL,
 * the line and paragraph separators, the bidirectional overrides and isolates (they reorder what
 * a terminal shows) and lone surrogates (not text at all).
 */
const unsafeCharacter =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
  /[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const shortEscapes: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCharacter(c: string): string {
  const short = shortEscapes[c];
  if (short !== undefined) return short;
  const code = c.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` made safe to print on one line: unsafe characters as escapes (`\x00`, `\n`, `\u202e`),
 * at most `max` characters of the result (then `...`), never cut inside an escape or a surrogate
 * pair. With `quotes`, `"` and `\` are escaped too (for a value shown between quotes).
 */
export function escapeControls(
  text: string,
  max = Number.POSITIVE_INFINITY,
  { quotes = false } = {},
): string {
  let out = '';
  let at = 0;
  while (at < text.length) {
    const code = text.codePointAt(at) ?? 0;
    const c = String.fromCodePoint(code);
    // a lone surrogate is one unit; codePointAt gives it back as it is
    const width = code > 0xffff ? 2 : 1;
    const piece = unsafeCharacter.test(c)
      ? escapeCharacter(c)
      : quotes && (c === '"' || c === '\\')
        ? `\\${c}`
        : c;
    if (out.length + piece.length > max) return `${out}...`;
    out += piece;
    at += width;
  }
  return out;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(message: string): Parsed<T> => ({ ok: false, message });

/** Node timers overflow past 2^31-1 ms (they then fire at once), so longer times are refused. */
export const MAX_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Seconds, decimals allowed: `5`, `0.5`, `.5`. */
export function parseSeconds(text: string, { positive = false } = {}): Parsed<number> {
  if (/^-\s*(\d+(\.\d*)?|\.\d+)$/.test(text)) return fail(`a time must not be negative, got ${quoted(text)}`);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text)) return fail(`expected a number of seconds, got ${quoted(text)}`);
  const value = Number(text);
  if (value > MAX_SECONDS) return fail(`${text} seconds is too long (at most ${MAX_SECONDS})`);
  if (positive && value === 0) return fail('expected more than 0 seconds, got 0');
  return ok(value);
}

export function parseInteger(
  text: string,
  min: number,
  max: number,
  what = 'a whole number',
): Parsed<number> {
  if (!/^[-+]?\d+$/.test(text)) return fail(`expected ${what}, got ${quoted(text)}`);
  const value = Number(text);
  if (value < min || value > max) return fail(`expected ${what} from ${min} to ${max}, got ${text}`);
  return ok(value);
}

const truthy = new Set(['true', 'yes', '1']);
const falsy = new Set(['false', 'no', '0']);

export function parseBoolean(text: string): Parsed<boolean> {
  const lower = text.toLowerCase();
  if (truthy.has(lower)) return ok(true);
  if (falsy.has(lower)) return ok(false);
  return fail(`expected true or false, got ${quoted(text)}`);
}

/** `SIGTERM`, `TERM` or `sigterm`: stored as `SIGTERM`. Only signals this system knows. */
export function parseSignal(text: string): Parsed<NodeJS.Signals> {
  const upper = text.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  if (/^SIG[A-Z0-9]+$/.test(name) && Object.hasOwn(constants.signals, name))
    return ok(name as NodeJS.Signals);
  return fail(`unknown signal ${quoted(text)}: expected a name such as SIGTERM, SIGINT, SIGQUIT or SIGUSR1`);
}

export function parseChoice<T extends string>(text: string, choices: readonly T[]): Parsed<T> {
  const found = choices.find((choice) => choice === text);
  if (found !== undefined) return ok(found);
  return fail(`expected ${orList(choices)}, got ${quoted(text)}`);
}

export function parseHttpUrl(text: string): Parsed<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(`expected an http:// or https:// URL, got ${quoted(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return fail(`expected an http:// or https:// URL, got ${quoted(text)}`);
  }
  return ok(text);
}

/** Server ids go into URLs (/readyz/ID), metric labels and command lines: keep them plain. */
export function parseId(text: string): Parsed<string> {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(text)) return ok(text);
  if (text === '') return fail('the id is empty');
  return fail(
    `${quoted(text)} is not a usable id: use letters, digits, ".", "_" and "-" (starting with a letter or digit)`,
  );
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  // three rolling rows: the one before the previous (for swaps), the previous, the current
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, (before[j - 2] ?? 0) + 1);
      current[j] = best;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length] ?? 0;
}

/** The closest candidate when it is close enough to be a typo, else undefined. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  // no typo is that long, and the distance costs length x length
  if (name.length > 64) return undefined;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    // a length difference is a lower bound of the distance: skip what cannot be close
    if (Math.abs(candidate.length - name.length) > 3) continue;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // one or two letters apart is a different name when the name itself is that short
  const allowed = name.length <= 2 ? 0 : Math.max(1, Math.floor(name.length / 4));
  return bestDistance <= Math.min(allowed, 3) ? best : undefined;
}

/** 'a, b or c' */
export function orList(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

const sizeUnits: Record<string, number> = {
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * A size in bytes: `512MiB`, `1.5GiB`, `2G`, `300M`, `4096B` (design.md §2: K, M, G are the same
 * powers of 1024 as KiB, MiB, GiB). A bare number is refused: "1024" could mean any unit.
 */
export function parseSize(text: string): Parsed<number> {
  const match = /^(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)$/.exec(text);
  const expected = 'a size such as 512MiB, 1.5GiB or 2G (units B, KiB, MiB, GiB; K, M, G are the same)';
  if (!match) return fail(`expected ${expected}, got ${quoted(text)}`);
  const unit = (match[2] ?? '').toLowerCase();
  if (unit === '') return fail(`${quoted(text)} has no unit: expected ${expected}`);
  if (unit === 'kb' || unit === 'mb' || unit === 'gb') {
    return fail(
      `${quoted(text)}: ${match[2]} could mean powers of 1000 or of 1024: write ${match[2]?.[0]?.toUpperCase()}iB (powers of 1024)`,
    );
  }
  const factor = sizeUnits[unit];
  if (factor === undefined) return fail(`unknown unit in ${quoted(text)}: expected ${expected}`);
  const bytes = Math.floor(Number(match[1]) * factor);
  if (bytes <= 0) return fail(`expected more than 0 bytes, got ${quoted(text)}`);
  if (!Number.isSafeInteger(bytes)) return fail(`${quoted(text)} is too large`);
  return ok(bytes);
}

/** `1.5 GiB`, `512 MiB`, `100 B`: the largest unit that keeps the number at least 1 */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= factor) return `${Number((bytes / factor).toFixed(2))} ${unit}`;
  }
  return `${bytes} B`;
}
