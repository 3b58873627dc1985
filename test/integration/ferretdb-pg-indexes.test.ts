import { expect } from 'chai';
import pg from 'pg';
import { addContainmentTwins, indexedFieldsOf, preparePostgresForFerretDb, vacuumBloatedTables } from '../../platform/embedded/ferretdb-pg-indexes.ts';
import { canConnect } from '../../platform/embedded/net.ts';
import { createTestContext, testLogger, uniqueName } from '../support/infra.ts';

/**
 * The embedded FerretDB's indexes only serve lookups through the GIN twins and custom plans that
 * platform/embedded/ferretdb-pg-indexes.ts adds; without them every lookup scans its collection.
 */
describe('embedded FerretDB on PostgreSQL: indexes that serve its lookups', function () {
  this.timeout(60_000);

  it('reads the top-level fields of the btree indexes FerretDB creates', () => {
    expect(indexedFieldsOf(`CREATE UNIQUE INDEX x ON s.orders_1 USING btree (((_jsonb -> '_id'::text)))`)).to.deep.equal(['_id']);
    expect(
      indexedFieldsOf(`CREATE UNIQUE INDEX x ON s.t USING btree (((_jsonb -> 'enrollmentId'::text)), ((_jsonb -> 'releaseSku'::text)))`),
    ).to.deep.equal(['enrollmentId', 'releaseSku']);
    expect(indexedFieldsOf(`CREATE INDEX x ON s.t USING btree (((_jsonb -> 'it''s'::text)))`)).to.deep.equal(["it's"]);
    expect(indexedFieldsOf(`CREATE INDEX x ON s.t USING btree ((((_jsonb -> 'purchaser'::text) -> 'email'::text)))`)).to.deep.equal([]);
  });

  describe('against PostgreSQL', () => {
    const database = uniqueName('mintdesk_twins');
    const url = `postgres://postgres@127.0.0.1:5432/${database}`;
    let client: pg.Client;
    before(async function () {
      if (!(await canConnect('127.0.0.1', 5432))) this.skip(); // no local PostgreSQL: FerretDB runs on SQLite or mongod is used
      const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await admin.connect();
      await admin.query(`CREATE DATABASE "${database}"`);
      await admin.end();
      await preparePostgresForFerretDb(url, testLogger());
      client = new pg.Client({ connectionString: url });
      await client.connect();
      // The shape FerretDB 1.24 gives a collection with a unique index on `number`.
      await client.query(`CREATE SCHEMA shop`);
      await client.query(`CREATE TABLE shop.orders_325e96ec (_jsonb jsonb)`);
      await client.query(`CREATE UNIQUE INDEX orders_id_idx ON shop.orders_325e96ec USING btree (((_jsonb -> '_id'::text)))`);
      await client.query(`CREATE UNIQUE INDEX orders_number_idx ON shop.orders_325e96ec USING btree (((_jsonb -> 'number'::text)))`);
      await client.query(
        `INSERT INTO shop.orders_325e96ec SELECT jsonb_build_object('_id', 'o' || i, 'number', 'n' || i, 'total', i) FROM generate_series(1, 20000) i`,
      );
      await client.query('ANALYZE shop.orders_325e96ec');
    });
    after(async () => {
      await client?.end();
      const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await admin.end();
    });

    it('twins each indexed field once, and a FerretDB-shaped lookup then uses an index instead of a scan', async () => {
      const plan = async () => {
        // A fresh session picks up the database's plan_cache_mode, as FerretDB's connections do.
        const session = new pg.Client({ connectionString: url });
        await session.connect();
        try {
          // FerretDB's pushed-down filter: the key is a parameter and the operator is containment.
          await session.query(`PREPARE lookup(text, jsonb) AS SELECT _jsonb FROM shop.orders_325e96ec WHERE _jsonb -> $1 @> $2`);
          // Past the planner's first five custom plans, where a generic plan would take over.
          for (let i = 0; i < 6; i++) await session.query(`EXECUTE lookup('_id', '"o17"')`);
          const { rows } = await session.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE lookup('_id', '"o17"')`);
          return rows.map((row) => row['QUERY PLAN']).join('\n');
        } finally {
          await session.end();
        }
      };
      expect(await plan()).to.match(/Seq Scan/);
      expect(await addContainmentTwins(client)).to.equal(2);
      expect(await addContainmentTwins(client)).to.equal(0);
      const indexed = await plan();
      expect(indexed).to.match(/Index Scan on mdgin_/);
      expect(indexed).not.to.match(/Seq Scan/);
    });

    it('vacuums a table whose rewritten documents left more dead row versions than a fifth of its live ones', async () => {
      // Every FerretDB update rewrites the whole row; a session's statistics reach the counters when it ends.
      const writer = new pg.Client({ connectionString: url });
      await writer.connect();
      await writer.query(`UPDATE shop.orders_325e96ec SET _jsonb = _jsonb || '{"status": "paid"}'`);
      await writer.end();
      const deadRows = async () =>
        Number((await client.query<{ n: string }>(`SELECT n_dead_tup AS n FROM pg_stat_user_tables WHERE schemaname = 'shop' AND relname = 'orders_325e96ec'`)).rows[0]!.n);
      const deadline = Date.now() + 10_000;
      while ((await deadRows()) < 20_000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await deadRows()).to.be.at.least(20_000);
      expect(await vacuumBloatedTables(client)).to.be.at.least(1);
      expect(await deadRows()).to.be.below(1000);
    });

    it('passes over a table dropped while it works', async () => {
      await client.query(`CREATE TABLE shop.gone_1 (_jsonb jsonb)`);
      await client.query(`CREATE INDEX gone_idx ON shop.gone_1 USING btree (((_jsonb -> 'email'::text)))`);
      await client.query(`DROP TABLE shop.gone_1`);
      expect(await addContainmentTwins(client)).to.equal(0);
    });
  });

  it('twins the indexes of collections the application creates on the embedded FerretDB', async function () {
    const ctx = await createTestContext({ listen: false });
    try {
      if (ctx.infrastructure.mongoEngine !== 'ferretdb' || !(await canConnect('127.0.0.1', 5432))) this.skip(); // mongod needs no twins
      const storage = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/mintdesk_ferretdb_test' });
      const ok = await storage.connect().then(
        () => true,
        () => false,
      );
      if (!ok) this.skip(); // FerretDB on SQLite
      try {
        const collection = ctx.services.core.mongo.collection('twin_probe');
        await collection.createIndex({ reference: 1 }, { unique: true });
        await collection.insertOne({ reference: 'r1' });
        const deadline = Date.now() + 10_000;
        let names: string[] = [];
        while (Date.now() < deadline) {
          const { rows } = await storage.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE 'mdgin_%'`, [ctx.dbName]);
          names = rows.map((row) => row.indexdef);
          if (names.some((d) => d.includes(`'reference'`)) && names.some((d) => d.includes(`'_id'`))) break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(names.join('\n')).to.include(`'reference'`).and.to.include(`'_id'`);
        expect(await collection.findOne({ reference: 'r1' })).to.include({ reference: 'r1' });
      } finally {
        await storage.end();
      }
    } finally {
      await ctx.close();
    }
  });
});
