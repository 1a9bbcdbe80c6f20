import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level: string;
  readonly destination?: DestinationStream;
}

// Secrets never reach a log line: these paths are censored wherever they appear.
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-rebound-signature"]',
  'headers.authorization',
  'authorization',
  'token',
  'secret',
  'password',
  '*.token',
  '*.secret',
  '*.password',
  '*.routingKey',
  '*.routing_key',
  '*.webhookUrl',
  '*.signingSecret',
  '*.bearerToken',
  '*.tokenSecret',
  '*.*.secret',
  '*.*.password',
  '*.*.token',
];

/** Structured JSON logs; every line about an event carries its `correlationId` binding. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'rebound' },
      redact: { paths: REDACT, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}
