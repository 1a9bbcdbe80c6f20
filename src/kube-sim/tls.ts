import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A throwaway self-signed certificate for 127.0.0.1 (EC P-256, one day), made with the openssl CLI. */
export async function selfSignedCertificate(dir: string): Promise<{ key: string; cert: string }> {
  const key = join(dir, 'double-key.pem');
  const cert = join(dir, 'double-cert.pem');
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
}
