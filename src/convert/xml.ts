// Writes a converted registry as SupervisorRegistry.xml text (design.md §2), every value escaped,
// every setting without an equivalent as a comment beside the server it belongs to.

import type { ConvertedCheck, ConvertedRegistry, ConvertedServer } from './model.js';

const formats = {
  supervisord: 'a supervisord.conf',
  procfile: 'a Procfile',
  'process-compose': 'a process-compose.yaml',
} as const;

/** the first character XML 1.0 cannot hold, not even as &#N; (controls, U+FFFE/F, lone surrogates) */
function notXml(text: string): number | undefined {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (
      (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) ||
      code === 0xfffe ||
      code === 0xffff
    )
      return code;
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return code;
    } else if (code >= 0xdc00 && code <= 0xdfff) return code;
  }
  return undefined;
}

/** A value that XML cannot hold: the caller names the file. */
export class XmlValueError extends Error {
  override name = 'XmlValueError';
}

function checked(text: string): string {
  const bad = notXml(text);
  if (bad !== undefined)
    throw new XmlValueError(
      `${JSON.stringify(text.slice(0, 60))} holds the character U+${bad.toString(16).padStart(4, '0').toUpperCase()}, which an XML file cannot hold`,
    );
  return text;
}

export function escapeText(text: string): string {
  return checked(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/** attribute values: also quotes, and the whitespace an XML parser would turn into spaces */
export function escapeAttribute(text: string): string {
  return escapeText(text).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
}

/** comment text: '--' may not appear in a comment, nor '-' just before its end */
export function commentText(text: string): string {
  let safe = checked(text);
  while (safe.includes('--')) safe = safe.replaceAll('--', '- -');
  return safe.endsWith('-') ? `${safe} ` : safe;
}

class Lines {
  readonly lines: string[] = [];
  add(depth: number, line: string): void {
    this.lines.push(`${'  '.repeat(depth)}${line}`);
  }
  comment(depth: number, text: string): void {
    const [first, ...rest] = commentText(text).split('\n');
    if (rest.length === 0) this.add(depth, `<!-- ${first} -->`);
    else {
      this.add(depth, `<!-- ${first}`);
      for (const line of rest) this.add(depth, `     ${line}`);
      this.add(depth, '-->');
    }
  }
}

function attributes(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`)
    .join('');
}

function check(out: Lines, depth: number, kind: 'readiness' | 'liveness', spec: ConvertedCheck): void {
  const attrs = attributes({
    type: spec.type,
    url: spec.url,
    command: spec.command,
    interval: spec.interval,
    timeout: spec.timeout,
    failureThreshold: spec.failureThreshold,
  });
  const args = spec.args ?? [];
  if (args.length === 0) {
    out.add(depth, `<${kind}${attrs}/>`);
    return;
  }
  out.add(depth, `<${kind}${attrs}>`);
  for (const arg of args) out.add(depth + 1, `<argument>${escapeText(arg)}</argument>`);
  out.add(depth, `</${kind}>`);
}

function value(out: Lines, depth: number, name: string, text: string | number | undefined): void {
  if (text !== undefined) out.add(depth, `<${name}>${escapeText(String(text))}</${name}>`);
}

function server(out: Lines, depth: number, spec: ConvertedServer, withNotes: boolean): void {
  out.add(depth, `<server id="${escapeAttribute(spec.id)}">`);
  const inner = depth + 1;
  if (withNotes) for (const note of spec.notes) out.comment(inner, note);
  value(out, inner, 'description', spec.description);
  value(out, inner, 'kind', spec.kind);
  value(out, inner, 'command', spec.command);
  if (spec.args.length > 0) {
    out.add(inner, '<arguments>');
    for (const arg of spec.args)
      out.add(inner + 1, arg === '' ? '<argument/>' : `<argument>${escapeText(arg)}</argument>`);
    out.add(inner, '</arguments>');
  }
  if (spec.env.length > 0) {
    out.add(inner, '<environment>');
    for (const [name, text] of spec.env)
      out.add(inner + 1, `<variable name="${escapeAttribute(name)}">${escapeText(text)}</variable>`);
    out.add(inner, '</environment>');
  }
  value(out, inner, 'workingDirectory', spec.workingDirectory);
  value(out, inner, 'user', spec.user);
  value(out, inner, 'startPriority', spec.startPriority);
  for (const { server: id, condition } of spec.dependsOn ?? [])
    out.add(inner, `<dependsOn server="${escapeAttribute(id)}" condition="${condition}"/>`);
  value(out, inner, 'startDelay', spec.startDelay);
  value(out, inner, 'stopTimeout', spec.stopTimeout);
  value(out, inner, 'stopSignal', spec.stopSignal);
  if (spec.restart) out.add(inner, `<restart${attributes({ ...spec.restart })}/>`);
  if (spec.readiness) check(out, inner, 'readiness', spec.readiness);
  if (spec.liveness) check(out, inner, 'liveness', spec.liveness);
  if (spec.critical !== undefined) value(out, inner, 'critical', String(spec.critical));
  if (spec.output) value(out, inner, 'output', spec.output);
  out.add(depth, '</server>');
}

/**
 * A server the source would not start by itself, inside a comment: its notes go in the
 * comment's header, and each '--' of its XML is written '-&#45;', which reads back as '--' once
 * the comment marks are removed.
 */
function leftOutServer(out: Lines, depth: number, spec: ConvertedServer): void {
  const inner = new Lines();
  server(inner, 0, spec, false);
  const header = [spec.leftOut ?? '', ...spec.notes.map((note) => `${spec.id}: ${note}`)]
    .map(commentText)
    .join('\n     ');
  out.add(depth, `<!-- ${header}`);
  for (const line of inner.lines) out.add(depth, line.replaceAll('--', '-&#45;'));
  out.add(depth, '-->');
}

export function writeRegistryXml(registry: ConvertedRegistry): string {
  const out = new Lines();
  out.add(0, '<?xml version="1.0" encoding="UTF-8"?>');
  out.comment(
    0,
    `Converted from ${formats[registry.format]} (${registry.source}) by s7supervisor convert.\nEach comment marks a setting with no equivalent here, or how one was mapped.`,
  );
  out.add(0, '<supervisor>');
  for (const note of registry.notes) out.comment(1, note);
  out.add(1, '<servers>');
  for (const spec of registry.servers) {
    if (spec.leftOut !== undefined) leftOutServer(out, 2, spec);
    else server(out, 2, spec, true);
  }
  out.add(1, '</servers>');
  out.add(0, '</supervisor>');
  return `${out.lines.join('\n')}\n`;
}
