import { randomBytes } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify } from 'yaml';
import { sha256Hex } from '../../http/auth.ts';
import { ROLES } from '../../http/config.ts';
import { printJson, type OutputFormat } from '../output.ts';

/** `rebound tokens create --role R --name N`: a new API token and the hashed config entry for it. */
export function tokensCommand(): Command {
  const cmd = new Command('tokens').description('API tokens for the REST API, the CLI and the dashboard');
  cmd
    .command('create')
    .description(
      'print a new random API token and the server.auth.apiTokens entry (its SHA-256, never the token) ' +
        'to paste into rebound.yaml',
    )
    .addOption(new Option('--role <role>', 'what the token may do').choices([...ROLES]).makeOptionMandatory())
    .option('--name <name>', 'who holds it; shown in timelines as user:<name>', validName, 'dashboard')
    .addOption(new Option('-o, --output <format>', 'text or json').choices(['text', 'json']).default('text'))
    .action((o: { role: (typeof ROLES)[number]; name: string; output: OutputFormat | 'text' }) => {
      const token = `rbd_${randomBytes(32).toString('base64url')}`;
      const entry = { name: o.name, role: o.role, sha256: sha256Hex(token) };
      if (o.output === 'json') return printJson({ token, entry });
      process.stdout.write(`token (shown once; give it to ${o.name}): ${token}\n\n`);
      process.stdout.write('add under server.auth.apiTokens in rebound.yaml:\n');
      process.stdout.write(indent(stringify([entry]), '    '));
    });
  return cmd;
}

function validName(value: string): string {
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(value))
    throw new InvalidArgumentError('letters, digits, . _ @ - (at most 64)');
  return value;
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => (line ? prefix + line : line))
    .join('\n');
}
