// What a bad registry produces: every problem of the file at once, each naming the file, the
// line and the element, so a user fixes them all in one go instead of one per run.
import { isAbsolute, relative } from 'node:path';

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

/** `conf/SupervisorRegistry.xml:12: <stopTimeout> in server "is": expected a number of seconds, got "abc"` */
export function formatProblem(problem: RegistryProblem): string {
  const location =
    problem.line > 0 ? `${displayPath(problem.file)}:${problem.line}` : displayPath(problem.file);
  const name = problem.element.length > 60 ? `${problem.element.slice(0, 60)}...` : problem.element;
  const element = name ? ` <${name}>` : '';
  const where = problem.where ? ` in ${problem.where}` : '';
  const subject = element || where ? `${element}${where}:` : '';
  // one line per problem, whatever a quoted value held
  return `${location}:${subject} ${problem.message}`.replace(/\r\n|\r|\n/g, '\\n');
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
