/** What browser sessions need from storage: the sessions signed out before they expired. */
export interface SessionRevocations {
  /** Records that the session with this nonce was signed out; kept until the session would have expired. */
  revoke(nonce: string, expiresAtMs: number): Promise<void>;
  /** Whether the session with this nonce was signed out (synchronous: it is asked on every request). */
  isRevoked(nonce: string): boolean;
  /** Forgets revocations of sessions that have expired anyway; returns how many. */
  prune(nowMs: number): Promise<number>;
}
