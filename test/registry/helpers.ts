// Shared by the registry tests: parse text and get its problems, find a line by its content.
import assert from 'node:assert/strict';
import { RegistryError, type RegistryProblem } from '../../src/registry/errors.js';
import { parseRegistry } from '../../src/registry/load.js';
import type { Registry } from '../../src/registry/model.js';

export const FILE = 'conf/SupervisorRegistry.xml';
export const HOME = '/srv/s7';

export function parse(xml: string, env: NodeJS.ProcessEnv = {}): Registry {
  return parseRegistry(xml, FILE, HOME, env);
}

/** the problems parsing `xml` reports; fails the test if it parses */
export function problemsOf(xml: string, env: NodeJS.ProcessEnv = {}): RegistryProblem[] {
  try {
    parseRegistry(xml, FILE, HOME, env);
  } catch (error) {
    if (error instanceof RegistryError) return error.problems;
    throw error;
  }
  assert.fail(`expected the registry to be refused:\n${xml}`);
}

export function errorOf(xml: string, env: NodeJS.ProcessEnv = {}): RegistryError {
  try {
    parseRegistry(xml, FILE, HOME, env);
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  assert.fail(`expected the registry to be refused:\n${xml}`);
}

/** 1-based line of the first line containing `needle` */
export function lineOf(xml: string, needle: string): number {
  const index = xml.split('\n').findIndex((line) => line.includes(needle));
  assert.ok(index >= 0, `"${needle}" is not in the test registry`);
  return index + 1;
}

/** a minimal valid registry around the given server body (and config body) */
export function registry(serverBody: string, config = '', extra = ''): string {
  return `<?xml version="1.0"?>
<supervisor>
  <config>
    ${config}
  </config>
  ${extra}
  <servers>
    <server id="is">
      ${serverBody}
    </server>
  </servers>
</supervisor>
`;
}

/** asserts exactly one problem, at `needle`'s line, on `element`, with a message matching `message` */
export function assertOneProblem(
  xml: string,
  expected: { at: string; element: string; message: RegExp; where?: string },
  env: NodeJS.ProcessEnv = {},
): RegistryProblem {
  const problems = problemsOf(xml, env);
  assert.equal(
    problems.length,
    1,
    `expected one problem, got:\n${problems.map((p) => p.message).join('\n')}`,
  );
  const [problem] = problems as [RegistryProblem];
  assert.equal(problem.file, FILE);
  assert.equal(problem.line, lineOf(xml, expected.at), `line of: ${problem.message}`);
  assert.equal(problem.element, expected.element);
  assert.match(problem.message, expected.message);
  if (expected.where !== undefined) assert.equal(problem.where, expected.where);
  return problem;
}
