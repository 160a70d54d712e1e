// GET /: the status page for people (design.md §4). One server-rendered HTML page, no front-end
// build: a table that becomes one card per component on a phone. A few lines of inline script
// fetch the page again every 2 s and swap in the fresh parts (a meta refresh when scripts are
// off), and, only when a control token is configured, send start/stop/restart/reload with the
// token the person typed (kept in sessionStorage, for that tab only).
// Everything shown comes from the registry or the processes and is escaped; the environment is
// not part of a ComponentStatus, so it cannot be shown. A nonce-based CSP allows only our script.
// The page is rendered once per snapshot (snapshot-cache.ts), each response with a nonce of its own.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ComponentState, SupervisorPhase } from '../supervisor/status.js';
import { formatLastExit, formatMemory, formatNote, formatUptime } from '../view/format.js';
import type { ComponentJson } from './snapshot-cache.js';

export interface StatusPageData {
  version: string;
  phase: SupervisorPhase;
  /** whether /readyz answers 200 */
  ready: boolean;
  components: ComponentJson[];
  /** start/stop/restart/reload buttons (a control token is configured on this port) */
  controls: boolean;
  /** epoch ms the page describes */
  now: number;
}

const REFRESH_SECONDS = 2;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** the page of one snapshot, cut where each response puts its own CSP nonce */
export interface PageTemplate {
  parts: Buffer[];
  /** bytes of all the parts */
  length: number;
}

// Where the nonce goes in a template: random, so no registry text can contain it and cut the page.
const noncePlaceholder = `nonce${randomBytes(18).toString('hex')}`;

/** Renders the page once for a snapshot; sendStatusPage completes it for each response. */
export function statusPageTemplate(data: StatusPageData): PageTemplate {
  const parts = renderStatusPage(data, noncePlaceholder)
    .split(noncePlaceholder)
    .map((part) => Buffer.from(part, 'utf8'));
  return { parts, length: parts.reduce((sum, part) => sum + part.length, 0) };
}

/**
 * Answers GET / (or HEAD) with the page and a nonce of its own: a nonce is never shared between
 * two responses, even when the page is. The parts are written as they are (corked into one
 * write), not copied into one buffer per response.
 */
export function sendStatusPage(req: IncomingMessage, res: ServerResponse, page: PageTemplate): void {
  const nonce = randomBytes(16).toString('base64');
  const nonceBytes = Buffer.from(nonce, 'latin1');
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': page.length + nonceBytes.length * (page.parts.length - 1),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  res.cork();
  page.parts.forEach((part, index) => {
    if (index > 0) res.write(nonceBytes);
    res.write(part);
  });
  res.end(); // uncorks
}

export function renderStatusPage(data: StatusPageData, nonce: string): string {
  const readyCount = data.components.filter((c) => c.ready).length;
  const summary = `${readyCount} of ${data.components.length} component${data.components.length === 1 ? '' : 's'} ready`;
  const title = `${data.ready ? 'Ready' : 'Not ready'}: ${summary} · s7supervisor`;
  const phase =
    data.phase === 'running' ? '' : ` · supervisor ${data.phase === 'gave-up' ? 'gave up' : data.phase}`;
  const updated = new Date(data.now).toISOString().slice(11, 19);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<noscript><meta http-equiv="refresh" content="${REFRESH_SECONDS * 2}"></noscript>
<style nonce="${nonce}">${css}</style>
</head>
<body>
<header>
<h1>s7supervisor <small>${escapeHtml(data.version)}</small></h1>
<p id="summary" class="${data.ready ? 'ok' : 'bad'}"><strong>${data.ready ? 'Ready' : 'Not ready'}</strong> · ${escapeHtml(summary)}${escapeHtml(phase)}</p>
<p id="offline" class="bad" role="alert" hidden>The supervisor does not answer: showing the last known state.</p>
</header>
<main>
${data.controls ? controlsHtml : ''}
<table id="components">
<thead><tr><th scope="col">Component</th><th scope="col">State</th><th scope="col">Ready</th><th scope="col">PID</th><th scope="col">Uptime</th><th scope="col">Restarts</th><th scope="col">Memory</th><th scope="col">Last exit</th>${data.controls ? '<th scope="col">Actions</th>' : ''}</tr></thead>
<tbody id="rows">
${data.components.map((c) => row(c, data)).join('\n')}
</tbody>
</table>
</main>
<footer><p id="updated">Updated ${updated} UTC · refreshes every ${REFRESH_SECONDS} s</p></footer>
<script nonce="${nonce}">${script}</script>
</body>
</html>
`;
}

/** which buttons make sense in which state (the others are shown disabled) */
const canStart: ReadonlySet<ComponentState> = new Set(['stopped', 'fatal', 'backoff']);
const canStop: ReadonlySet<ComponentState> = new Set(['starting', 'running', 'backoff']);

function row(c: ComponentJson, data: StatusPageData): string {
  const id = escapeHtml(c.id);
  const note = formatNote(c);
  const cell = (field: string, label: string, content: string) =>
    `<td data-field="${field}" data-label="${label}">${content}</td>`;
  const button = (action: string, label: string, enabled: boolean) =>
    `<button type="button" data-action="${action}" data-id="${id}"${enabled ? '' : ' disabled'}>${label}</button>`;
  return [
    `<tr data-id="${id}" class="state-${c.state}">`,
    `<th scope="row" data-field="id" data-label="Component"><span class="id">${id}</span>${c.description ? ` <span class="description">${escapeHtml(c.description)}</span>` : ''}${c.critical ? '' : ' <span class="tag">not critical</span>'}</th>`,
    cell('state', 'State', `<span class="badge state-${c.state}">${c.state}</span>`),
    cell(
      'ready',
      'Ready',
      c.ready
        ? '<span class="ok">yes</span>'
        : `<span class="bad">no</span>${note ? `<span class="note">${escapeHtml(note)}</span>` : ''}`,
    ),
    cell('pid', 'PID', c.pid === undefined ? '-' : String(c.pid)),
    cell('uptime', 'Uptime', escapeHtml(formatUptime(c))),
    cell('restarts', 'Restarts', String(c.restarts)),
    cell('memory', 'Memory', escapeHtml(formatMemory(c))),
    cell('lastExit', 'Last exit', escapeHtml(formatLastExit(c, data.now))),
    data.controls
      ? cell(
          'actions',
          'Actions',
          `${button('start', 'Start', canStart.has(c.state))} ${button('stop', 'Stop', canStop.has(c.state))} ${button('restart', 'Restart', true)}`,
        )
      : '',
    '</tr>',
  ].join('');
}

const controlsHtml = `<section id="control" aria-label="Control">
<form id="token-form"><label for="token">Control token</label> <input id="token" name="token" type="password" autocomplete="off" required> <button type="submit">Use token</button></form>
<p id="token-set" hidden>Control token kept for this tab. <button type="button" id="forget-token">Forget it</button></p>
<p><button type="button" data-action="reload">Reload registry</button></p>
<p id="message" role="status" aria-live="polite"></p>
</section>`;

const css = `
:root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.4}
body{margin:0 auto;max-width:72rem;padding:0 1rem 2rem}
h1{font-size:1.4rem;margin:1rem 0 .25rem}h1 small{font-size:.8rem;font-weight:normal;opacity:.7}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #8884;vertical-align:top}
thead th{font-size:.85rem;opacity:.8}
.id{font-weight:600}.description,.note,.tag{display:block;font-size:.85rem;opacity:.75;font-weight:normal}
.ok{color:#127a2d}.bad{color:#b3261e}
@media (prefers-color-scheme:dark){.ok{color:#6ad08a}.bad{color:#ff8a80}}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:.85rem;background:#8882}
.badge.state-running{background:#2e7d3233}.badge.state-fatal,.badge.state-backoff{background:#c6282833}
.badge.state-stopped{background:#8883}.badge.state-starting,.badge.state-stopping{background:#f9a82533}
#message{white-space:pre-line;min-height:1.4em}
button{font:inherit;padding:.35rem .8rem;margin:.1rem 0;border-radius:.4rem;border:1px solid #8888;background:#8881;cursor:pointer}
button:disabled{opacity:.4;cursor:default}
input{font:inherit;padding:.3rem}
footer{font-size:.8rem;opacity:.7}
@media (max-width:40rem){
thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table,tbody,tr,th,td{display:block}
tr{border:1px solid #8886;border-radius:.6rem;margin:0 0 .9rem;padding:.3rem .8rem}
th[scope=row]{border-bottom:1px solid #8884;padding:.4rem 0}
td{display:flex;justify-content:space-between;gap:1rem;border:0;padding:.3rem 0;text-align:right}
td::before{content:attr(data-label);font-weight:600;text-align:left}
td[data-field=ready]{flex-wrap:wrap}td .note{flex-basis:100%}
td[data-field=actions]{justify-content:flex-end;gap:.4rem}td[data-field=actions]::before{content:none}
}`;

// Plain browser JavaScript, kept small: refresh by re-fetching this page, and the control buttons.
const script = `(() => {
  const key = 's7supervisor-control-token';
  const $ = (id) => document.getElementById(id);
  const say = (text, bad) => { const m = $('message'); if (m) { m.textContent = text; m.className = bad ? 'bad' : ''; } };
  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const res = await fetch(location.pathname, { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const fresh = new DOMParser().parseFromString(await res.text(), 'text/html');
      for (const id of ['summary', 'rows', 'updated']) {
        const next = fresh.getElementById(id);
        const old = $(id);
        if (next && old) old.replaceWith(document.adoptNode(next));
      }
      document.title = fresh.title;
      $('offline').hidden = true;
    } catch {
      $('offline').hidden = false;
    } finally {
      busy = false;
    }
  }
  setInterval(() => { if (!document.hidden) refresh(); }, ${REFRESH_SECONDS * 1000});
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });

  const form = $('token-form');
  if (!form) return;
  const showToken = () => {
    const has = Boolean(sessionStorage.getItem(key));
    form.hidden = has;
    $('token-set').hidden = !has;
  };
  showToken();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token').value.trim();
    if (!value) return;
    sessionStorage.setItem(key, value);
    $('token').value = '';
    showToken();
    say('Control token kept for this tab.');
  });
  $('forget-token').addEventListener('click', () => {
    sessionStorage.removeItem(key);
    showToken();
    say('Control token forgotten.');
  });
  document.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    if (!button) return;
    const action = button.dataset.action;
    const id = button.dataset.id;
    const token = sessionStorage.getItem(key);
    if (!token) {
      say('Enter the control token first.', true);
      $('token').focus();
      return;
    }
    if (action !== 'start' && !confirm(id ? 'Really ' + action + ' ' + id + '?' : 'Really reload the registry?')) return;
    // relative, so that the page also works behind a proxy that serves it under a path prefix
    const url = id ? 'api/v1/components/' + encodeURIComponent(id) + '/' + action : 'api/v1/reload';
    button.disabled = true;
    try {
      const res = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer ' + token } });
      const body = await res.json().catch(() => ({}));
      if (res.status === 401) {
        sessionStorage.removeItem(key);
        showToken();
        say('The control token was refused: enter it again.', true);
        return;
      }
      say(typeof body.message === 'string' ? body.message : res.ok ? 'Done.' : 'Failed: HTTP ' + res.status, !res.ok);
    } catch {
      say('The supervisor could not be reached.', true);
    } finally {
      button.disabled = false;
      refresh();
    }
  });
})();`;
