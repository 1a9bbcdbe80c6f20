import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ReboundError } from '../errors.ts';
import type { MachineDefinition } from './types.ts';
import { assertValidDefinition, type ValidateOptions } from './validate.ts';

export interface RegisteredWorkflow {
  readonly name: string;
  readonly definition: MachineDefinition;
  /** Where it came from: a file path, or `api`. */
  readonly source: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;

/** Workflow definitions (runbooks) by name; every one is validated before it is accepted. */
export class WorkflowRegistry {
  private readonly workflows = new Map<string, RegisteredWorkflow>();

  constructor(private readonly validation: ValidateOptions = {}) {}

  register(name: string, definition: unknown, source = 'api'): RegisteredWorkflow {
    if (!NAME.test(name)) {
      throw new ReboundError(
        'BAD_REQUEST',
        `'${name}' is not a valid workflow name: use letters, digits, '.', '_' or '-' (max 80)`,
      );
    }
    const valid = assertValidDefinition(definition, this.validation, `workflow '${name}'`);
    const entry = { name, definition: valid, source };
    this.workflows.set(name, entry);
    return entry;
  }

  get(name: string): RegisteredWorkflow | undefined {
    return this.workflows.get(name);
  }

  /** The named workflow, or ReboundError NOT_FOUND listing what exists. */
  require(name: string): RegisteredWorkflow {
    const found = this.workflows.get(name);
    if (!found) {
      const known = [...this.workflows.keys()].sort().join(', ') || 'none';
      throw new ReboundError('NOT_FOUND', `no workflow named '${name}' (registered: ${known})`);
    }
    return found;
  }

  list(): RegisteredWorkflow[] {
    return [...this.workflows.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

/**
 * Loads every `*.asl.json` / `*.asl.yaml` runbook of a directory into the registry, named after the file
 * (`restart-on-crashloop.asl.json` → `restart-on-crashloop`). Any invalid file fails the whole load, with
 * every invalid file's path and problems in one error (the valid ones are registered).
 */
export async function loadRunbooks(
  registry: WorkflowRegistry,
  directory: string,
): Promise<RegisteredWorkflow[]> {
  const files = (await readdir(directory)).filter((f) => RUNBOOK_FILE.test(f)).sort();
  const loaded: RegisteredWorkflow[] = [];
  const problems: ReboundError[] = [];
  for (const file of files) {
    const path = join(directory, file);
    const definition = await readRunbook(path);
    if (definition instanceof ReboundError) {
      problems.push(definition);
      continue;
    }
    try {
      loaded.push(registry.register(file.replace(RUNBOOK_FILE, ''), definition, path));
    } catch (err) {
      if (!(err instanceof ReboundError)) throw err;
      problems.push(
        new ReboundError(err.code, `${path}: ${err.message}`, {
          ...(err.path === undefined ? {} : { path: err.path }),
          details: err.details,
        }),
      );
    }
  }
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1)
    throw new ReboundError(
      'INVALID_DEFINITION',
      `${problems.length} runbooks in ${directory} are invalid:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`,
    );
  return loaded;
}

const RUNBOOK_FILE = /\.asl\.(json|ya?ml)$/;

/** A runbook file's definition, or the error that names the file when it cannot be parsed. */
async function readRunbook(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8');
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    return new ReboundError('INVALID_DEFINITION', `${path} cannot be parsed: ${(err as Error).message}`);
  }
}
