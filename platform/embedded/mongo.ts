import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { preparePostgresForFerretDb, startContainmentIndexer } from './ferretdb-pg-indexes.ts';
import { canConnect, freePort, waitForPort } from './net.ts';
import { findExecutable, startManagedProcess } from './process.ts';
import { withTimeout } from '../timeout.ts';

const execFileAsync = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface EmbeddedMongoOptions {
  dataDir: string;
  engine: 'auto' | 'memory-server' | 'ferretdb';
  /** Keep data between runs (the platform) or throw it away (tests). */
  persistent: boolean;
  ferretPostgresUrl?: string | undefined;
  /** PostgreSQL database FerretDB stores into when a local PostgreSQL is found. */
  ferretPostgresDatabase?: string;
  logger: Logger;
}

export interface EmbeddedMongo {
  uri: string;
  engine: 'memory-server' | 'ferretdb';
  stop(): Promise<void>;
}

export class EmbeddedServiceError extends Error {}

/**
 * A real MongoDB when mongodb-memory-server can fetch mongod (a laptop with internet), otherwise
 * FerretDB (MongoDB wire protocol on PostgreSQL or SQLite), built with Go when it is missing.
 */
export async function startEmbeddedMongo(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const reasons: string[] = [];
  const unavailableMarker = join(options.dataDir, 'mongodb-memory-server.unavailable');
  // Without internet every start would retry the mongod download; remember the failure for a day.
  const recentlyFailed = options.engine === 'auto' && existsSync(unavailableMarker) && Date.now() - statSync(unavailableMarker).mtimeMs < 24 * 3600_000;
  if (options.engine !== 'ferretdb' && !recentlyFailed) {
    try {
      return await startMemoryServer(options);
    } catch (error) {
      reasons.push(`mongodb-memory-server: ${(error as Error).message.split('\n')[0]}`);
      mkdirSync(options.dataDir, { recursive: true });
      writeFileSync(unavailableMarker, reasons[0]!);
      if (options.engine === 'memory-server') throw new EmbeddedServiceError(`Could not start mongodb-memory-server (${reasons[0]}). Set MONGODB_URI.`);
      options.logger.info({ reason: reasons[0] }, 'mongodb-memory-server unavailable; trying FerretDB');
    }
  }
  try {
    return await startFerretDb(options);
  } catch (error) {
    reasons.push(`FerretDB: ${(error as Error).message}`);
  }
  throw new EmbeddedServiceError(
    `No MongoDB available. Set MONGODB_URI to a MongoDB 7 server, or install Go (FerretDB is built with it), or allow mongodb-memory-server to download mongod.\n  ${reasons.join('\n  ')}`,
  );
}

async function startMemoryServer(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const dbPath = options.persistent ? join(options.dataDir, 'mongodb') : undefined;
  if (dbPath) mkdirSync(dbPath, { recursive: true });
  // Without internet the download fails fast (DNS); the timeout covers a hanging proxy.
  const server = await withTimeout(
    MongoMemoryServer.create({ instance: { ip: '127.0.0.1', ...(dbPath ? { dbPath, storageEngine: 'wiredTiger' as const } : {}) } }),
    Number(process.env.MONGOMS_START_TIMEOUT_MS ?? 120_000),
    () => new Error('mongod download/start timed out'),
  );
  return { uri: server.getUri(), engine: 'memory-server', stop: async () => void (await server.stop({ doCleanup: !options.persistent })) };
}

async function findOrBuildFerretDb(logger: Logger): Promise<string> {
  const gopathBin = await execFileAsync('go', ['env', 'GOPATH']).then((r) => join(r.stdout.trim(), 'bin')).catch(() => undefined);
  const found =
    process.env.FERRETDB_BIN ?? findExecutable('ferretdb', [join(repoRoot, '.tools/bin'), ...(gopathBin ? [gopathBin] : [])]);
  // A plain `go install` of 1.24.2 builds a binary that panics at start (see scripts/install-ferretdb.sh).
  if (found && (await execFileAsync(found, ['--version']).then(() => true, () => false))) return found;
  if (!findExecutable('go')) throw new Error('no ferretdb binary and no Go toolchain to build one');
  logger.info('building FerretDB 1.24.2 with Go (first start only, about two minutes)');
  await execFileAsync('bash', [join(repoRoot, 'scripts/install-ferretdb.sh')], { maxBuffer: 10 * 1024 * 1024 });
  return join(repoRoot, '.tools/bin/ferretdb');
}

async function postgresStorageUrl(options: EmbeddedMongoOptions): Promise<string | undefined> {
  if (options.ferretPostgresUrl) return options.ferretPostgresUrl;
  if (!(await canConnect('127.0.0.1', 5432))) return undefined;
  const database = options.ferretPostgresDatabase ?? 'mintdesk_ferretdb';
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`).catch(() => undefined);
    return `postgres://postgres@127.0.0.1:5432/${database}`;
  } catch (error) {
    options.logger.info({ err: (error as Error).message }, 'local PostgreSQL not usable for FerretDB; using SQLite');
    return undefined;
  } finally {
    await admin.end().catch(() => undefined);
  }
}

async function startFerretDb(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  const binary = await findOrBuildFerretDb(options.logger);
  const port = await freePort();
  const stateDir = resolve(options.dataDir, 'ferretdb-state', options.persistent ? 'main' : `run-${process.pid}-${port}`);
  mkdirSync(stateDir, { recursive: true });
  // PostgreSQL copes with concurrent writers far better than SQLite, so prefer it when one is at hand.
  const postgresUrl = await postgresStorageUrl(options);
  if (postgresUrl) await preparePostgresForFerretDb(postgresUrl, options.logger);
  const storage = postgresUrl
    ? ['--handler=postgresql', `--postgresql-url=${postgresUrl}`]
    : (() => {
        const sqliteDir = resolve(options.dataDir, 'ferretdb-sqlite', options.persistent ? 'main' : `run-${process.pid}-${port}`);
        mkdirSync(sqliteDir, { recursive: true });
        return ['--handler=sqlite', `--sqlite-url=file:${sqliteDir}/`];
      })();
  const child = startManagedProcess(binary, [
    ...storage,
    `--listen-addr=127.0.0.1:${port}`,
    '--debug-addr=-',
    `--state-dir=${stateDir}`,
    '--telemetry=disable',
    '--log-level=error',
  ]);
  try {
    await waitForPort('127.0.0.1', port, 30_000, 'FerretDB');
  } catch (error) {
    await child.stop();
    throw new Error(`${(error as Error).message}\n${child.recentOutput()}`);
  }
  options.logger.info({ port, storage: postgresUrl ? 'postgresql' : 'sqlite' }, 'embedded FerretDB started');
  const indexer = postgresUrl ? startContainmentIndexer(postgresUrl, options.logger) : undefined;
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    engine: 'ferretdb',
    stop: async () => {
      await indexer?.stop();
      await child.stop();
    },
  };
}
