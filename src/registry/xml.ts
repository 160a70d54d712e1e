// XML to a small element tree that remembers line numbers. fast-xml-parser does the parsing; this
// module adds what a configuration file needs from it: a DOCTYPE refused before anything is parsed
// (no entity can be declared, so none can be expanded or fetched), the five predefined entities
// and character references decoded by us (an unknown one is an error, not silently kept), and
// every error turned into a problem with a line.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ProblemList } from './errors.js';

export interface XmlElement {
  name: string;
  /** decoded attribute values, in document order */
  attributes: Array<{ name: string; value: string }>;
  children: XmlElement[];
  /** the element's own text (CDATA included), decoded, not trimmed */
  text: string;
  /** 1-based line of the start tag */
  line: number;
}

/** far above any real registry, low enough that parsing stays fast and small */
export const MAX_REGISTRY_BYTES = 1024 * 1024;

// typed as the Symbol wrapper object by the library; it is a primitive symbol
const metadata = XMLParser.getMetaDataSymbol() as unknown as symbol;

const parser = new XMLParser({
  preserveOrder: true,
  captureMetaData: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  allowBooleanAttributes: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: false,
  htmlEntities: false,
  cdataPropName: '#cdata',
  ignoreDeclaration: true,
  ignorePiTags: true,
});

/**
 * Parses `text` into its root element. Syntax problems are added to `problems`; the result is
 * undefined when the text is not a well-formed document.
 */
export function parseXml(text: string, problems: ProblemList): XmlElement | undefined {
  if (text.length > MAX_REGISTRY_BYTES) {
    problems.add(1, '', `the file is larger than ${MAX_REGISTRY_BYTES / 1024} KiB: not a registry`);
    return undefined;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = new LineIndex(text);

  const doctype = findDoctype(text);
  if (doctype !== undefined) {
    problems.add(
      lines.lineOf(doctype),
      '!DOCTYPE',
      'a DOCTYPE is not allowed in a registry (it is how entity bombs and external entities get in): remove it',
    );
    return undefined;
  }
  if (text.trim() === '') {
    problems.add(1, '', 'the file is empty: expected a <supervisor> document');
    return undefined;
  }

  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    const { line, element, message } = describeSyntaxError(valid.err.msg, valid.err.line, text, lines);
    problems.add(Math.max(1, line), element, `not well-formed XML: ${message}`);
    return undefined;
  }

  let nodes: unknown;
  try {
    nodes = parser.parse(text);
  } catch (error) {
    // The parser refuses some names the validator lets through (e.g. __proto__): point at them.
    const message = error instanceof Error ? error.message : String(error);
    const name = /"([^"]+)"/.exec(message)?.[1];
    const at = name === undefined ? -1 : text.indexOf(`<${name}`);
    problems.add(at >= 0 ? lines.lineOf(at) : 1, name ?? '', `cannot be parsed: ${message}`);
    return undefined;
  }

  const roots = toElements(nodes, lines, problems, 1);
  if (roots.length === 0) {
    problems.add(1, '', 'no root element: expected a <supervisor> document');
    return undefined;
  }
  for (const extra of roots.slice(1)) {
    problems.add(extra.line, extra.name, 'a second root element: everything belongs inside <supervisor>');
  }
  return roots[0];
}

/** The validator's messages, made to say what to do where they do not. */
function describeSyntaxError(
  msg: string,
  line: number,
  text: string,
  lines: LineIndex,
): { line: number; element: string; message: string } {
  if (msg === "char '&' is not expected.") {
    return { line, element: '', message: 'a bare "&" must be written &amp;' };
  }
  // several tags left open: the validator lists them (outermost first) and gives no line
  const open = /^Invalid '(\[.*\])' found\.$/.exec(msg)?.[1];
  if (open !== undefined) {
    let names: string[] = [];
    try {
      const parsed: unknown = JSON.parse(open);
      if (Array.isArray(parsed)) names = parsed.map(String);
    } catch {
      // keep the validator's own words
    }
    const innermost = names.at(-1);
    if (innermost !== undefined) {
      const at = text.lastIndexOf(`<${innermost}`);
      return {
        line: at >= 0 ? lines.lineOf(at) : line,
        element: innermost,
        message: `the file ends with tags still open: ${names.map((n) => `<${n}>`).join(', ')} (is it truncated?)`,
      };
    }
  }
  const element = /tag '([^']{1,64})'/.exec(msg)?.[1] ?? '';
  return { line, element, message: msg.length > 200 ? `${msg.slice(0, 200)}...` : msg };
}

function toElements(nodes: unknown, lines: LineIndex, problems: ProblemList, line: number): XmlElement[] {
  const elements: XmlElement[] = [];
  if (!Array.isArray(nodes)) return elements;
  for (const node of nodes) {
    if (!isRecord(node)) continue;
    const name = Object.keys(node).find((key) => key !== ':@');
    if (name === undefined || name.startsWith('?') || name === '#text' || name === '#cdata') continue;
    const meta = (node as Record<symbol, unknown>)[metadata];
    const start = isRecord(meta) && typeof meta.startIndex === 'number' ? meta.startIndex : undefined;
    const elementLine = start === undefined ? line : lines.lineOf(start);
    const element: XmlElement = { name, attributes: [], children: [], text: '', line: elementLine };

    const attributes = node[':@'];
    if (isRecord(attributes)) {
      for (const [attrName, raw] of Object.entries(attributes)) {
        const value = decodeEntities(String(raw), (message) =>
          problems.add(elementLine, name, `attribute ${attrName}: ${message}`),
        );
        element.attributes.push({ name: attrName, value });
      }
    }

    const content = node[name];
    if (Array.isArray(content)) {
      for (const child of content) {
        if (!isRecord(child)) continue;
        if (typeof child['#text'] === 'string' || typeof child['#text'] === 'number') {
          element.text += decodeEntities(String(child['#text']), (message) =>
            problems.add(elementLine, name, message),
          );
        } else if (Array.isArray(child['#cdata'])) {
          for (const part of child['#cdata']) {
            if (isRecord(part) && part['#text'] !== undefined) element.text += String(part['#text']);
          }
        } else {
          element.children.push(...toElements([child], lines, problems, elementLine));
        }
      }
    }
    elements.push(element);
  }
  return elements;
}

const predefined: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The XML references a registry can use: the five predefined entities and character references. */
export function decodeEntities(raw: string, onError: (message: string) => void): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s<]{0,32});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) {
      onError(`a bare "&" must be written &amp; (at "${whole}")`);
      return whole;
    }
    const named = predefined[ref];
    if (named !== undefined) return named;
    const numeric = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (numeric) {
      const code = numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
      if (code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff))
        return String.fromCodePoint(code);
      onError(`${whole} is not a valid character`);
      return whole;
    }
    onError(`unknown entity ${whole}: only &lt; &gt; &amp; &quot; &apos; and &#N; are defined`);
    return whole;
  });
}

/**
 * Where a DOCTYPE declaration starts, if there is one. Comments, CDATA sections and processing
 * instructions are skipped, so a DOCTYPE mentioned in a comment is no reason to refuse a file.
 */
function findDoctype(text: string): number | undefined {
  let at = text.indexOf('<!');
  while (at >= 0) {
    if (text.startsWith('<!--', at)) {
      const end = text.indexOf('-->', at + 4);
      if (end < 0) return undefined;
      at = text.indexOf('<!', end + 3);
    } else if (text.startsWith('<![CDATA[', at)) {
      const end = text.indexOf(']]>', at + 9);
      if (end < 0) return undefined;
      at = text.indexOf('<!', end + 3);
    } else if (
      /^<!\s*DOCTYPE/i.test(text.slice(at, at + 32)) ||
      /^<!\s*ENTITY/i.test(text.slice(at, at + 32))
    ) {
      return at;
    } else {
      at = text.indexOf('<!', at + 2);
    }
  }
  return undefined;
}

/** Offsets to 1-based lines; \r\n, \r and \n each end a line. */
class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) this.starts.push(i + 1);
    }
  }

  lineOf(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
