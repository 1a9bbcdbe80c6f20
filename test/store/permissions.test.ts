import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqlite } from '../../src/store/sqlite/database.ts';

describe('the data directory', () => {
  it('is created for its owner alone, and so are the database and its WAL files', () => {
    const root = mkdtempSync(join(tmpdir(), 'rebound-perm-'));
    try {
      const path = join(root, 'data', 'rebound.db');
      const db = openSqlite({ path });
      db.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1)');
      const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);
      expect([join(root, 'data'), path, `${path}-wal`, `${path}-shm`].map(mode)).toEqual([
        '700',
        '600',
        '600',
        '600',
      ]);
      db.close();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
