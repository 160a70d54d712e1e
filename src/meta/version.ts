// The version of s7supervisor, from package.json. Imports nothing of the project, so anything may
// import it without dragging a layer along (the health checks' User-Agent, the CLI, the metrics).
//
// Its compiled file (dist/src/meta/version.js) sits as deep below the package root as the bundled
// command (dist/src/cli/main.js) that inlines it: one relative path serves both.
import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const version: string = packageJson.version;
