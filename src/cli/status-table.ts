// The `s7supervisor status` table, in the manner of `docker ps`: one row per component, columns
// padded to the widest cell, `-` for what does not apply. NOTE (why it is not ready) comes last,
// as it is free text.
import type { ComponentJson } from '../view/component-json.js';
import { formatLastExit, formatMemory, formatNextRun, formatNote, formatUptime } from '../view/format.js';

const columns: Array<{ title: string; cell: (c: ComponentJson, now: number) => string }> = [
  { title: 'ID', cell: (c) => c.id },
  { title: 'STATE', cell: (c) => c.state },
  { title: 'READY', cell: (c) => (c.ready ? 'yes' : 'no') },
  { title: 'PID', cell: (c) => (c.pid === undefined ? '-' : String(c.pid)) },
  { title: 'UPTIME', cell: (c) => formatUptime(c) },
  { title: 'RESTARTS', cell: (c) => String(c.restarts) },
  { title: 'MEMORY', cell: (c) => formatMemory(c) },
  { title: 'LAST EXIT', cell: (c, now) => formatLastExit(c, now) },
  {
    title: 'NOTE',
    cell: (c, now) => [formatNote(c), formatNextRun(c, now)].filter(Boolean).join('; ') || '-',
  },
];

export function formatStatusTable(components: readonly ComponentJson[], now = Date.now()): string {
  const rows = [
    columns.map((column) => column.title),
    ...components.map((component) => columns.map((column) => oneLine(column.cell(component, now)))),
  ];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** a reason may hold a probe's multi-line error: a row stays one line, and no escape sequence reaches the terminal */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '?');
}
