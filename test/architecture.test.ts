// The import graph of src/: no circle, and the commands (src/cli/) on top, imported by nobody
// below them. The imports are read by TypeScript's own pre-processor (a devDependency already), so
// `import type`, `export ... from` and `import()` all count: a type-only circle is still two
// modules that cannot be understood one without the other.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// dist/test/architecture.test.js → the repository root
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** file (relative to the root) → the project files it imports */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(src)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const imports = importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative(root, resolve(dirname(file), name)).replace(/\.js$/, '.ts'));
    graph.set(relative(root, file), imports);
  }
  return graph;
}

/** every strongly connected set of more than one file (Tarjan), and every file importing itself */
function circles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, index.get(next)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const members: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      members.push(member);
    } while (member !== file);
    if (members.length > 1 || (graph.get(file) ?? []).includes(file)) found.push(members.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

const graph = importGraph();

test('the import graph reads every module of src/', () => {
  // a parser that read nothing would pass the tests below trivially
  assert.ok(graph.size > 100, `only ${graph.size} modules found under ${src}`);
  assert.ok(graph.get(join('src', 'cli', 'run.ts'))?.includes(join('src', 'supervisor', 'supervisor.ts')));
});

test('no import circle in src/', () => {
  const found = circles(graph);
  assert.deepEqual(
    found,
    [],
    `modules that import each other, directly or round about:\n${found.map((c) => `  ${c.join(' ⇄ ')}`).join('\n')}`,
  );
});

test('nothing outside src/cli/ imports from src/cli/', () => {
  const cli = `${join('src', 'cli')}/`;
  const offending = [...graph].flatMap(([file, imports]) =>
    file.startsWith(cli) ? [] : imports.filter((i) => i.startsWith(cli)).map((i) => `  ${file} → ${i}`),
  );
  assert.deepEqual(
    offending,
    [],
    `the commands are the top layer; these import from them:\n${offending.join('\n')}`,
  );
});

test('no `as unknown as` in src/: a value is checked or typed, never forced into another type', () => {
  const forced = sources(src).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => (/\bas unknown as\b/.test(line) ? [`  ${relative(root, file)}:${i + 1}`] : [])),
  );
  assert.deepEqual(forced, [], `casts through unknown:\n${forced.join('\n')}`);
});
