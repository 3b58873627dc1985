import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../logger.ts';

/**
 * FerretDB 1.x on PostgreSQL creates each Mongo index as a btree on `(_jsonb -> 'field')`, but it
 * pushes filters down as `_jsonb -> $1 @> $2`: a parameterised key and the containment operator,
 * which no btree can serve. Every lookup, even by `_id`, is then a sequential scan whose cost grows
 * with the collection (FerretDB issue #4646). What makes the indexes usable without touching
 * FerretDB: custom plans for every statement (the planner then sees the key as a constant), a GIN
 * twin of each indexed field (GIN's jsonb_ops answers `@>`), and a planner told to prefer indexes.
 * Real MongoDB needs none of this; it is done only for the embedded FerretDB this process starts,
 * whose database also skips waiting for WAL flushes and is vacuumed here when autovacuum is off.
 */

const twinPrefix = 'mdgin_';

export async function preparePostgresForFerretDb(postgresUrl: string, logger: Logger): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
    const database = `"${rows[0]!.db.replace(/"/g, '""')}"`;
    // Database-level settings apply to the connections FerretDB opens after this.
    await client.query(`ALTER DATABASE ${database} SET plan_cache_mode = force_custom_plan`);
    // FerretDB's documents live in TOAST, so the heap looks tiny and a scan cheap to the planner,
    // which does not price de-TOASTing every document to read one key; a scan of 10,000 orders
    // costs seconds where the index costs a millisecond. Scans still run where no index applies.
    await client.query(`ALTER DATABASE ${database} SET enable_seqscan = off`);
    // The embedded store is for development and tests (production runs MongoDB): an operating-system
    // crash may lose the last fraction of a second of writes, never consistency, and no write waits
    // for its own WAL flush, which otherwise dominates a FerretDB write's latency.
    await client.query(`ALTER DATABASE ${database} SET synchronous_commit = off`);
  } catch (error) {
    logger.warn({ err: (error as Error).message }, 'could not tune the PostgreSQL database under FerretDB; its indexes will not be used');
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface IndexedField {
  schema: string;
  table: string;
  field: string;
}

/** Top-level fields a FerretDB btree index covers, from its definition in pg_indexes. */
export function indexedFieldsOf(indexdef: string): string[] {
  const fields: string[] = [];
  // Only direct `_jsonb -> 'field'` terms, not the first step of a dotted path (`... -> 'a') -> 'b'`):
  // FerretDB 1.x does not push dotted paths down, and a GIN of a whole subdocument costs every write.
  for (const match of indexdef.matchAll(/\(_jsonb -> '((?:[^']|'')+)'::text\)(?! ->)/g)) fields.push(match[1]!.replace(/''/g, "'"));
  return fields;
}

export function twinIndexName(field: IndexedField): string {
  return twinPrefix + createHash('sha256').update(`${field.schema}\0${field.table}\0${field.field}`).digest('hex').slice(0, 24);
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * Every FerretDB update writes a whole new row version. Where autovacuum is off (as on some
 * machines of this kind) dead versions pile up and every lookup wades through them; tables with
 * more dead than a fifth of their live rows are vacuumed (which neither blocks reads nor writes).
 */
export async function vacuumBloatedTables(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ schemaname: string; relname: string }>(
    `SELECT schemaname, relname FROM pg_stat_user_tables
      WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND n_dead_tup > 1000 AND n_dead_tup > n_live_tup / 5
      ORDER BY n_dead_tup DESC LIMIT 3`,
  );
  let vacuumed = 0;
  for (const row of rows) {
    try {
      await client.query(`VACUUM (ANALYZE) ${quoteIdent(row.schemaname)}.${quoteIdent(row.relname)}`);
      vacuumed++;
    } catch {
      // Dropped meanwhile, or vacuumed by someone else: the next pass looks again.
    }
  }
  return vacuumed;
}

/** Adds the missing GIN twins once; returns how many were created. */
export async function addContainmentTwins(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ schemaname: string; tablename: string; indexname: string; indexdef: string }>(
    `SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
      WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND (indexdef LIKE '%USING btree%_jsonb ->%' OR indexname LIKE '${twinPrefix}%')`,
  );
  const existing = new Set(rows.filter((row) => row.indexname.startsWith(twinPrefix)).map((row) => row.indexname));
  const wanted = new Map<string, IndexedField>();
  for (const row of rows) {
    if (row.indexname.startsWith(twinPrefix) || row.tablename.startsWith('_ferretdb_')) continue;
    for (const field of indexedFieldsOf(row.indexdef)) {
      const indexed = { schema: row.schemaname, table: row.tablename, field };
      const name = twinIndexName(indexed);
      if (!existing.has(name)) wanted.set(name, indexed);
    }
  }
  let created = 0;
  for (const [name, indexed] of wanted) {
    try {
      await client.query(
        `CREATE INDEX IF NOT EXISTS ${quoteIdent(name)} ON ${quoteIdent(indexed.schema)}.${quoteIdent(indexed.table)} USING gin ((_jsonb -> ${quoteLiteral(indexed.field)})) WITH (fastupdate = off)`,
      );
      created++;
    } catch {
      // The table was dropped meanwhile, or writers held it past lock_timeout: the next pass retries.
    }
  }
  return created;
}

export interface ContainmentIndexer {
  stop(): Promise<void>;
}

/**
 * Keeps every FerretDB index twinned and its tables vacuumed while the embedded FerretDB runs:
 * collections and indexes appear whenever the application first touches them, so a short poll
 * follows them.
 */
export function startContainmentIndexer(postgresUrl: string, logger: Logger, intervalMs = 1000): ContainmentIndexer {
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const pass = async () => {
    try {
      if (!client) {
        const fresh = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 2000 });
        fresh.on('error', () => undefined);
        await fresh.connect();
        // Queued behind a long writer, CREATE INDEX would itself block every later writer: give up quickly.
        await fresh.query("SET lock_timeout = '200ms'");
        client = fresh;
      }
      const created = await addContainmentTwins(client);
      const vacuumed = await vacuumBloatedTables(client);
      if (created > 0 || vacuumed > 0) logger.debug({ created, vacuumed }, 'FerretDB storage maintained');
    } catch (error) {
      logger.debug({ err: (error as Error).message }, 'FerretDB containment indexer pass failed');
      await client?.end().catch(() => undefined);
      client = undefined;
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  running = pass().finally(schedule);
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
      await client?.end().catch(() => undefined);
    },
  };
}
