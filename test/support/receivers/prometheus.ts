import { HttpRecorder, type RecordedRequest, type ScriptedResponse } from './http-recorder.ts';

/**
 * A scripted Prometheus HTTP API for answers a real server cannot give on demand (a Deployment's generation
 * history over the last 30 minutes). It speaks the documented envelope (CONTRACTS.md §2): `GET` or form
 * `POST /api/v1/query` → `{status: "success", data: {resultType: "vector", result: [{metric, value:
 * [unixSeconds, "text"]}]}}`, and `GET /api/v1/alerts`. Firing alerts set with `fire()` are the `ALERTS`
 * series and the alerts list, as Prometheus derives both from one rule evaluation. Any other query gets
 * Prometheus' own `bad_data` error, so a test never passes on an answer it did not choose.
 */

/** One series of an instant vector; `value` is written as Prometheus writes it (`"1"`, `"NaN"`, `"+Inf"`). */
export interface Series {
  readonly metric?: Record<string, string>;
  readonly value: number;
}

/** A failure in the Prometheus error envelope: 400 `bad_data`, 422 `execution`, 503 `timeout`/`unavailable`. */
export interface PrometheusFailure {
  readonly status: 400 | 422 | 503;
  readonly errorType: 'bad_data' | 'execution' | 'timeout' | 'unavailable' | 'internal';
  readonly error: string;
}

const ALERTS_SELECTOR = /^ALERTS\{(.*)\}$/;

export class ScriptedPrometheus {
  readonly #answers = new Map<string, readonly Series[] | PrometheusFailure>();
  readonly #firing = new Map<string, Record<string, string>>();

  #recorder!: HttpRecorder;

  private constructor() {}

  /** Starts the API on 127.0.0.1 with an OS-chosen port. */
  static async start(): Promise<ScriptedPrometheus> {
    const prom = new ScriptedPrometheus();
    prom.#recorder = await HttpRecorder.start((req) => prom.respond(req));
    return prom;
  }

  get url(): string {
    return this.#recorder.url;
  }

  /** From now on, `query` (exact PromQL text) yields these series, or this error. */
  answer(query: string, result: readonly Series[] | PrometheusFailure): this {
    this.#answers.set(query, result);
    return this;
  }

  /** The alert (its labels, `alertname` included) is firing: in `ALERTS` and `/api/v1/alerts`. */
  fire(labels: Record<string, string>): this {
    this.#firing.set(key(labels), { ...labels });
    return this;
  }

  /** The alert's rule no longer holds: it leaves `ALERTS` and `/api/v1/alerts`. */
  resolve(labels: Record<string, string>): this {
    this.#firing.delete(key(labels));
    return this;
  }

  /** The PromQL of every instant query received, in order (`ALERTS{…}` polls included). */
  queries(): string[] {
    return this.#recorder.requests.filter((r) => r.path === '/api/v1/query').map((r) => queryOf(r) ?? '');
  }

  close(): Promise<void> {
    return this.#recorder.close();
  }

  private respond(req: RecordedRequest): ScriptedResponse {
    if (req.path === '/api/v1/alerts' && req.method === 'GET') {
      const alerts = [...this.#firing.values()].map((labels) => ({
        labels,
        annotations: {},
        state: 'firing',
        activeAt: '2026-11-25T20:00:00Z',
        value: '1e+00',
      }));
      return success({ alerts });
    }
    if (req.path !== '/api/v1/query') return { status: 404, body: '404 page not found\n' };
    if (req.method !== 'GET' && req.method !== 'POST') {
      return failure({ status: 400, errorType: 'bad_data', error: `method ${req.method} not allowed` });
    }
    const query = queryOf(req);
    if (query === undefined) {
      return failure({
        status: 400,
        errorType: 'bad_data',
        error: 'invalid parameter "query": 1:1: parse error: no expression found in input',
      });
    }
    const alerts = ALERTS_SELECTOR.exec(query);
    const scripted = this.#answers.get(query) ?? (alerts ? this.alertsSeries(alerts[1]!) : undefined);
    if (scripted === undefined) {
      return failure({ status: 400, errorType: 'bad_data', error: `no scripted answer for query ${query}` });
    }
    if (!Array.isArray(scripted)) return failure(scripted as PrometheusFailure);
    const at = Date.now() / 1000;
    return success({
      resultType: 'vector',
      result: (scripted as readonly Series[]).map((s) => ({
        metric: s.metric ?? {},
        value: [at, formatValue(s.value)],
      })),
    });
  }

  /** `ALERTS{a="x",…}`: the firing alerts whose labels equal every matcher, as `ALERTS` series. */
  private alertsSeries(matchers: string): Series[] | PrometheusFailure {
    const wanted = parseEqualityMatchers(matchers);
    if (!wanted) {
      return {
        status: 400,
        errorType: 'bad_data',
        error: `only equality matchers are scripted: {${matchers}}`,
      };
    }
    return [...this.#firing.values()]
      .map((labels) => ({ __name__: 'ALERTS', alertstate: 'firing', ...labels }))
      .filter((series) => Object.entries(wanted).every(([k, v]) => series[k as keyof typeof series] === v))
      .map((metric) => ({ metric, value: 1 }));
  }
}

/** Starts a scripted Prometheus (see ScriptedPrometheus). */
export function startScriptedPrometheus(): Promise<ScriptedPrometheus> {
  return ScriptedPrometheus.start();
}

function key(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function queryOf(req: RecordedRequest): string | undefined {
  // The HTTP API takes `query` from the URL, or from a form body on POST (for queries too long for a URL).
  const fromUrl = req.query.get('query');
  if (fromUrl !== null) return fromUrl;
  if (req.method === 'POST') return new URLSearchParams(req.body).get('query') ?? undefined;
  return undefined;
}

function success(data: unknown): ScriptedResponse {
  return { status: 200, body: { status: 'success', data } };
}

function failure(f: PrometheusFailure): ScriptedResponse {
  return { status: f.status, body: { status: 'error', errorType: f.errorType, error: f.error } };
}

function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** `a="x",b="y"` (equality matchers, PromQL string escapes) → `{a: "x", b: "y"}`; undefined for anything else. */
function parseEqualityMatchers(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  const matcher = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
  while (matcher.lastIndex < text.length) {
    const m = matcher.exec(text);
    if (!m) return undefined;
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return out;
}
