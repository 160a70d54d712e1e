import { readFileSync } from 'node:fs';

// package.json sits two folders above dist/src/cli (and src/cli)
const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const version: string = packageJson.version;
