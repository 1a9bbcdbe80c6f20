import { readFile } from 'node:fs/promises';

/**
 * Where the degraded-mode flag lives outside the process, so Rebound's `config.set` action on a ConfigMap
 * changes the service's behaviour: either the ConfigMap mounted as a volume (one file per key) or the
 * ConfigMap read from the Kubernetes API. Both are polled: kubelet updates mounted ConfigMaps by swapping a
 * symlink, which file watchers miss, and the API has no cheap push for one key.
 */
export interface FlagSource {
  /** Shown in GET /admin/chaos and logs, e.g. `file:/etc/checkout/degraded_mode`. */
  readonly name: string;
  /** The flag's current value, or undefined when the source holds no value (missing file, key or ConfigMap). */
  read(signal: AbortSignal): Promise<boolean | undefined>;
}

/** A flag value that is neither true nor false; the watcher keeps the previous value and reports it. */
export class FlagValueError extends Error {
  constructor(source: string, value: string) {
    super(`${source} holds ${JSON.stringify(value)}; write true or false (also 1/0, yes/no, on/off)`);
    this.name = 'FlagValueError';
  }
}

const TRUE = new Set(['true', '1', 'yes', 'on', 'enabled']);
const FALSE = new Set(['false', '0', 'no', 'off', 'disabled', '']);

/** Parses the loose boolean spellings people put in ConfigMaps. */
export function parseFlag(text: string, source = 'value'): boolean {
  const value = text.trim().toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new FlagValueError(source, text.trim());
}

/** The flag as a file: a ConfigMap key mounted through a volume. */
export function fileFlagSource(path: string): FlagSource {
  const name = `file:${path}`;
  return {
    name,
    async read() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      return parseFlag(text, name);
    },
  };
}

export interface ConfigMapSourceOptions {
  /** API server base URL, e.g. `https://kubernetes.default.svc` or a local stand-in. */
  readonly apiUrl: string;
  readonly namespace: string;
  readonly name: string;
  readonly key: string;
  /** Bearer token file, re-read on every poll because projected service-account tokens rotate. */
  readonly tokenFile?: string;
  readonly token?: string;
  readonly timeoutMs?: number;
}

/** The flag as one key of a ConfigMap, read with `GET /api/v1/namespaces/{ns}/configmaps/{name}`. */
export function configMapFlagSource(options: ConfigMapSourceOptions): FlagSource {
  const base = options.apiUrl.replace(/\/+$/, '');
  const url =
    `${base}/api/v1/namespaces/${encodeURIComponent(options.namespace)}` +
    `/configmaps/${encodeURIComponent(options.name)}`;
  const name = `configmap:${options.namespace}/${options.name}#${options.key}`;
  return {
    name,
    async read(signal) {
      const headers: Record<string, string> = { accept: 'application/json' };
      const token = options.tokenFile ? (await readFile(options.tokenFile, 'utf8')).trim() : options.token;
      if (token) headers['authorization'] = `Bearer ${token}`;
      const timeout = AbortSignal.timeout(options.timeoutMs ?? 5000);
      const response = await fetch(url, { headers, signal: AbortSignal.any([signal, timeout]) });
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      if (!response.ok) {
        const detail = (await response.text()).slice(0, 200);
        throw new Error(
          `GET ${url} answered ${response.status}: ${detail}; check the token and RBAC (get configmaps)`,
        );
      }
      const body = (await response.json()) as { data?: Record<string, unknown> };
      const value = body.data?.[options.key];
      if (value === undefined) return undefined;
      if (typeof value !== 'string') throw new FlagValueError(name, JSON.stringify(value));
      return parseFlag(value, name);
    },
  };
}

export interface FlagWatcherOptions {
  readonly intervalMs: number;
  /** Called with each new value the source shows (and its first value), never for an unchanged one. */
  readonly onChange: (value: boolean) => void;
  readonly onError: (err: unknown) => void;
}

/**
 * Polls a flag source. Only changes are reported, so a value set through the admin endpoint stays until the
 * source itself changes: the last writer wins.
 */
export class FlagWatcher {
  private last: boolean | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private inFlight: Promise<void> | undefined;

  constructor(
    readonly source: FlagSource,
    private readonly options: FlagWatcherOptions,
  ) {}

  /** Reads once (so the service starts with the right mode), then polls in the background. */
  async start(): Promise<void> {
    await this.poll();
    this.schedule();
  }

  /** Reads the source now; exposed so tests and admin tooling need not wait for the next tick. */
  async poll(): Promise<void> {
    try {
      const value = await this.source.read(this.abort.signal);
      if (value !== undefined && value !== this.last) {
        this.last = value;
        this.options.onChange(value);
      }
    } catch (err) {
      if (!this.abort.signal.aborted) this.options.onError(err);
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private schedule(): void {
    if (this.abort.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.poll().then(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }
}
