// Procfile and process-compose run each command line through a shell. A registry server runs a
// program with arguments, so a command line that is plain words (quotes allowed) is split into
// them, and anything the shell would do more with (pipes, &&, redirections, variables, globs,
// `cd dir && ...`) runs through `/bin/sh -c`, which every image has. Splitting is only an
// economy (one process less); when in doubt the shell is the faithful choice.

import { shlexSplit } from './shlex.js';

/** characters with a meaning to sh outside quotes (besides the quotes and backslash) */
const SPECIAL_OUTSIDE = new Set('|&;<>()$`*?[]#~{}!\n');
/** characters with a meaning to sh inside double quotes */
const SPECIAL_IN_DOUBLE_QUOTES = new Set('$`\\');
/** a first word that is the shell's own (a builtin or reserved word), not a program to exec */
const SHELL_WORDS = new Set([
  '.',
  'alias',
  'case',
  'cd',
  'command',
  'eval',
  'export',
  'for',
  'if',
  'read',
  'set',
  'source',
  'trap',
  'ulimit',
  'umask',
  'unset',
  'until',
  'wait',
  'while',
]);

/** true when sh would read `line` as more than words and quotes (or it is unterminated) */
export function needsShell(line: string): boolean {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (SPECIAL_IN_DOUBLE_QUOTES.has(c)) return true;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '\\') {
      i++;
    } else if (SPECIAL_OUTSIDE.has(c)) {
      return true;
    }
  }
  if (quote !== undefined) return true;
  const words = shlexSplit(line);
  const first = words[0];
  // `NAME=value cmd` sets a variable for cmd
  if (first === undefined || SHELL_WORDS.has(first) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(first)) return true;
  return first === 'exec' && (words[1] === undefined || words[1].startsWith('-'));
}

export interface CommandLine {
  command: string;
  args: string[];
}

/**
 * The program and arguments for a shell command line. `shell` is the shell and its flag
 * (process-compose lets a file choose them); its script is the line as written.
 */
export function fromShellLine(line: string, shell: [string, string] = ['/bin/sh', '-c']): CommandLine {
  const trimmed = line.trim();
  if (!needsShell(trimmed)) {
    const words = shlexSplit(trimmed);
    // `exec prog args` with nothing else for the shell to do is just `prog args`
    if (words[0] === 'exec') words.shift();
    const [command, ...args] = words;
    if (command !== undefined) return { command, args };
  }
  return { command: shell[0], args: [shell[1], trimmed] };
}
