import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findBinaries } from '../../src/demo/monitoring.ts';

/** Where `rebound demo` finds Prometheus and Alertmanager: PATH first, then the install directories. */

let root: string;

/** A directory holding a small shell script for each name (executable unless said otherwise). */
function binDir(name: string, files: readonly string[], mode = 0o755): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const file of files) {
    writeFileSync(join(dir, file), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, file), mode);
  }
  return dir;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'rebound-find-binaries-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('findBinaries', () => {
  it('takes them from PATH before the install directories, as absolute paths', () => {
    const onPath = binDir('path', ['prometheus', 'alertmanager']);
    const installed = binDir('usr-bin', ['prometheus', 'prometheus-alertmanager']);
    expect(findBinaries({ path: `${binDir('empty', [])}:${onPath}`, installDirs: [installed] })).toEqual({
      prometheus: join(onPath, 'prometheus'),
      alertmanager: join(onPath, 'alertmanager'),
    });
  });

  it('falls back to the install directories when PATH lacks them', () => {
    const local = binDir('usr-local-bin', ['prometheus']);
    const installed = binDir('usr-bin', ['prometheus', 'prometheus-alertmanager']);
    expect(findBinaries({ path: binDir('empty', []), installDirs: [local, installed] })).toEqual({
      prometheus: join(local, 'prometheus'),
      alertmanager: join(installed, 'prometheus-alertmanager'),
    });
  });

  it('passes over files that are not executable', () => {
    const onPath = binDir('path', ['prometheus', 'alertmanager'], 0o644);
    const installed = binDir('usr-bin', ['prometheus', 'alertmanager']);
    expect(findBinaries({ path: onPath, installDirs: [onPath, installed] })).toEqual({
      prometheus: join(installed, 'prometheus'),
      alertmanager: join(installed, 'alertmanager'),
    });
  });

  it('finds nothing when either one is missing everywhere', () => {
    const search = { path: binDir('path', ['prometheus']), installDirs: [binDir('usr-bin', ['prometheus'])] };
    expect(findBinaries(search)).toBeUndefined();
  });

  it('reads an empty PATH as no directories, not the working directory', () => {
    const installed = binDir('usr-bin', ['prometheus', 'alertmanager']);
    expect(findBinaries({ path: '', installDirs: [installed] })).toEqual({
      prometheus: join(installed, 'prometheus'),
      alertmanager: join(installed, 'alertmanager'),
    });
  });
});
