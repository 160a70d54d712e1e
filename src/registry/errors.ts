// What a bad registry produces: every problem of the file at once, each naming the file, the
// line and the element, so a user fixes them all in one go instead of one per run.
import { isAbsolute, relative } from 'node:path';
import { escapeControls } from './values.js';

export interface RegistryProblem {
  /** the registry file as the caller named it */
  file: string;
  /** 1-based; 0 only when the problem is about the file as a whole (cannot be read) */
  line: number;
  /** the element the problem is in, without brackets ('' when there is none, e.g. not XML) */
  element: string;
  /** what is wrong and what was expected */
  message: string;
  /** where the element sits, e.g. 'server "is"', 'profile "Tomcat"', 'config' */
  where?: string;
}

export class RegistryError extends Error {
  override name = 'RegistryError';
  readonly problems: RegistryProblem[];

  /** `trailing` stays last, after the problems sorted by line */
  constructor(problems: RegistryProblem[], trailing: RegistryProblem[] = []) {
    const sorted = [...[...problems].sort((a, b) => a.line - b.line), ...trailing];
    super(sorted.map(formatProblem).join('\n'));
    this.problems = sorted;
  }
}

/** at most this many characters of a problem's message are shown (the longest real one is ~250) */
export const MAX_MESSAGE_CHARS = 400;
/** and of the file's path: the end of it, which names the file */
const MAX_PATH_CHARS = 200;

/**
 * `conf/SupervisorRegistry.xml:12: <stopTimeout> in server "is": expected a number of seconds, got "abc"`.
 * Always one line of bounded length with no control character in it, whatever the file held
 * (a binary file, escape sequences, a name a mile long): they are shown escaped (`\x00`) and cut.
 */
export function formatProblem(problem: RegistryProblem): string {
  const location = problem.line > 0 ? `${shownPath(problem.file)}:${problem.line}` : shownPath(problem.file);
  const name = escapeControls(problem.element, 60);
  const element = name ? ` <${name}>` : '';
  const where = problem.where ? ` in ${escapeControls(problem.where, 100)}` : '';
  const subject = element || where ? `${element}${where}:` : '';
  return `${location}:${subject} ${escapeControls(problem.message, MAX_MESSAGE_CHARS)}`;
}

function shownPath(file: string): string {
  const path = Array.from(escapeControls(displayPath(file)));
  return path.length > MAX_PATH_CHARS ? `...${path.slice(-MAX_PATH_CHARS).join('')}` : path.join('');
}

/** A path as short as it can be while still being unambiguous from where the user stands. */
export function displayPath(file: string, cwd = process.cwd()): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Beyond this many, a file is not a registry with mistakes but something else: stop listing. */
export const MAX_PROBLEMS = 50;

/** Collects the problems of one file while it is read. */
export class ProblemList {
  readonly items: RegistryProblem[] = [];
  private more = 0;
  private moreLine = 0;

  constructor(readonly file: string) {}

  add(line: number, element: string, message: string, where?: string): void {
    if (this.full) {
      if (this.more++ === 0) this.moreLine = line;
      return;
    }
    this.items.push({ file: this.file, line, element, message, ...(where ? { where } : {}) });
  }

  get empty(): boolean {
    return this.items.length === 0;
  }

  /** no further problem will be listed: callers may skip work that only makes messages better */
  get full(): boolean {
    return this.items.length >= MAX_PROBLEMS;
  }

  throwIfAny(): void {
    if (this.empty) return;
    const more =
      this.more > 0
        ? [
            {
              file: this.file,
              line: this.moreLine,
              element: '',
              message: `and ${this.more} more problems from here on`,
            },
          ]
        : [];
    throw new RegistryError(this.items, more);
  }
}
