// A port of CPython's shlex lexer (Lib/shlex.py, posix mode), for the two ways supervisord uses
// it: `shlex.split(command)` splits a program's command line (no shell is involved: supervisord
// execs the words), and `dict_of_key_value_pairs` lexes `environment=A="x",B="y"` with extra
// word characters. Converting a supervisord.conf means splitting exactly as supervisord does;
// the npm ports of shlex add bash's $'...' quoting and lack the key=value mode, and shell parsers
// (shell-quote) expand $VAR and read operators, which supervisord never does.

const WHITESPACE = ' \t\r\n';
const QUOTES = `'"`;
const ESCAPE = '\\';
/** quotes inside which the escape character works (only before itself or the quote) */
const ESCAPED_QUOTES = '"';
/** posix mode's word characters: ASCII letters, digits, '_' and the Latin-1 letters */
const POSIX_WORDCHARS =
  'abcdfeghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_' +
  'ßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ';

interface LexerOptions {
  /** split on whitespace only (shlex.split); otherwise non-word characters are tokens of their own */
  whitespaceSplit: boolean;
  wordchars: string;
  /** characters that start a comment running to the end of the line */
  commenters: string;
}

/** What shlex raises: "No closing quotation", "No escaped character". */
export class ShlexError extends Error {
  override name = 'ShlexError';
}

function tokenize(text: string, options: LexerOptions): string[] {
  const tokens: string[] = [];
  const pushback: string[] = [];
  let at = 0;
  const next = (): string => pushback.pop() ?? (at < text.length ? (text[at++] ?? '') : '');
  const skipLine = () => {
    while (at < text.length && text[at++] !== '\n');
  };
  // One pass of read_token per token, as CPython does it; state ' ' is between tokens, 'a' in a
  // word, a quote character inside that quote, ESCAPE after a backslash.
  for (;;) {
    let state = ' ';
    let escapedState = ' ';
    let token = '';
    let quoted = false;
    let done = false;
    while (!done) {
      const c = next();
      if (state === ' ') {
        if (c === '') {
          done = true;
        } else if (WHITESPACE.includes(c)) {
          if (token || quoted) done = true;
        } else if (options.commenters.includes(c)) {
          skipLine();
        } else if (c === ESCAPE) {
          escapedState = 'a';
          state = ESCAPE;
        } else if (options.wordchars.includes(c)) {
          token = c;
          state = 'a';
        } else if (QUOTES.includes(c)) {
          state = c;
        } else if (options.whitespaceSplit) {
          token = c;
          state = 'a';
        } else {
          token = c;
          done = true;
        }
      } else if (QUOTES.includes(state)) {
        quoted = true;
        if (c === '') throw new ShlexError('No closing quotation');
        if (c === state) state = 'a';
        else if (c === ESCAPE && ESCAPED_QUOTES.includes(state)) {
          escapedState = state;
          state = ESCAPE;
        } else token += c;
      } else if (state === ESCAPE) {
        if (c === '') throw new ShlexError('No escaped character');
        // inside quotes only the quote itself or the escape character may be escaped
        if (QUOTES.includes(escapedState) && c !== ESCAPE && c !== escapedState) token += ESCAPE;
        token += c;
        state = escapedState;
      } else {
        // state 'a': in a word
        if (c === '') {
          done = true;
        } else if (WHITESPACE.includes(c)) {
          state = ' ';
          if (token || quoted) done = true;
        } else if (options.commenters.includes(c)) {
          skipLine();
          state = ' ';
          if (token || quoted) done = true;
        } else if (QUOTES.includes(c)) {
          state = c;
        } else if (c === ESCAPE) {
          escapedState = 'a';
          state = ESCAPE;
        } else if (options.wordchars.includes(c) || options.whitespaceSplit) {
          token += c;
        } else {
          pushback.push(c);
          state = ' ';
          if (token || quoted) done = true;
        }
      }
    }
    // posix shlex ends at an empty token that was not quoted ('' from "" is a token)
    if (token === '' && !quoted) return tokens;
    tokens.push(token);
  }
}

/** Python's `shlex.split(text)`: the words supervisord execs for `command=` */
export function shlexSplit(text: string): string[] {
  return tokenize(text, { whitespaceSplit: true, wordchars: POSIX_WORDCHARS, commenters: '' });
}

/**
 * supervisord's `dict_of_key_value_pairs`: `KEY=val,KEY2="val 2"` as a list of pairs (later
 * duplicates win, as in the dict it builds). Throws ShlexError on a malformed list.
 */
export function keyValuePairs(text: string): Array<[string, string]> {
  const tokens = tokenize(text, {
    whitespaceSplit: false,
    wordchars: `${POSIX_WORDCHARS}/.+-():`,
    commenters: '#',
  });
  const pairs = new Map<string, string>();
  // KEY = VALUE, then one separator token (normally ',') that is skipped whatever it is
  for (let i = 0; i < tokens.length; i += 4) {
    const [key, equals, value] = tokens.slice(i, i + 3);
    if (key === undefined || equals !== '=' || value === undefined)
      throw new ShlexError(`unexpected end of key/value pairs in ${JSON.stringify(text)}`);
    pairs.set(key, value);
  }
  return [...pairs];
}
