/**
 * Alertmanager's alert fingerprint (prometheus/common model.LabelSet.Fingerprint): FNV-1a 64 over the labels
 * sorted by name, each as name, 0xFF, value, 0xFF; printed as 16 hex digits.
 *
 * The 64-bit state is kept in four 16-bit limbs so the hot loop stays in plain numbers (BigInt is ~50× slower).
 */
const SEPARATOR = 0xff;

export function alertFingerprint(labels: Readonly<Record<string, string>>): string {
  // Offset basis 0xcbf29ce484222325, lowest limb first.
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  const step = (byte: number): void => {
    h0 ^= byte;
    // h * 0x100000001b3 mod 2^64 = h * 0x1b3 + (h << 40)
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (t1 >>> 16) + (h0 << 8);
    const t3 = h3 * 0x1b3 + (t2 >>> 16) + (h1 << 8);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  };
  const feed = (text: string): void => {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x80) {
        step(code);
      } else {
        for (const byte of Buffer.from(text.slice(i), 'utf8')) step(byte);
        return;
      }
    }
  };
  const names = Object.keys(labels).sort(compareBytes);
  for (const name of names) {
    feed(name);
    step(SEPARATOR);
    feed(labels[name]!);
    step(SEPARATOR);
  }
  return hex4(h3) + hex4(h2) + hex4(h1) + hex4(h0);
}

function hex4(limb: number): string {
  return limb.toString(16).padStart(4, '0');
}

/**
 * Go sorts label names by their UTF-8 bytes, which is code point order (Prometheus 3 allows any UTF-8 in a
 * name). JavaScript compares UTF-16 code units, which puts U+E000–U+FFFF after the surrogate pairs of
 * U+10000 and up; at the first difference, move those two ranges past each other.
 */
function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
