import { afterEach, describe, expect, it } from 'vitest';
import { SqliteSessionRevocations, sessionMigrations } from '../../src/store/sqlite/sessions.ts';
import { tempDatabase } from '../support/sqlite.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

describe('signed-out sessions', () => {
  it('are remembered until the moment the session would have expired, then pruned', async () => {
    const { db, committer, close } = tempDatabase(sessionMigrations, 'rebound-sessions-');
    cleanups.push(close);
    const revocations = new SqliteSessionRevocations(db, committer);
    const expiresAt = Date.parse('2026-11-26T18:00:00Z');

    expect(revocations.isRevoked('nonce-a')).toBe(false);
    await revocations.revoke('nonce-a', expiresAt);
    await revocations.revoke('nonce-a', expiresAt); // signing out twice is no error
    await revocations.revoke('nonce-b', expiresAt + 60_000);
    expect(revocations.isRevoked('nonce-a')).toBe(true);

    // Up to its expiry the cookie would still be accepted, so the revocation must stay.
    expect(await revocations.prune(expiresAt - 1)).toBe(0);
    expect(revocations.isRevoked('nonce-a')).toBe(true);
    // From its expiry on the cookie is refused anyway (session.ts: e * 1000 <= now), so it can go.
    expect(await revocations.prune(expiresAt)).toBe(1);
    expect(revocations.isRevoked('nonce-a')).toBe(false);
    expect(revocations.isRevoked('nonce-b')).toBe(true);
  });
});
