/**
 * URLs as Rebound sends and shows them. A configured URL may carry a secret in its userinfo
 * (`https://user:pass@host`), its query (`?token=…`) or, for capability URLs (Slack-style webhooks), its
 * path; what ends up in a log line, an error, the dead-letter queue or an API answer shows none of them.
 */

/** The URL without userinfo, and that userinfo as the Basic credential `node:http` would send for it. */
export function withoutUserinfo(url: string): { url: string; authorization?: string } {
  const u = new URL(url);
  if (!u.username && !u.password) return { url };
  const credential = `${decodeLenient(u.username)}:${decodeLenient(u.password)}`;
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization: `Basic ${Buffer.from(credential).toString('base64')}` };
}

/** Percent-decoded, or as written where it is not valid percent-encoding (`%zz`), as browsers do. */
function decodeLenient(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * `headers` with the Basic credential of a URL's userinfo, unless they authenticate already (fetch refuses
 * a URL with userinfo outright, and its error repeats the whole URL).
 */
export function authorizeFromUserinfo(
  authorization: string | undefined,
  headers: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> | undefined {
  if (!authorization || Object.keys(headers ?? {}).some((h) => h.toLowerCase() === 'authorization'))
    return headers;
  return { ...headers, authorization };
}

/** Scheme, host and path, for links and messages about URLs whose path is not a secret. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Scheme and host only: for URLs whose path may be the secret. */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

/** A message with every URL in it cut down to its origin (errors of HTTP clients quote whole URLs). */
export function scrubUrls(text: string): string {
  // A URL may hold quotes and brackets (in its userinfo or query): it runs to whitespace, and punctuation
  // that ends a sentence or a quotation after it is put back.
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"<>]+/gi, (match) => {
    const [, url, tail] = /^(.*?)([.,;:!?'")\]]*)$/.exec(match)!;
    const origin = urlOrigin(url!);
    return (origin === 'null' || origin === '(invalid URL)' ? '(a URL)' : origin) + tail;
  });
}
