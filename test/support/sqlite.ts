import { join } from 'node:path';
import { openSqlite, runMigrations, type Migration } from '../../src/store/sqlite/database.ts';
import { GroupCommitter } from '../../src/store/sqlite/group-commit.ts';
import { tempDir } from './app.ts';

/** A file database in a temporary folder, migrated, with its group committer; `close()` closes and removes it. */
export function tempDatabase(migrations: Migration[], prefix = 'rebound-db-') {
  const dir = tempDir(prefix);
  const db = openSqlite({ path: join(dir.path, 'rebound.db'), synchronous: 'NORMAL' });
  runMigrations(db, migrations);
  return {
    db,
    committer: new GroupCommitter(db),
    close: () => {
      db.close();
      dir.remove();
    },
  };
}
