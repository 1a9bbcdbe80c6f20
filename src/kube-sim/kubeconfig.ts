import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeconfigOptions {
  /** PEM of the CA that signed the double's certificate (HTTPS); without it TLS verification is off. */
  readonly ca?: string;
  readonly token?: string;
}

/** A kubeconfig document pointing at the double, as `kubectl config view` would print it. */
export function kubeconfigYaml(server: string, context = 'double', options: KubeconfigOptions = {}): string {
  const trust = options.ca
    ? `    certificate-authority-data: ${Buffer.from(options.ca).toString('base64')}`
    : // client-node refuses plain HTTP unless TLS verification is off; the double serves HTTP on loopback.
      '    insecure-skip-tls-verify: true';
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${context}`,
    'clusters:',
    `- name: ${context}`,
    '  cluster:',
    `    server: ${server}`,
    trust,
    'users:',
    `- name: ${context}-user`,
    '  user:',
    `    token: ${options.token ?? 'double-token'}`,
    'contexts:',
    `- name: ${context}`,
    '  context:',
    `    cluster: ${context}`,
    `    user: ${context}-user`,
    '    namespace: default',
    '',
  ].join('\n');
}

/** Writes a kubeconfig file for the double into `dir` and returns its path. */
export async function writeKubeconfig(
  dir: string,
  server: string,
  context = 'double',
  options: KubeconfigOptions = {},
): Promise<string> {
  const file = join(dir, `kubeconfig-${context}.yaml`);
  await writeFile(file, kubeconfigYaml(server, context, options), 'utf8');
  return file;
}

/** A loaded KubeConfig for the double, without touching the file system. */
export function kubeConfigFor(server: string, context = 'double'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(server, context));
  return kc;
}
