// XML to a small element tree that remembers line numbers. fast-xml-parser does the parsing; this
// module adds what a configuration file needs from it: a DOCTYPE refused before anything is parsed
// (no entity can be declared, so none can be expanded or fetched), the five predefined entities
// and character references decoded by us (an unknown one is an error, not silently kept), and
// every error turned into a problem with a line.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ProblemList } from './errors.js';
import { escapeControls } from './values.js';

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

/**
 * How deeply elements may nest. A registry needs 6 levels (supervisor, servers, server, arguments,
 * argument; a check's argument); deeper is not a registry, and refusing it before the parser runs
 * keeps every recursive walk of the tree (ours and the parser's) far from the stack's end.
 */
export const MAX_NESTING = 64;

/** the key of each node's metadata (its line); the library types it as the Symbol wrapper object */
const metadata = metadataKey(XMLParser.getMetaDataSymbol());

function metadataKey(key: unknown): symbol {
  // a primitive symbol in every version we know: a check, not a cast, says so if that changes
  if (typeof key !== 'symbol') throw new Error('fast-xml-parser: the metadata key is not a symbol');
  return key;
}

const parser = new XMLParser({
  // a backstop only: nestingTooDeep() refuses such a file first, with its line
  maxNestedTags: MAX_NESTING,
  // no path strings built per node: nothing here looks at them
  jPath: false,
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
  if (text.length > MAX_REGISTRY_BYTES || Buffer.byteLength(text) > MAX_REGISTRY_BYTES) {
    problems.add(1, '', `the file is larger than ${MAX_REGISTRY_BYTES / 1024} KiB: not a registry`);
    return undefined;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = new LineIndex(text);

  const forbidden = forbiddenCharacter.exec(text);
  if (forbidden) {
    const binary = text.includes('\0') ? ' (is this a binary file?)' : '';
    problems.add(
      lines.lineOf(forbidden.index),
      '',
      `not well-formed XML: character ${escapeControls(forbidden[0])} is not allowed in XML${binary}`,
    );
    return undefined;
  }

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
  const deep = nestingTooDeep(text, MAX_NESTING);
  if (deep !== undefined) {
    problems.add(
      lines.lineOf(deep.at),
      deep.name,
      `elements nested more than ${MAX_NESTING} deep: a registry needs about 6 levels, this is not one`,
    );
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
    // The parser refuses some names the validator lets through (e.g. __proto__): point at them,
    // as an element or as an attribute.
    const message = error instanceof Error ? error.message : String(error);
    const name = /"([^"]+)"/.exec(message)?.[1];
    const at = name === undefined ? -1 : findName(text, name);
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
    // the parser renames a few names (toString becomes __toString): messages use what was written
    const written =
      start === undefined ? undefined : /^<([^\s/>]+)/.exec(lines.text.slice(start, start + 256));
    const element: XmlElement = {
      name: written?.[1] ?? name,
      attributes: [],
      children: [],
      text: '',
      line: elementLine,
    };

    const attributes = node[':@'];
    if (isRecord(attributes)) {
      for (const [attrName, raw] of Object.entries(attributes)) {
        const value = decodeEntities(String(raw), (message) =>
          problems.add(elementLine, element.name, `attribute ${attrName}: ${message}`),
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
            problems.add(elementLine, element.name, message),
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
      if (isXmlChar(code)) return String.fromCodePoint(code);
      onError(`${whole} is not a character XML allows (§2.2: no control characters but tab, CR and LF)`);
      return whole;
    }
    onError(`unknown entity ${whole}: only &lt; &gt; &amp; &quot; &apos; and &#N; are defined`);
    return whole;
  });
}

/** XML 1.0's Char production: what a character reference may stand for */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
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

/**
 * Characters XML 1.0 does not allow anywhere (§2.2): the C0 controls but tab, line feed and
 * carriage return, and U+FFFE, U+FFFF. A binary file shows itself by them at once.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is looked for
const forbiddenCharacter = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;

/**
 * Where elements first nest deeper than `limit`, and the name of the element that does it;
 * undefined when they never do. One pass over the text, no recursion, nothing kept but a counter.
 * Exact for a well-formed document; on a broken one the validator has the last word anyway.
 */
export function nestingTooDeep(text: string, limit: number): { at: number; name: string } | undefined {
  let depth = 0;
  let at = text.indexOf('<');
  while (at >= 0 && at < text.length) {
    let next: number;
    if (text.startsWith('<!--', at)) next = after(text, '-->', at + 4);
    else if (text.startsWith('<![CDATA[', at)) next = after(text, ']]>', at + 9);
    else if (text.startsWith('<?', at)) next = after(text, '?>', at + 2);
    else if (text.startsWith('<!', at)) next = after(text, '>', at + 2);
    else if (text.startsWith('</', at)) {
      depth = Math.max(0, depth - 1);
      next = after(text, '>', at + 2);
    } else {
      // a start tag: its end is the first ">" outside a quoted attribute value
      let end = at + 1;
      let quote = '';
      for (; end < text.length; end++) {
        const c = text[end];
        if (quote) {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '>') break;
      }
      if (text[end - 1] !== '/') {
        depth += 1;
        if (depth > limit) return { at, name: /^<([^\s/>]{1,64})/.exec(text.slice(at, at + 80))?.[1] ?? '' };
      }
      next = end + 1;
    }
    at = text.indexOf('<', next);
  }
  return undefined;
}

/** the offset just past the next `token` from `from`, or the end of the text */
function after(text: string, token: string, from: number): number {
  const found = text.indexOf(token, from);
  return found < 0 ? text.length : found + token.length;
}

/** where `name` is first written as an element or attribute name */
function findName(text: string, name: string): number {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found = new RegExp(`<${escaped}[\\s/>]|\\s${escaped}\\s*=`).exec(text);
  return found ? found.index : -1;
}

/** Offsets to 1-based lines; \r\n, \r and \n each end a line. */
class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly text: string) {
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
