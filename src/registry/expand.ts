// ${VAR} and ${VAR:-default} in registry values, as in docker compose. An unset variable without a
// default is an error rather than an empty string: a registry that silently loses a port or a path
// fails later and further away. `$${` writes a literal `${`; any other `$` is kept as it is.

export interface Expansion {
  value: string;
  /** one message per bad reference; empty when the value expanded cleanly */
  errors: string[];
}

import { quoted } from './values.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function expandVariables(raw: string, env: NodeJS.ProcessEnv): Expansion {
  if (!raw.includes('${')) return { value: raw, errors: [] };
  const errors: string[] = [];
  let value = '';
  let at = 0;
  while (at < raw.length) {
    const next = raw.indexOf('$', at);
    if (next < 0) {
      value += raw.slice(at);
      break;
    }
    value += raw.slice(at, next);
    if (raw.startsWith('$${', next)) {
      value += '${';
      at = next + 3;
      continue;
    }
    if (!raw.startsWith('${', next)) {
      value += '$';
      at = next + 1;
      continue;
    }
    const close = raw.indexOf('}', next + 2);
    if (close < 0) {
      errors.push(`unterminated "\${" in ${quoted(raw)}: expected \${NAME} or \${NAME:-default}`);
      value += raw.slice(next);
      break;
    }
    const inner = raw.slice(next + 2, close);
    const split = inner.indexOf(':-');
    const name = split < 0 ? inner : inner.slice(0, split);
    const fallback = split < 0 ? undefined : inner.slice(split + 2);
    if (!NAME.test(name)) {
      errors.push(
        `${quoted(`\${${inner}}`)} is not a variable reference: expected \${NAME} or \${NAME:-default}`,
      );
    } else {
      const current = env[name];
      if (fallback !== undefined) value += current === undefined || current === '' ? fallback : current;
      else if (current !== undefined) value += current;
      else
        errors.push(
          `environment variable ${name} is not set (write \${${name}:-default} to give it a default)`,
        );
    }
    at = close + 1;
  }
  return { value, errors };
}
