/**
 * A matcher for a glob whose only special character is `*` (any run of characters, none included), given as
 * the literal text between its stars: `a*b*c` is `['a', 'b', 'c']`, `*.log` is `['', '.log']`.
 *
 * The first and last pieces are pinned to the ends; each piece between is found leftmost after the one
 * before, which is always a valid placement if any is, so nothing is ever retried. The work is bounded by
 * the value's length times the pattern's: a translation to a RegExp (`^.*a.*a.*b$`) backtracks
 * polynomially instead, and one crafted pattern and value could hold the event loop for seconds. Works on
 * UTF-16 code units, like `startsWith` and `endsWith`.
 */
export function globMatcher(pieces: readonly string[]): (value: string) => boolean {
  if (pieces.length === 0) throw new Error('a glob has at least one piece');
  if (pieces.length === 1) {
    const only = pieces[0]!;
    return (value) => value === only;
  }
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter((piece) => piece !== '');
  const pinned = first.length + last.length;
  return (value) => {
    if (value.length < pinned || !value.startsWith(first) || !value.endsWith(last)) return false;
    const end = value.length - last.length;
    let at = first.length;
    for (const piece of middle) {
      const found = value.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}
