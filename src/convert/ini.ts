// The INI dialect supervisord reads: Python's configparser as supervisord sets it up
// (RawConfigParser, inline_comment_prefixes ';' and '#', strict=False), with line numbers.
//
// Why not the `ini` package: it cuts a value at any ';' or '#' (supervisord only at one preceded
// by whitespace, so `command=nginx -g "daemon off;"` keeps its ';'), knows neither the ':'
// delimiter nor indented continuation lines (multi-line `environment=`), and turns `true` into a
// boolean and strips quotes. The other INI packages on npm differ from configparser in the same
// places, and one that follows it is GPL. The rules below are configparser's own, in its order.

import { ConvertError } from './model.js';

export interface IniValue {
  value: string;
  /** 1-based line of the option's key */
  line: number;
}

export interface IniSection {
  name: string;
  line: number;
  /** option names lowercased, as configparser's optionxform does; in the order first seen */
  options: Map<string, IniValue>;
}

const SECTION = /^\[(.+)\]/;
/** the option name stops at the first '=' or ':' */
const OPTION = /^(.*?)\s*([=:])\s*(.*)$/;
const COMMENT_PREFIXES = ['#', ';'];
const INLINE_COMMENT_PREFIXES = [';', '#'];

/** index where an inline comment starts: a prefix at the start or after whitespace */
function inlineCommentStart(line: string): number | undefined {
  let start: number | undefined;
  for (const prefix of INLINE_COMMENT_PREFIXES) {
    for (let index = line.indexOf(prefix); index !== -1; index = line.indexOf(prefix, index + 1)) {
      if (index === 0 || /\s/.test(line[index - 1] ?? '')) {
        start = start === undefined ? index : Math.min(start, index);
        break;
      }
    }
  }
  return start;
}

/**
 * Parses `text` (the contents of `file`) into its sections, in order. A section that appears
 * twice is one section (strict=False), a later option replacing an earlier one. [DEFAULT]'s
 * options are folded into every other section, as configparser's lookups do.
 */
export function parseIni(text: string, file: string): IniSection[] {
  const sections = new Map<string, IniSection>();
  const defaults = new Map<string, IniValue>();
  let current: Map<string, IniValue> | undefined;
  /** the option continuation lines add to, with its lines so far */
  let open: { value: IniValue; lines: string[] } | undefined;
  let indentLevel = 0;
  const close = () => {
    if (open) open.value.value = open.lines.join('\n').trimEnd();
    open = undefined;
  };

  const lines = text.split(/\r\n|\n|\r/);
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    let commentStart = inlineCommentStart(line);
    if (COMMENT_PREFIXES.some((prefix) => line.trim().startsWith(prefix))) commentStart = 0;
    const value = line.slice(0, commentStart).trim();
    if (value === '') {
      // an empty line inside a multi-line value belongs to it, unless it held a comment
      if (commentStart === undefined && open) open.lines.push('');
      return;
    }
    const indent = line.search(/\S/);
    if (open && indent > indentLevel) {
      open.lines.push(value);
      return;
    }
    close();
    indentLevel = indent;
    const header = SECTION.exec(value);
    if (header) {
      const name = header[1] ?? '';
      if (name === 'DEFAULT') {
        current = defaults;
      } else {
        let section = sections.get(name);
        if (!section) {
          section = { name, line: lineNumber, options: new Map() };
          sections.set(name, section);
        }
        current = section.options;
      }
      return;
    }
    if (!current)
      throw new ConvertError(file, lineNumber, 'not an INI file: a [section] header must come first');
    const option = OPTION.exec(value);
    const name = option?.[1]?.trimEnd().toLowerCase();
    if (!option || !name)
      throw new ConvertError(
        file,
        lineNumber,
        `cannot parse ${JSON.stringify(value.slice(0, 60))}: expected "name = value" or a [section]`,
      );
    const entry: IniValue = { value: '', line: lineNumber };
    current.set(name, entry);
    open = { value: entry, lines: [(option[3] ?? '').trim()] };
  });
  close();

  return [...sections.values()].map((section) => ({
    ...section,
    options: new Map([...[...defaults].filter(([name]) => !section.options.has(name)), ...section.options]),
  }));
}
