/**
 * Read-modify-write against a versioned item: `attempt` reads, computes and writes conditionally, returning
 * undefined when another writer got there first. Contention on one target or scope is low, so a few tries
 * always suffice; running out means something is wrong with the store, not with the caller.
 */
export async function withOptimisticRetry<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
): Promise<T> {
  for (let i = 0; i < 50; i += 1) {
    const result = await attempt();
    if (result !== undefined) return result;
  }
  throw new Error(`guard: gave up updating ${what} after 50 conflicting writes; check the guard store`);
}
