// supervisord's `%(name)s` expansions (Python's %-formatting against a dictionary), kept apart
// from the splitting that follows them: supervisord expands a value first and then splits or
// lexes it, so an `%(ENV_X)s` whose value is only known when the supervisor starts is carried
// through the split as a marker made of word characters, and turned into `${X}` afterwards.

import { literal } from './model.js';

/** A piece of an expanded value: text as written, or the supervisor's environment variable NAME. */
export type Piece = string | { env: string };

/** What a `%(name)` stands for: a value known now, or pieces (some only known at start-up). */
export type ExpansionValue = string | number | Piece[];

/** markers are letters the shlex lexer counts as word characters, so a split keeps them whole */
const MARKER = /ÞÞ(\d+)ÞÞ/g;
/** Python's conversion spec: %(name) then flags, width, precision and a conversion type */
const SPEC = /%(?:%|\(([^)]*)\)([#0\- +]*)(\d*)(?:\.(\d+))?([diouxXeEfFgGcrsa])?)/g;

export class Expander {
  private readonly variables: string[] = [];

  constructor(private readonly lookup: (name: string) => ExpansionValue | undefined) {}

  /**
   * `text` with its `%(name)s` expanded; variables known only at start-up appear as markers.
   * Throws an Error whose message says what is wrong (the caller adds file and line).
   */
  expand(text: string): string {
    if (/ÞÞ\d+ÞÞ/.test(text)) throw new Error('holds the text "ÞÞ<digits>ÞÞ", which convert uses internally');
    if (text.replace(SPEC, '').includes('%'))
      throw new Error(`has a lone "%": supervisord reads "%(name)s" expansions, write "%%" for a "%"`);
    return text.replace(SPEC, (whole, name: string | undefined, flags: string, width: string, _p, type) => {
      if (whole === '%%') return '%';
      if (type === undefined) throw new Error(`"${whole}" has no conversion type: expected %(${name})s`);
      const value = this.lookup(name ?? '');
      if (value === undefined) throw new Error(`"%(${name})" is not a name supervisord expands here`);
      if (Array.isArray(value)) {
        if (type !== 's') throw new Error(`"${whole}": expected %(${name})s for a text value`);
        return value.map((piece) => (typeof piece === 'string' ? piece : this.marker(piece.env))).join('');
      }
      return format(value, type, flags, width, whole);
    });
  }

  /** expanded text (with markers) as pieces */
  pieces(text: string): Piece[] {
    const pieces: Piece[] = [];
    let at = 0;
    for (const match of text.matchAll(MARKER)) {
      if (match.index > at) pieces.push(text.slice(at, match.index));
      pieces.push({ env: this.variables[Number(match[1])] ?? '' });
      at = match.index + match[0].length;
    }
    if (at < text.length || pieces.length === 0) pieces.push(text.slice(at));
    return pieces;
  }

  /** expanded text (with markers) as registry text: literal parts escaped, variables as ${NAME} */
  registryText(text: string): string {
    return this.pieces(text)
      .map((piece) => (typeof piece === 'string' ? literal(piece) : `\${${piece.env}}`))
      .join('');
  }

  private marker(name: string): string {
    let index = this.variables.indexOf(name);
    if (index < 0) index = this.variables.push(name) - 1;
    return `ÞÞ${index}ÞÞ`;
  }
}

function format(value: string | number, type: string, flags: string, width: string, whole: string): string {
  let text: string;
  if ('sra'.includes(type)) text = String(value);
  else if ('di'.includes(type) && typeof value === 'number') text = String(Math.trunc(value));
  else throw new Error(`"${whole}": convert knows %(name)s and %(name)d, not this conversion`);
  const size = Number(width || 0);
  if (flags.includes('-')) return text.padEnd(size);
  if (flags.includes('0') && 'di'.includes(type)) {
    const negative = text.startsWith('-');
    const digits = negative ? text.slice(1) : text;
    return `${negative ? '-' : ''}${digits.padStart(size - (negative ? 1 : 0), '0')}`;
  }
  return text.padStart(size);
}
