/** Environment the CLI honours as defaults for its global options (flags win). */
export interface CliEnvironment {
  readonly url: string | undefined;
  readonly token: string | undefined;
  /** Seconds, as `--timeout` takes them. */
  readonly timeout: string | undefined;
}

export function readCliEnvironment(): CliEnvironment {
  return {
    url: process.env['REBOUND_URL'],
    token: process.env['REBOUND_TOKEN'],
    timeout: process.env['REBOUND_TIMEOUT'],
  };
}

/** `PATH`, where commands that start other programs (`rebound demo`) look for them first. */
export function readSearchPath(): string {
  return process.env['PATH'] ?? '';
}

/** What kubectl reads from the environment to find kubeconfig files. */
export function readKubeEnvironment(): { kubeconfigEnv: string | undefined; homeDir: string | undefined } {
  return { kubeconfigEnv: process.env['KUBECONFIG'], homeDir: process.env['HOME'] };
}
