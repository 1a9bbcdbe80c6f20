/**
 * The task actions running in this process, and the gate a graceful stop closes (see Engine.stop).
 *
 * An action cut off after it sent a write leaves its outcome unknown: the guard rails then refuse to repeat
 * it, and the runbook escalates. So a stop first closes the gate (an attempt that would start an action
 * now holds instead, and is resumed after the restart with its idempotency key unused) and lets the actions
 * already running finish, for a while, before it lets go of the executions.
 */
export class ActionGate {
  private running = 0;
  private closed = false;
  private idle: (() => void) | undefined;

  /**
   * An action is about to start: false once the gate is closed (the action must not start). A stop waits
   * only for actions that may write: a read-only one (`k8s.waitRollout`, a `verify.*` probe) loses nothing
   * when it is cut off, and is simply asked again after the restart.
   */
  enter(writes: boolean): boolean {
    if (this.closed) return false;
    if (writes) this.running += 1;
    return true;
  }

  /** An action that entered has settled (`writes` as it entered). */
  leave(writes: boolean): void {
    if (!writes) return;
    this.running -= 1;
    if (this.running === 0) this.idle?.();
  }

  /** A stop has begun: a task not yet started holds rather than start (or record that it started). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Opens the gate again (a stopped engine started anew). */
  open(): void {
    this.closed = false;
  }

  /**
   * Closes the gate and waits until no action that may write runs, or `graceMs` (wall-clock) has passed.
   * Returns how many of those were still running then.
   */
  async close(graceMs: number): Promise<number> {
    this.closed = true;
    if (this.running > 0 && graceMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        timer = setTimeout(resolve, graceMs);
        timer.unref();
      });
      clearTimeout(timer);
      this.idle = undefined;
    }
    return this.running;
  }
}
