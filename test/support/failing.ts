/**
 * `target` with one method failing on demand: while `failure()` returns an error, calling `method` rejects
 * with it instead of reaching the real one. Everything else passes through to the real object. For the
 * store failures (a busy or full disk) that a real SQLite file will not produce when asked.
 */
export function failing<T extends object>(
  target: T,
  method: keyof T & string,
  failure: () => Error | undefined,
): T {
  return new Proxy(target, {
    get(real, prop, receiver) {
      if (prop === method) {
        const error = failure();
        if (error) return () => Promise.reject(error);
      }
      const value: unknown = Reflect.get(real, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value;
    },
  });
}
