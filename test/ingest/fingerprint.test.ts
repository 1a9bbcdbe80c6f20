import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { alertFingerprint } from '../../src/ingest/alertmanager/fingerprint.ts';
import { fixture } from '../support/app.ts';

// Reference: FNV-1a 64 with BigInt, written from the definition (prometheus/common model/signature.go).
function reference(labels: Record<string, string>): string {
  let h = 0xcbf29ce484222325n;
  const feed = (bytes: Uint8Array) => {
    for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  };
  // Go's order: the names' UTF-8 bytes.
  const names = Object.keys(labels).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    feed(Buffer.from(name));
    feed(Uint8Array.of(0xff));
    feed(Buffer.from(labels[name]!));
    feed(Uint8Array.of(0xff));
  }
  return h.toString(16).padStart(16, '0');
}

describe('alert fingerprint', () => {
  it('matches the vectors in CONTRACTS.md §1', () => {
    expect(alertFingerprint({})).toBe('cbf29ce484222325');
    expect(alertFingerprint({ severity: 'warning', job: 'foo' })).toBe('9266ef3da838ad95');
    expect(alertFingerprint({ severity: 'critical', alertname: 'alert1' })).toBe('0223b772b51c29e1');
  });

  it('matches what real Alertmanager 0.25 sent', () => {
    for (const name of ['firing', 'resolved'] as const) {
      const alert = (
        fixture(name)['alerts'] as { labels: Record<string, string>; fingerprint: string }[]
      )[0]!;
      expect(alertFingerprint(alert.labels)).toBe(alert.fingerprint);
    }
  });

  it('agrees with a BigInt reference on arbitrary label sets, including non-ASCII values', () => {
    const name = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/);
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.string({ unit: 'grapheme', maxLength: 20 }), { maxKeys: 8 }),
        (labels) => {
          expect(alertFingerprint(labels)).toBe(reference(labels));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('orders UTF-8 label names (Prometheus 3) by their bytes, as Go does, not by UTF-16 code units', () => {
    // U+E000 sorts before U+1F600 in UTF-8 and after it in UTF-16 (a surrogate pair, 0xD83D…).
    const labels = { '\u{1F600}': 'a', '\uE000': 'b', alertname: 'x' };
    expect(alertFingerprint(labels)).toBe(reference(labels));
    const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(fc.dictionary(name, fc.string({ maxLength: 4 }), { maxKeys: 8 }), (labels) => {
        expect(alertFingerprint(labels)).toBe(reference(labels));
      }),
      { numRuns: 500 },
    );
  });
});
