import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** One message as the SMTP server received it: envelope, raw RFC 5322 text, and the decoded parts tests read. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly user: string | undefined;
  readonly raw: string;
  /** Header names lower-cased; folded lines unfolded. */
  readonly headers: ReadonlyMap<string, string>;
  /** The body with quoted-printable or base64 transfer encoding undone. */
  readonly text: string;
}

export interface SmtpReceiverOptions {
  /** When set, AUTH is required with exactly these credentials (plain-text auth allowed on loopback). */
  readonly auth?: { user: string; pass: string };
}

/** A real SMTP server (smtp-server) on 127.0.0.1:0 that records mail and can be scripted to reject. */
export class SmtpReceiver {
  readonly mails: ReceivedMail[] = [];
  readonly #rejections: { code: number; message: string }[] = [];
  #server!: SMTPServer;
  port = 0;

  static async start(options: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
    const receiver = new SmtpReceiver();
    receiver.#server = new SMTPServer(receiver.#serverOptions(options));
    receiver.#server.on('error', () => undefined); // client disconnects mid-test are not test failures
    await new Promise<void>((resolve) => receiver.#server.listen(0, '127.0.0.1', resolve));
    receiver.port = (receiver.#server.server.address() as AddressInfo).port;
    return receiver;
  }

  /** The next message's DATA is answered with this SMTP reply (e.g. 451 transient, 550 permanent). */
  rejectNext(code: number, message: string): this {
    this.#rejections.push({ code, message });
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #serverOptions(options: SmtpReceiverOptions): SMTPServerOptions {
    return {
      disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authOptional: !options.auth,
      allowInsecureAuth: true,
      logger: false,
      onAuth: (auth, _session, callback) => {
        if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
          return callback(null, { user: auth.username });
        }
        return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const rejection = this.#rejections.shift();
          if (rejection)
            return callback(Object.assign(new Error(rejection.message), { responseCode: rejection.code }));
          const raw = Buffer.concat(chunks).toString('utf8');
          const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
          const to = session.envelope.rcptTo.map((r) => r.address);
          const user = typeof session.user === 'string' ? session.user : undefined;
          this.mails.push({ from, to, user, raw, ...parseMessage(raw) });
          callback();
        });
      },
    };
  }
}

function parseMessage(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const encoding = headers.get('content-transfer-encoding')?.toLowerCase();
  let text = body;
  if (encoding === 'quoted-printable') text = decodeQuotedPrintable(body);
  else if (encoding === 'base64') text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { headers, text: text.replace(/\r\n/g, '\n') };
}

function decodeQuotedPrintable(body: string): string {
  const soft = Buffer.from(body.replace(/=\r\n/g, ''), 'utf8');
  const out: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.subarray(i + 1, i + 3).toString('latin1');
    if (soft[i] === 0x3d && /^[0-9A-F]{2}$/i.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(soft[i] ?? 0);
    }
  }
  return Buffer.from(out).toString('utf8');
}
