import type { LiveKind, LiveNotifier } from './notifier.ts';

type AsyncMethod = (...args: never[]) => Promise<unknown>;
type AsyncMethodNames<T> = { [K in keyof T]: T[K] extends AsyncMethod ? K : never }[keyof T];

/**
 * Wraps async methods of a store so that, after each successful call, the ids its arguments name are
 * published. This lets the composition root add live updates without the stores knowing about them.
 */
export function publishAfter<T extends object, K extends AsyncMethodNames<T>>(
  live: LiveNotifier,
  target: T,
  kind: LiveKind,
  methods: { readonly [P in K]: (args: Parameters<Extract<T[P], AsyncMethod>>) => readonly string[] },
): void {
  for (const name of Object.keys(methods) as K[]) {
    const original = target[name] as unknown as (...args: unknown[]) => Promise<unknown>;
    const ids = methods[name] as unknown as (args: unknown[]) => readonly string[];
    const wrapped = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const result = await original.apply(this, args);
      for (const id of ids(args)) live.publish(kind, id);
      return result;
    };
    Object.defineProperty(target, name, { value: wrapped, configurable: true, writable: true });
  }
}
