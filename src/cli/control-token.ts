// S7SUPERVISOR_CONTROL_TOKEN (design.md §3 rev. 2, §4): the Bearer token that opens the control
// routes on the TCP port. It is checked at start-up, before anything starts: a token too short to
// resist guessing is an error, not a weak lock. Surrounding whitespace is not part of it (a secret
// mounted from a file usually ends in a newline); the presented token is trimmed the same way
// (src/http/control.ts).

/** the shortest token accepted: 16 characters, e.g. 8 random bytes in hex; 32 hex are better */
export const MIN_CONTROL_TOKEN_LENGTH = 16;

export type ControlToken =
  | { ok: true /** undefined: no token, the control routes are not on the TCP port */; token?: string }
  | { ok: false; message: string };

/**
 * The token as the control routes compare it, from the variable's raw value: unset or empty means
 * none; otherwise trimmed, and refused (with a message that never shows it) when it is blank,
 * shorter than MIN_CONTROL_TOKEN_LENGTH characters, or holds a character an Authorization header
 * cannot carry (a control character, or one outside printable ASCII).
 */
export function parseControlToken(raw: string | undefined): ControlToken {
  if (raw === undefined || raw === '') return { ok: true };
  const name = 'S7SUPERVISOR_CONTROL_TOKEN';
  const token = raw.trim();
  if (token === '') {
    return {
      ok: false,
      message: `${name} is blank (whitespace only): set a token of at least ${MIN_CONTROL_TOKEN_LENGTH} characters, or leave it unset to keep control off the TCP port`,
    };
  }
  const length = Array.from(token).length;
  if (length < MIN_CONTROL_TOKEN_LENGTH) {
    return {
      ok: false,
      message: `${name} is ${length} character${length === 1 ? '' : 's'} long: at least ${MIN_CONTROL_TOKEN_LENGTH} are needed (e.g. openssl rand -hex 32)`,
    };
  }
  const bad = Array.from(token).findIndex((c) => c < ' ' || c > '~');
  if (bad >= 0) {
    return {
      ok: false,
      message: `${name} has a character an Authorization header cannot carry at position ${bad + 1}: use printable ASCII (letters, digits, punctuation)`,
    };
  }
  return { ok: true, token };
}
