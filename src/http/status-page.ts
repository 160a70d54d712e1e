// GET /: the status page for people (design.md §4). One server-rendered HTML page, no front-end
// build: a table that becomes one card per component on a phone. It is live: a few lines of
// inline script follow GET /api/v1/events (EventSource) and, on each state change, show the new
// state at once and fetch the page again to swap in the fresh parts; CPU, memory and uptime are
// refreshed every 10 s while the tab is visible (a meta refresh when scripts are off). Each
// component shows its restarts in the last 5 and 60 minutes (a crash loop reads as one), the
// time of the next try while in backoff, its last state changes, and its last lines of output,
// which may hold secrets: followed without a token on the control socket, only with the control
// token on TCP (the page asks for it once and keeps it in the tab's sessionStorage, as for the
// control buttons), never when no token is configured.
// Everything shown comes from the registry or the processes and is escaped; the environment is
// not part of a ComponentStatus, so it cannot be shown. A nonce-based CSP allows only our script.
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { LogLine } from '../log/buffer.js';
import {
  type ComponentState,
  RECENT_RESTARTS,
  type StateChange,
  type SupervisorPhase,
} from '../supervisor/status.js';
import type { ComponentJson } from '../view/component-json.js';
import {
  formatCpu,
  formatDuration,
  formatLastExit,
  formatMemory,
  formatNextRun,
  formatNote,
  formatUptime,
  isCrashLooping,
  restartsWithin,
} from '../view/format.js';

/** what the page may show of the components' output */
export type OutputView =
  /** the control socket: shown and followed without a token */
  | { mode: 'open'; lines: LogLine[] }
  /** TCP with a control token: followed by the page once the person gave the token */
  | { mode: 'token' }
  /** not shown, and why */
  | { mode: 'off'; why: string };

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
  /** the newest event of GET /api/v1/events when the page was made: the page follows from there */
  lastEventId?: number;
  output?: OutputView;
  /** CPU use of each component, percent of one core (see CpuSampler) */
  cpu?: ReadonlyMap<string, number>;
}

/** seconds between refreshes of CPU, memory and uptime (state changes come at once) */
const REFRESH_SECONDS = 10;
/** state changes shown per component */
const CHANGES_SHOWN = 5;
/** output lines shown per component */
export const OUTPUT_LINES = 5;

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * CPU use between two looks at the page: the CPU seconds of the component's process group, over
 * the time since the previous sample of the same run (at least 1 s apart). The first look at a
 * run gives its average since it started.
 */
export class CpuSampler {
  private readonly samples = new Map<string, { pid: number; cpu: number; at: number; percent?: number }>();

  measure(components: readonly ComponentJson[], now: number): Map<string, number> {
    const result = new Map<string, number>();
    const present = new Set<string>();
    for (const c of components) {
      present.add(c.id);
      if (c.pid === undefined || !c.resources) {
        this.samples.delete(c.id);
        continue;
      }
      const cpu = c.resources.cpuSeconds;
      const previous = this.samples.get(c.id);
      if (previous && previous.pid === c.pid) {
        if (now - previous.at >= 1000) {
          const percent = ((cpu - previous.cpu) / ((now - previous.at) / 1000)) * 100;
          this.samples.set(c.id, { pid: c.pid, cpu, at: now, percent });
          result.set(c.id, percent);
        } else if (previous.percent !== undefined) result.set(c.id, previous.percent);
        else if (c.uptimeSeconds) result.set(c.id, (cpu / c.uptimeSeconds) * 100);
        continue;
      }
      this.samples.set(c.id, { pid: c.pid, cpu, at: now });
      if (c.uptimeSeconds) result.set(c.id, (cpu / Math.max(c.uptimeSeconds, 0.001)) * 100);
    }
    for (const id of this.samples.keys()) if (!present.has(id)) this.samples.delete(id);
    return result;
  }
}

/** what the page shows, and the key under which its rendering may be reused (absent: render anew) */
export interface StatusPageSource {
  cacheKey?: object;
  page: () => Omit<StatusPageData, 'now' | 'cpu'>;
}

/**
 * The express handler. A page is rendered once per cache key (a snapshot) with a placeholder where
 * the nonce goes; each response gets its own nonce in its place.
 */
export function statusPageHandler(source: () => StatusPageSource) {
  const cpu = new CpuSampler();
  const rendered = new WeakMap<object, string>();
  // a random placeholder no page content can contain by chance
  const slot = `n${randomBytes(12).toString('hex')}`;
  return (_req: Request, res: Response): void => {
    const nonce = randomBytes(16).toString('base64');
    const { cacheKey, page } = source();
    let html = cacheKey ? rendered.get(cacheKey) : undefined;
    if (html === undefined) {
      const now = Date.now();
      const data = page();
      html = renderStatusPage({ ...data, now, cpu: cpu.measure(data.components, now) }, slot);
      if (cacheKey) rendered.set(cacheKey, html);
    }
    res
      .status(200)
      .type('text/html; charset=utf-8')
      .set({
        'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        'Referrer-Policy': 'no-referrer',
        'X-Frame-Options': 'DENY',
      })
      .send(html.replaceAll(slot, nonce));
  };
}

export function renderStatusPage(data: StatusPageData, nonce: string): string {
  const readyCount = data.components.filter((c) => c.ready).length;
  const summary = `${readyCount} of ${data.components.length} component${data.components.length === 1 ? '' : 's'} ready`;
  const title = `${data.ready ? 'Ready' : 'Not ready'}: ${summary} · s7supervisor`;
  const phase =
    data.phase === 'running' ? '' : ` · supervisor ${data.phase === 'gave-up' ? 'gave up' : data.phase}`;
  const updated = clock(data.now);
  const output: OutputView = data.output ?? { mode: 'off', why: 'output is not kept' };
  const columns = data.controls ? 10 : 9;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<noscript><meta http-equiv="refresh" content="${REFRESH_SECONDS}"></noscript>
<style nonce="${nonce}">${css}</style>
</head>
<body data-last-event="${data.lastEventId ?? 0}" data-output="${output.mode}" data-output-lines="${OUTPUT_LINES}">
<header>
<h1>s7supervisor <small>${escapeHtml(data.version)}</small></h1>
<nav><a href="readyz?verbose">/readyz?verbose</a> <a href="metrics">/metrics</a> <a href="api/v1/components">/api/v1/components</a></nav>
<p id="summary" class="${data.ready ? 'ok' : 'bad'}"><strong>${data.ready ? 'Ready' : 'Not ready'}</strong> · ${escapeHtml(summary)}${escapeHtml(phase)}</p>
<p id="offline" class="bad" role="alert" hidden>The supervisor does not answer: showing the last known state.</p>
</header>
<main>
${data.controls ? controlsHtml : ''}
<table id="components">
<thead><tr><th scope="col">Component</th><th scope="col">State</th><th scope="col">Ready</th><th scope="col">PID</th><th scope="col">Uptime</th><th scope="col">Restarts</th><th scope="col">CPU</th><th scope="col">Memory</th><th scope="col">Last exit</th>${data.controls ? '<th scope="col" class="actions">Actions</th>' : ''}</tr></thead>
${data.components.map((c) => component(c, data, output, columns)).join('\n')}
</table>
</main>
<footer><p id="updated">Updated ${updated} UTC · <span id="live">live: state changes appear as they happen</span></p></footer>
<script nonce="${nonce}">${script}</script>
</body>
</html>
`;
}

/** HH:MM:SS in UTC */
function clock(at: number): string {
  return new Date(at).toISOString().slice(11, 19);
}

/** which buttons make sense in which state (the others are shown disabled) */
const canStart: ReadonlySet<ComponentState> = new Set(['stopped', 'fatal', 'backoff', 'completed']);
const canStop: ReadonlySet<ComponentState> = new Set(['starting', 'running', 'backoff']);

/** one component: its row of figures, and below it its recent changes and output */
function component(c: ComponentJson, data: StatusPageData, output: OutputView, columns: number): string {
  const id = escapeHtml(c.id);
  const note = formatNote(c);
  const cell = (field: string, label: string, content: string) =>
    `<td data-field="${field}" data-label="${label}">${content}</td>`;
  const button = (action: string, label: string, enabled: boolean) =>
    `<button type="button" data-action="${action}" data-id="${id}"${enabled ? '' : ' disabled'}>${label}</button>`;
  const looping = isCrashLooping(c, data.now);
  const inFiveMinutes = restartsWithin(c, data.now, 300);
  const inAnHour = restartsWithin(c, data.now, 3600);
  const nextIn = c.state === 'backoff' && c.nextStartAt !== undefined ? c.nextStartAt - data.now : undefined;
  const state =
    `<span class="badge state-${c.state}">${c.state}</span>` +
    (nextIn !== undefined
      ? `<span class="note bad" data-next-in="${Math.max(0, Math.round(nextIn))}">next try ${nextIn > 0 ? `in ${formatDuration(Math.ceil(nextIn / 1000))}` : 'now'} (${clock(c.nextStartAt ?? data.now)})</span>`
      : '') +
    (c.nextRunAt !== undefined
      ? `<span class="note" data-next-run="${c.nextRunAt}">${escapeHtml(formatNextRun(c, data.now))}</span>`
      : '');
  const restarts =
    String(c.restarts) +
    (inAnHour > 0
      ? `<span class="note${looping ? ' bad' : ''}">${inFiveMinutes} in 5 min · ${inAnHour}${inAnHour >= RECENT_RESTARTS ? '+' : ''} in 1 h</span>`
      : '');
  const main = [
    `<tr data-id="${id}" class="state-${c.state}${looping ? ' crash-loop' : ''}">`,
    `<th scope="row" data-field="id" data-label="Component"><span class="id">${id}</span>${looping ? ' <span class="tag bad loop">crash loop</span>' : ''}${c.description ? ` <span class="description">${escapeHtml(c.description)}</span>` : ''}${c.critical ? '' : ' <span class="tag">not critical</span>'}</th>`,
    cell('state', 'State', state),
    cell(
      'ready',
      'Ready',
      c.ready
        ? '<span class="ok">yes</span>'
        : `<span class="bad">no</span>${note ? `<span class="note">${escapeHtml(note)}</span>` : ''}`,
    ),
    cell('pid', 'PID', c.pid === undefined ? '-' : String(c.pid)),
    cell('uptime', 'Uptime', escapeHtml(formatUptime(c))),
    cell('restarts', 'Restarts', restarts),
    cell('cpu', 'CPU', escapeHtml(formatCpu(data.cpu?.get(c.id)))),
    cell('memory', 'Memory', escapeHtml(formatMemory(c))),
    cell('lastExit', 'Last exit', escapeHtml(formatLastExit(c, data.now))),
    data.controls
      ? cell(
          'actions',
          'Actions',
          `${button('start', 'Start', canStart.has(c.state))}${button('stop', 'Stop', canStop.has(c.state))}${button('restart', 'Restart', true)}`,
        )
      : '',
    '</tr>',
  ].join('');
  const changes = (c.changes ?? []).slice(-CHANGES_SHOWN).reverse();
  const detail = `<tr class="detail" data-detail="${id}"><td colspan="${columns}"><div class="detail">
<div class="changes"><h2>Recent changes</h2>${changes.length === 0 ? '<p class="note">none yet</p>' : `<ol data-field="changes">${changes.map(changeItem).join('')}</ol>`}</div>
<div class="output"><h2>Last output</h2>${outputHtml(c.id, output)}</div>
</div></td></tr>`;
  return `<tbody class="component" data-component="${id}">\n${main}\n${detail}\n</tbody>`;
}

function changeItem(change: StateChange): string {
  return `<li><time>${clock(change.at)}</time> <span class="from">${change.from}</span> → <span class="badge state-${change.to}">${change.to}</span> <span class="reason">${escapeHtml(change.reason)}</span></li>`;
}

function outputHtml(id: string, output: OutputView): string {
  const pre = (text: string, empty: string) =>
    `<pre data-output="${escapeHtml(id)}" data-empty="${escapeHtml(empty)}">${escapeHtml(text || empty)}</pre>`;
  switch (output.mode) {
    case 'open': {
      const lines = output.lines.filter((line) => line.component === id).slice(-OUTPUT_LINES);
      return pre(lines.map((line) => line.msg).join('\n'), 'no output yet');
    }
    case 'token':
      return pre('', 'the output needs the control token: enter it above');
    case 'off':
      return `<p class="note">${escapeHtml(output.why)}</p>`;
  }
}

const controlsHtml = `<section id="control" aria-label="Control">
<form id="token-form"><label for="token">Control token</label> <input id="token" name="token" type="password" autocomplete="off" required> <button type="submit">Use token</button></form>
<p id="token-set" hidden>Control token kept for this tab. <button type="button" id="forget-token">Forget it</button></p>
<p><button type="button" data-action="reload">Reload registry</button></p>
<p id="message" role="status" aria-live="polite"></p>
</section>`;

const css = `
:root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.4}
body{margin:0 auto;max-width:86rem;padding:0 1rem 2rem}
h1{font-size:1.4rem;margin:1rem 0 .25rem}h1 small{font-size:.8rem;font-weight:normal;opacity:.7}
h2{font-size:.8rem;margin:0 0 .2rem;opacity:.7;font-weight:600}
nav{font-size:.85rem}nav a{margin-right:.8rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.45rem .5rem;vertical-align:top}
tbody.component{border-bottom:1px solid #8884}
thead th{font-size:.85rem;opacity:.8;white-space:nowrap;border-bottom:1px solid #8884}
td[data-field=memory],td[data-field=cpu],td[data-field=lastExit],td[data-field=uptime],td[data-field=pid]{white-space:nowrap}
.id{font-weight:600}.description,.note,.tag{display:block;font-size:.85rem;opacity:.75;font-weight:normal}
.tag.loop{display:inline-block;opacity:1;font-weight:600;border:1px solid currentColor;border-radius:1rem;padding:0 .4rem;font-size:.75rem}
.ok{color:#127a2d}.bad{color:#b3261e}
@media (prefers-color-scheme:dark){.ok{color:#6ad08a}.bad{color:#ff8a80}}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:.85rem;background:#8882}
.badge.state-running,.badge.state-completed{background:#2e7d3233}.badge.state-fatal,.badge.state-backoff{background:#c6282833}
.badge.state-backoff::before,.badge.state-fatal::before{content:"● ";color:#c62828}
.badge.state-stopped{background:#8883}.badge.state-starting,.badge.state-stopping{background:#f9a82533}
tr.crash-loop th[scope=row]{box-shadow:inset 3px 0 #c62828}
tr.detail td{padding-top:0}
div.detail{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,3fr);gap:1rem;font-size:.85rem}
ol{list-style:none;margin:0;padding:0}ol li{margin:.1rem 0}ol .badge{font-size:.75rem}
time,.from{opacity:.75}time{font-variant-numeric:tabular-nums}
pre{margin:0;padding:.3rem .5rem;background:#8881;border-radius:.3rem;font-size:.78rem;white-space:pre-wrap;overflow-wrap:anywhere;max-height:8.5em;overflow:auto}
#message{white-space:pre-line;min-height:1.4em}
button{font:inherit;padding:.3rem .7rem;margin:.1rem;border-radius:.4rem;border:1px solid #8888;background:#8881;cursor:pointer}
td[data-field=actions]{white-space:nowrap}td[data-field=actions] button{font-size:.8rem;padding:.15rem .45rem}
button:disabled{opacity:.4;cursor:default}
input{font:inherit;padding:.3rem}
footer{font-size:.8rem;opacity:.7}
@media (max-width:40rem){
thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table,tbody,tr,th,td{display:block}
tbody.component{border:1px solid #8886;border-radius:.6rem;margin:0 0 .9rem;padding:.3rem .8rem}
th[scope=row]{border-bottom:1px solid #8884;padding:.4rem 0}
td{display:flex;justify-content:space-between;gap:1rem;border:0;padding:.3rem 0;text-align:right}
td::before{content:attr(data-label);font-weight:600;text-align:left}
td[data-field=ready],td[data-field=restarts],td[data-field=state]{flex-wrap:wrap}td .note{flex-basis:100%}
td[data-field=actions]{justify-content:flex-end;gap:.4rem}td[data-field=actions]::before{content:none}
td[data-field=actions] button{font-size:.9rem;padding:.35rem .8rem}
tr.detail td{display:block;text-align:left;padding:.3rem 0}tr.detail td::before{content:none}
div.detail{grid-template-columns:minmax(0,1fr)}
}`;

// Plain browser JavaScript, kept small: follow the events stream and refresh by re-fetching this
// page; follow the output (with the token on TCP); the control buttons.
const script = `(() => {
  const key = 's7supervisor-control-token';
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const say = (text, bad) => { const m = $('message'); if (m) { m.textContent = text; m.className = bad ? 'bad' : ''; } };
  const tokenMode = body.dataset.output === 'token';
  const outputOn = body.dataset.output === 'open' || tokenMode;
  const keep = Number(body.dataset.outputLines) || 5;
  const outputs = new Map();
  let busy = false;
  let again = false;
  function showToken() {
    const form = $('token-form');
    if (!form) return;
    const has = Boolean(sessionStorage.getItem(key));
    form.hidden = has;
    $('token-set').hidden = !has;
  }
  function forget(why) {
    sessionStorage.removeItem(key);
    showToken();
    say(why, true);
  }

  function showOutput() {
    for (const pre of document.querySelectorAll('pre[data-output]')) {
      const lines = outputs.get(pre.dataset.output);
      if (lines) pre.textContent = lines.length ? lines.join('\\n') : pre.dataset.empty;
    }
  }
  function countdowns() {
    const now = Date.now();
    for (const el of document.querySelectorAll('[data-next-in]')) {
      if (!el.dataset.due) el.dataset.due = String(now + Number(el.dataset.nextIn));
      const left = Math.ceil((Number(el.dataset.due) - now) / 1000);
      el.textContent = left > 0 ? 'next try in ' + left + 's' : 'next try now';
    }
  }
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const res = await fetch(location.pathname, { cache: 'no-store' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const fresh = new DOMParser().parseFromString(await res.text(), 'text/html');
      for (const id of ['summary', 'components', 'updated']) {
        const next = fresh.getElementById(id);
        const old = $(id);
        if (next && old) old.replaceWith(document.adoptNode(next));
      }
      document.title = fresh.title;
      $('offline').hidden = true;
      showOutput();
      countdowns();
    } catch {
      $('offline').hidden = false;
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  let soon;
  const refreshSoon = () => { clearTimeout(soon); soon = setTimeout(refresh, 100); };
  setInterval(() => { if (!document.hidden) refresh(); }, ${REFRESH_SECONDS * 1000});
  setInterval(countdowns, 1000);
  countdowns();
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });

  // state changes as they happen: the new state at once, the rest of the row with the refresh
  if (window.EventSource) {
    const events = new EventSource('api/v1/events?since=' + encodeURIComponent(body.dataset.lastEvent || '0'));
    events.onmessage = (message) => {
      try {
        const change = JSON.parse(message.data);
        const badge = document.querySelector('tr[data-id="' + CSS.escape(change.component) + '"] [data-field=state] .badge');
        if (badge) { badge.textContent = change.to; badge.className = 'badge state-' + change.to; }
      } catch {}
      refreshSoon();
    };
    events.addEventListener('reload', refreshSoon);
    events.addEventListener('reset', refreshSoon);
    events.onopen = () => { $('offline').hidden = true; };
    events.onerror = () => { $('offline').hidden = false; };
  }

  // the last lines of output: a stream read with fetch, so that the token can go in a header
  let following = false;
  let lastSeq = 0;
  async function followOutput() {
    if (!outputOn || following) return;
    const token = sessionStorage.getItem(key);
    if (tokenMode && !token) return;
    following = true;
    try {
      const url = 'api/v1/logs?follow=1&tail=' + keep + (lastSeq ? '&since=' + lastSeq : '');
      const res = await fetch(url, { cache: 'no-store', headers: token ? { authorization: 'Bearer ' + token } : {} });
      if (res.status === 401) { forget('The control token was refused: enter it again.'); return; }
      if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        let end;
        while ((end = text.indexOf('\\n\\n')) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          if (/^event: /m.test(block)) continue;
          const data = /^data: (.*)$/m.exec(block);
          if (!data) continue;
          const line = JSON.parse(data[1]);
          lastSeq = line.seq;
          const lines = outputs.get(line.component) || [];
          lines.push(line.msg);
          if (lines.length > keep) lines.splice(0, lines.length - keep);
          outputs.set(line.component, lines);
        }
        showOutput();
      }
    } catch {
    } finally {
      following = false;
    }
    setTimeout(followOutput, 2000);
  }
  followOutput();

  const form = $('token-form');
  if (!form) return;
  showToken();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token').value.trim();
    if (!value) return;
    sessionStorage.setItem(key, value);
    $('token').value = '';
    showToken();
    say('Control token kept for this tab.');
    followOutput();
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
        forget('The control token was refused: enter it again.');
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
