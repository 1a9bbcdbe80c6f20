/**
 * What the guard shows operators through `GET /v1/automation` and the CLI, in one dependency-free file: the
 * server builds its answers against these types and the dashboard imports them (types only).
 */

/** Whether automation acts for real, and if not, why — as the API and the start-up line say it. */
export interface AutomationMode {
  readonly mode: 'live' | 'shadow';
  /** `default`: shadow because nothing is configured yet; `configured`: guard.shadow.global is set. */
  readonly reason?: 'default' | 'configured';
  readonly message: string;
  /** What to configure to act for real (only in default shadow mode). */
  readonly missing?: readonly string[];
}

export interface PauseView {
  readonly id: string;
  readonly match: Readonly<Record<string, string>>;
  readonly reason: string;
  readonly createdAt: string;
  readonly createdBy?: string;
  readonly until?: string;
}

export interface BreakerView {
  readonly scope: string;
  readonly state: 'closed' | 'open';
  readonly successRate?: number;
  readonly outcomes: number;
  readonly openedAt?: string;
  readonly reason?: string;
  readonly resetAt?: string;
  readonly resetBy?: string;
}

export interface BudgetView {
  readonly target: string;
  readonly used: number;
  readonly limit: number;
  readonly nextSlotAt?: string;
}

/** What `rebound automation status` shows; `GET /v1/automation` adds the mode (AutomationView). */
export interface AutomationStatus {
  readonly shadow: { readonly global: boolean; readonly runbooks: readonly string[] };
  readonly pauses: readonly PauseView[];
  readonly breakers: readonly BreakerView[];
  readonly budgets: readonly BudgetView[];
  readonly locks: readonly { readonly target: string; readonly owner: string; readonly expiresAt: string }[];
}

/** `GET /v1/automation`: the guard's state and whether automation acts for real. */
export interface AutomationView extends AutomationStatus {
  readonly mode: AutomationMode;
}

export interface ResumeResult {
  readonly removedPauses: readonly PauseView[];
  readonly resetBreakers: readonly string[];
}
