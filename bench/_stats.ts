/** Shared helpers for benchmarks: medians, formatting. Machines here are noisy: report medians and ratios. */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function line(label: string, value: string, note = ''): void {
  process.stdout.write(`${label.padEnd(48)} ${value.padStart(14)}  ${note}\n`);
}
