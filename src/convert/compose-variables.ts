// process-compose expands `$NAME`, `${NAME}` and `${NAME:-default}` in its file from its own
// environment (and .env) when it loads it, an unset variable becoming empty; `$$` is a `$`.
// The registry expands `${NAME}` when the supervisor loads it, but refuses an unset variable
// without a default, so each reference is written `${NAME:-}` or `${NAME:-default}`: the same
// value, from the supervisor's environment, at the same moment (start-up).

import { literal } from './model.js';

export type Part = string | { env: string; fallback: string };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Splits `text` into literal text and references; throws an Error for a form the registry lacks. */
export function composeParts(text: string): Part[] {
  const parts: Part[] = [];
  let plain = '';
  let at = 0;
  while (at < text.length) {
    const dollar = text.indexOf('$', at);
    if (dollar < 0) {
      plain += text.slice(at);
      break;
    }
    plain += text.slice(at, dollar);
    const rest = text.slice(dollar + 1);
    if (rest.startsWith('$')) {
      plain += '$';
      at = dollar + 2;
      continue;
    }
    const bare = NAME.exec(rest);
    if (bare) {
      if (plain) parts.push(plain);
      plain = '';
      parts.push({ env: bare[0], fallback: '' });
      at = dollar + 1 + bare[0].length;
      continue;
    }
    if (!rest.startsWith('{')) {
      plain += '$';
      at = dollar + 1;
      continue;
    }
    const close = rest.indexOf('}');
    if (close < 0) throw new Error(`unterminated "\${" in ${JSON.stringify(text)}`);
    const inner = rest.slice(1, close);
    // ${NAME}, ${NAME:-x}, ${NAME-x}, ${NAME:=x}, ${NAME=x}: the variable, or x when unset or empty
    const match = /^([A-Za-z_][A-Za-z0-9_]*)(?::?[-=](.*))?$/s.exec(inner);
    if (!match || (match[2] ?? '').includes('$'))
      throw new Error(
        `"\${${inner}}" is not a form the registry has: write \${NAME} or \${NAME:-default} (or $$ for a literal $)`,
      );
    if (plain) parts.push(plain);
    plain = '';
    parts.push({ env: match[1] ?? '', fallback: match[2] ?? '' });
    at = dollar + 1 + close + 1;
  }
  if (plain || parts.length === 0) parts.push(plain);
  return parts;
}

/** true when every part is literal text */
export function isLiteral(parts: Part[]): parts is string[] {
  return parts.every((part) => typeof part === 'string');
}

export function registryText(parts: Part[]): string {
  return parts
    .map((part) => (typeof part === 'string' ? literal(part) : `\${${part.env}:-${part.fallback}}`))
    .join('');
}
