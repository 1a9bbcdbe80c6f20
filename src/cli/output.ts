/** Output helpers shared by CLI commands: a table for people, JSON for scripts. */
import { Option } from 'commander';

export type OutputFormat = 'table' | 'json';

/** `-o, --output table|json`, the flag every listing command takes. */
export const outputOption = () =>
  new Option('-o, --output <format>', 'table or json').choices(['table', 'json']).default('table');

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Prints rows as an aligned text table with the given columns (header = column name upper-cased). */
export function printTable(rows: readonly object[], columns: readonly string[]): void {
  const cells = rows.map((row) => columns.map((c) => formatCell((row as Record<string, unknown>)[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(line(columns.map((c) => c.toUpperCase())) + '\n');
  for (const row of cells) process.stdout.write(line(row) + '\n');
}

function formatCell(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Exit codes: 0 ok, 1 failure, 2 usage error. */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

/** `rebound … | head -1`: when the reader closes the pipe, stop quietly (exit 0) instead of an EPIPE trace. */
export function exitQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OK);
    throw err;
  });
}
