import { expect } from 'chai';
import type { mongo } from 'mongoose';
import { deriveAuditKeys, entryHash, entryMac, type ChainFields } from '../../api/audit/chain.ts';
import { checkpointKey, createCheckpointStore, signCheckpoint } from '../../api/audit/checkpoints.ts';
import { createAuditService } from '../../api/audit/service.ts';
import { verifyAuditChain } from '../../api/audit/verify.ts';
import type { Principal } from '../../api/http/principal.ts';
import { api } from '../support/http.ts';
import { capturedLogLines, createTestContext, testLogger, type TestContext } from '../support/infra.ts';
import { createStaffUser, loginStaff, MINUTE, movableClock, type TestStaffUser } from '../support/staff-sessions.ts';

const system: Principal = { type: 'system', component: 'audit-test' };
const entries = (ctx: TestContext) => ctx.services.core.mongo.collection('audit_entries');

/**
 * What someone with write access to the database (and not to AUDIT_HMAC_KEY) can do: edit an entry,
 * then recompute the plain SHA-256 hash and link of it and of every entry after it, so that the
 * hash chain alone is consistent again. With `macKey`, the same attacker also holds the key.
 */
async function rewriteHistory(ctx: TestContext, seq: number, edit: (doc: mongo.WithId<mongo.Document>) => void, macKey?: string): Promise<void> {
  const later = await entries(ctx).find({ seq: { $gte: seq } }).sort({ seq: 1 }).toArray();
  let prevHash = later[0]!.prevHash as string;
  for (const doc of later) {
    if (doc.seq === seq) edit(doc);
    doc.prevHash = prevHash;
    doc.hash = entryHash(doc as unknown as ChainFields);
    if (macKey) doc.mac = entryMac(deriveAuditKeys(macKey), doc.hash as string);
    await entries(ctx).replaceOne({ _id: doc._id }, doc);
    prevHash = doc.hash as string;
  }
}

async function restore(ctx: TestContext, originals: mongo.WithId<mongo.Document>[]): Promise<void> {
  await entries(ctx).deleteMany({ seq: { $gte: originals[0]!.seq } });
  await entries(ctx).insertMany(originals);
}

describe('audit trail', function () {
  this.timeout(300_000);

  describe('what is recorded, and who may read it', () => {
    let ctx: TestContext;
    let auditor: TestStaffUser;
    let auditorToken: string;
    let csr: TestStaffUser;
    before(async () => {
      ctx = await createTestContext({ env: { LOGIN_LOCKOUT_THRESHOLD: '3' } });
      auditor = await createStaffUser(ctx, 'auditor');
      auditorToken = await loginStaff(ctx, auditor);
      csr = await createStaffUser(ctx, 'csr');
    });
    after(async () => ctx?.close());

    const byAction = async (action: string, resourceId?: string) =>
      (await ctx.services.audit.query({ action, ...(resourceId ? { resourceId } : {}), page: 1, pageSize: 50 })).entries;

    it('records logon, failed logon and logout, without passwords or tokens', async () => {
      const failed = await api(ctx.baseUrl, 'POST', '/api/staff/login', { body: { username: csr.username, password: 'not the password' } });
      expect(failed.status).to.equal(401);
      const token = await loginStaff(ctx, csr);
      expect((await api(ctx.baseUrl, 'POST', '/api/staff/logout', { token })).status).to.equal(204);

      const logons = await byAction('staff.login', csr.id);
      const failure = logons.find((e) => e.outcome === 'failure')!;
      expect(failure.actor).to.deep.equal({ type: 'staff', id: csr.id, username: csr.username, role: 'csr' });
      expect(failure.details).to.deep.equal({ reason: 'bad_password', consecutiveFailures: 1 });
      expect(failure.ip).to.match(/127\.0\.0\.1/);
      const success = logons.find((e) => e.outcome === 'success')!;
      expect(success.details).to.have.property('sessionId').that.is.a('string');
      const [logout] = await byAction('staff.logout', csr.id);
      expect(logout).to.deep.include({ outcome: 'success', resource: { type: 'staff_user', id: csr.id } });
      expect(logout!.details!.sessionId).to.equal(success.details!.sessionId);

      const everything = JSON.stringify(await entries(ctx).find({}).toArray());
      expect(everything).to.not.include(csr.password).and.not.include('not the password').and.not.include(token);
    });

    it('records failed logons of unknown usernames without the name typed', async () => {
      await api(ctx.baseUrl, 'POST', '/api/staff/login', { body: { username: 'typo-in-name', password: 'hunter2hunter2' } });
      const [entry] = (await ctx.services.audit.query({ action: 'staff.login', actor: 'staff-login', page: 1, pageSize: 1 })).entries;
      expect(entry).to.deep.include({ outcome: 'failure', actor: { type: 'system', id: 'staff-login' }, resource: { type: 'staff_user' } });
      expect(entry!.details).to.deep.equal({ reason: 'unknown_user', consecutiveFailures: 1 });
      expect(entry!.ip, 'the address is what identifies a guesser').to.match(/127\.0\.0\.1/);
      expect(JSON.stringify(await entries(ctx).find({}).toArray())).to.not.include('typo-in-name');
    });

    it('records the lockout', async () => {
      const victim = await createStaffUser(ctx, 'supervisor');
      for (let i = 0; i < 3; i += 1) await api(ctx.baseUrl, 'POST', '/api/staff/login', { body: { username: victim.username, password: 'guess guess guess' } });
      const [lockout] = await byAction('staff.lockout', victim.id);
      expect(lockout).to.deep.include({ outcome: 'success' });
      expect(lockout!.details).to.include({ consecutiveFailures: 3 });
    });

    it('records denied access with the route and the missing permission', async () => {
      const token = await loginStaff(ctx, csr);
      const response = await api(ctx.baseUrl, 'GET', '/api/staff/audit?resourceType=customer', { token });
      expect(response.status).to.equal(403);
      const [denied] = (await ctx.services.audit.query({ action: 'access.denied', actor: csr.id, page: 1, pageSize: 5 })).entries;
      expect(denied).to.deep.include({ outcome: 'denied', resource: { type: 'route', id: 'GET /api/staff/audit' } });
      expect(denied!.details).to.deep.equal({ permission: 'audit:read' });
      expect(denied!.actor).to.include({ username: csr.username, role: 'csr' });
    });

    it('lets auditors read the trail with filters and pages, and records each read', async () => {
      const all = await api(ctx.baseUrl, 'GET', '/api/staff/audit?pageSize=2', { token: auditorToken });
      expect(all.status, JSON.stringify(all.body)).to.equal(200);
      expect(all.body.entries).to.have.length(2);
      expect(all.body.total).to.be.greaterThan(5);
      expect(all.body.entries[0].seq).to.be.greaterThan(all.body.entries[1].seq);
      const second = await api(ctx.baseUrl, 'GET', '/api/staff/audit?pageSize=2&page=2', { token: auditorToken });
      // Newest first: the first read was itself recorded meanwhile, shifting page 2 by one entry.
      expect(second.body.entries[0].seq).to.equal(all.body.entries[1].seq);

      const filtered = await api(ctx.baseUrl, 'GET', `/api/staff/audit?action=staff.login&actor=${csr.username}&resourceType=staff_user&resourceId=${csr.id}`, { token: auditorToken });
      expect(filtered.body.entries.length).to.be.greaterThan(0);
      for (const entry of filtered.body.entries) expect(entry).to.deep.include({ action: 'staff.login', resource: { type: 'staff_user', id: csr.id } });

      const from = new Date(Date.now() - 60 * MINUTE).toISOString();
      const to = new Date(Date.now() + MINUTE).toISOString();
      const ranged = await api(ctx.baseUrl, 'GET', `/api/staff/audit?from=${from}&to=${to}&outcome=denied`, { token: auditorToken });
      expect(ranged.status).to.equal(200);
      expect(ranged.body.entries.every((e: { outcome: string }) => e.outcome === 'denied')).to.equal(true);

      const reads = (await ctx.services.audit.query({ action: 'audit.read', actor: auditor.id, page: 1, pageSize: 10 })).entries;
      expect(reads).to.have.length(4);
      expect(reads[0]).to.deep.include({ outcome: 'success', resource: { type: 'audit' } });
      expect(reads[0]!.details).to.deep.include({ filters: ['outcome', 'from', 'to'] });
      expect(reads[1]!.details).to.deep.include({ filters: ['actor', 'resourceType', 'resourceId', 'action'] });
      expect(JSON.stringify(reads)).to.not.include(csr.username);
    });

    it('rejects malformed filters with a 400 naming the field', async () => {
      const response = await api(ctx.baseUrl, 'GET', '/api/staff/audit?pageSize=1000&from=yesterday', { token: auditorToken });
      expect(response.status).to.equal(400);
      expect(response.body.error.fields.map((f: { path: string }) => f.path).sort()).to.deep.equal(['from', 'pageSize']);
    });

    it('offers no way to change the trail', async () => {
      // checkpoint() only signs the head into S3 and the log; it never writes the trail.
      expect(Object.keys(ctx.services.audit).sort()).to.deep.equal(['checkpoint', 'purgeOlderThan', 'query', 'record', 'retentionCutoff', 'verifyChain']);
      for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
        const response = await api(ctx.baseUrl, method, '/api/staff/audit', { token: auditorToken, ...(method === 'DELETE' ? {} : { body: {} }) });
        expect(response.status, method).to.equal(404);
      }
    });

    it('verifies the chain over HTTP and through the CLI helper', async () => {
      const viaApi = await api(ctx.baseUrl, 'GET', '/api/staff/audit/verify', { token: auditorToken });
      expect(viaApi.status).to.equal(200);
      expect(viaApi.body.ok).to.equal(true);
      const viaCli = await verifyAuditChain(ctx.runtime);
      expect(viaCli.ok).to.equal(true);
      expect(viaCli.checked).to.equal(await entries(ctx).countDocuments());
      expect(viaCli.firstSeq).to.equal(1);
      expect(viaCli.headHash).to.match(/^[0-9a-f]{64}$/);
    });
  });

  describe('tamper evidence and concurrency', () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext();
      for (let i = 0; i < 10; i += 1) {
        await ctx.services.audit.record({ actor: system, action: 'customer.read', resource: { type: 'customer', id: `c${i}` }, outcome: 'success', details: { fields: 3, at: new Date(0), skipped: undefined } });
      }
    });
    after(async () => ctx?.close());

    it('verifies an untouched chain', async () => {
      const result = await ctx.services.audit.verifyChain();
      expect(result).to.deep.include({ ok: true, checked: 10, firstSeq: 1, lastSeq: 10 });
      const [sample] = (await ctx.services.audit.query({ resourceId: 'c0', page: 1, pageSize: 1 })).entries;
      expect(sample!.details).to.deep.equal({ fields: 3, at: '1970-01-01T00:00:00.000Z' });
    });

    it('reports the seq of an entry edited directly in the database', async () => {
      const original = await entries(ctx).findOne({ seq: 4 });
      await entries(ctx).updateOne({ seq: 4 }, { $set: { 'resource.id': 'someone-else' } });
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: 4, reason: 'hash_mismatch' });
      await entries(ctx).updateOne({ seq: 4 }, { $set: { 'details.fields': 4 } });
      await entries(ctx).updateOne({ seq: 4 }, { $set: { resource: original!.resource, details: original!.details } });
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);

      await entries(ctx).updateOne({ seq: 7 }, { $set: { outcome: 'failure' } });
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: 7, reason: 'hash_mismatch' });
      await entries(ctx).updateOne({ seq: 7 }, { $set: { outcome: 'success' } });
    });

    it('notices an edited entry whose hash was recomputed: its MAC no longer matches', async () => {
      const { entryHash } = await import('../../api/audit/chain.ts');
      const original = (await entries(ctx).findOne({ seq: 5 }))!;
      const forged = { ...original, action: 'customer.list' } as unknown as Parameters<typeof entryHash>[0];
      await entries(ctx).updateOne({ seq: 5 }, { $set: { action: 'customer.list', hash: entryHash(forged) } });
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: 5, reason: 'mac_mismatch' });
      await entries(ctx).updateOne({ seq: 5 }, { $set: { action: original.action, hash: original.hash } });
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);
    });

    it('refuses an entry whose MAC was removed', async () => {
      const original = (await entries(ctx).findOne({ seq: 8 }))!;
      await entries(ctx).updateOne({ seq: 8 }, { $unset: { mac: '' } });
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: 8, reason: 'mac_missing' });
      await entries(ctx).updateOne({ seq: 8 }, { $set: { mac: original.mac } });
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);
    });

    it('reports a deleted entry as a missing seq', async () => {
      const original = (await entries(ctx).findOne({ seq: 3 }))!;
      await entries(ctx).deleteOne({ seq: 3 });
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: 3, reason: 'missing_seq' });
      await entries(ctx).insertOne(original);
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);
    });

    it('does not accept a trail whose oldest entries vanished without a purge record', async () => {
      const original = (await entries(ctx).findOne({ seq: 1 }))!;
      await entries(ctx).deleteOne({ seq: 1 });
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: 2, reason: 'unanchored_start' });
      await entries(ctx).insertOne(original);
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);
    });

    it('keeps a gap-free chain under 200 parallel appends from two appenders', async () => {
      const before = await entries(ctx).countDocuments();
      // A second service on the same database stands in for another API process: its appends race
      // with the first one's through the unique index on seq.
      const other = createAuditService({ mongo: ctx.services.core.mongo, clock: () => new Date(), logger: testLogger(), hmacKey: ctx.services.core.secrets.auditHmacKey });
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          (i % 2 ? other : ctx.services.audit).record({ actor: system, action: 'order.read', resource: { type: 'order', id: `o${i}` }, outcome: 'success' }),
        ),
      );
      const seqs = results.map((r) => r.seq).sort((a, b) => a - b);
      expect(seqs[0]).to.equal(before + 1);
      expect(seqs.at(-1)).to.equal(before + 200);
      expect(new Set(seqs).size).to.equal(200);
      const result = await ctx.services.audit.verifyChain();
      expect(result).to.deep.include({ ok: true, checked: before + 200, lastSeq: before + 200 });
    });

    it('refuses malformed entries before they take a seq', async () => {
      const count = await entries(ctx).countDocuments();
      for (const bad of [
        { action: 'NotDotted', resource: { type: 'customer' } },
        { action: 'customer.read', resource: { type: 'Customer!' } },
      ]) {
        let failed = false;
        await ctx.services.audit.record({ actor: system, outcome: 'success', ...bad }).catch(() => (failed = true));
        expect(failed, JSON.stringify(bad)).to.equal(true);
      }
      let failed = false;
      await ctx.services.audit.record({ actor: system, action: 'customer.read', resource: { type: 'customer' }, outcome: 'success', details: { fn: () => 1 } }).catch(() => (failed = true));
      expect(failed).to.equal(true);
      expect(await entries(ctx).countDocuments()).to.equal(count);
      expect((await ctx.services.audit.record({ actor: system, action: 'customer.read', resource: { type: 'customer' }, outcome: 'success' })).seq).to.equal(count + 1);
    });
  });

  describe('anchors: entry MACs and signed checkpoints outside the database', () => {
    let ctx: TestContext;
    let csr: TestStaffUser;
    before(async () => {
      ctx = await createTestContext();
      csr = await createStaffUser(ctx, 'csr');
    });
    after(async () => ctx?.close());

    const checkpointObjects = async () => (await ctx.services.core.objectStore.list('audit-checkpoints/')).map((o) => o.key).sort();

    it('signs the head into S3 and the log, says which S3 protection it got, and writes each seq once', async () => {
      const logFrom = capturedLogLines.length;
      for (let i = 0; i < 3; i += 1) await ctx.services.audit.record({ actor: system, action: 'customer.read', resource: { type: 'customer', id: `a${i}` }, outcome: 'success' });
      const head = (await entries(ctx).find({}).sort({ seq: -1 }).limit(1).toArray())[0]!;
      const first = await ctx.services.audit.checkpoint();
      // s3rver has no object lock: the checkpoint is a write-once key, and the log says so.
      expect(first).to.deep.include({ written: true, seq: head.seq, key: checkpointKey(head.seq as number), lock: 'none' });
      const logged = capturedLogLines.slice(logFrom);
      expect(logged.some((line) => line.includes('no S3 object lock'))).to.equal(true);
      const logLine = logged.map((line) => JSON.parse(line) as { msg: string; auditCheckpoint?: { seq: number; hash: string; signature: string } }).find((line) => line.msg === 'audit checkpoint');
      expect(logLine?.auditCheckpoint).to.deep.include({ seq: head.seq, hash: head.hash });
      expect(logLine!.auditCheckpoint!.signature).to.match(/^[0-9a-f]{64}$/);

      expect(await checkpointObjects()).to.deep.equal([checkpointKey(head.seq as number)]);
      expect(await ctx.services.audit.checkpoint(), 'nothing new: nothing written').to.deep.equal({ written: false, seq: head.seq });

      // Write-once: a second checkpoint of the same seq leaves the first untouched.
      const store = createCheckpointStore({ store: ctx.services.core.objectStore, keys: deriveAuditKeys(ctx.services.core.secrets.auditHmacKey), logger: testLogger(), lockMode: 'compliance', retentionMonths: 12 });
      const [stored] = await store.list();
      const again = signCheckpoint(deriveAuditKeys(ctx.services.core.secrets.auditHmacKey), { seq: head.seq as number, hash: head.hash as string, mac: head.mac as string, headAt: new Date(0).toISOString(), at: new Date(0).toISOString() });
      expect((await store.write(again)).written).to.equal(false);
      expect(await store.list()).to.deep.equal([stored]);

      const verified = await ctx.services.audit.verifyChain();
      expect(verified).to.deep.include({ ok: true, lastSeq: head.seq });
      expect(verified.checkpoints).to.deep.include({ checked: 1, latestSeq: head.seq });
    });

    it('catches a failed logon turned into a success by someone with database access, at its seq', async () => {
      const failed = await api(ctx.baseUrl, 'POST', '/api/staff/login', { body: { username: csr.username, password: 'not the password' } });
      expect(failed.status).to.equal(401);
      const [failure] = (await ctx.services.audit.query({ action: 'staff.login', outcome: 'failure', resourceId: csr.id, page: 1, pageSize: 1 })).entries;
      for (let i = 0; i < 3; i += 1) await ctx.services.audit.record({ actor: system, action: 'customer.read', resource: { type: 'customer', id: `b${i}` }, outcome: 'success' });
      const checkpointed = await ctx.services.audit.checkpoint();
      expect(checkpointed.written).to.equal(true);
      for (let i = 0; i < 2; i += 1) await ctx.services.audit.record({ actor: system, action: 'customer.read', resource: { type: 'customer', id: `c${i}` }, outcome: 'success' });
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);

      const k = failure!.seq;
      const originals = await entries(ctx).find({ seq: { $gte: k } }).sort({ seq: 1 }).toArray();
      const forgeLogon = (doc: mongo.WithId<mongo.Document>) => {
        doc.outcome = 'success';
        doc.details = { sessionId: '000000000000000000000000', secondFactor: false };
      };
      await rewriteHistory(ctx, k, forgeLogon);
      // The plain hash chain is consistent again, which is all the unkeyed trail used to check.
      const rewritten = await entries(ctx).find({ seq: { $gte: k } }).sort({ seq: 1 }).toArray();
      for (const doc of rewritten) expect(entryHash(doc as unknown as ChainFields)).to.equal(doc.hash);

      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: k, reason: 'mac_mismatch' });
      expect(await verifyAuditChain(ctx.runtime)).to.deep.include({ ok: false, firstBrokenSeq: k });
      // And the checkpoint job refuses to sign the rewritten head.
      const objects = await checkpointObjects();
      const withheld = await ctx.services.audit.checkpoint();
      expect(withheld.written).to.equal(false);
      expect(withheld.withheld).to.deep.include({ firstBrokenSeq: checkpointed.seq, reason: 'mac_mismatch' });
      expect(await checkpointObjects()).to.deep.equal(objects);

      // An attacker who also stole AUDIT_HMAC_KEY recomputes the MACs too: the checkpoint in S3 still disagrees.
      await restore(ctx, originals);
      await rewriteHistory(ctx, k, forgeLogon, ctx.services.core.secrets.auditHmacKey);
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: checkpointed.seq, reason: 'checkpoint_mismatch' });

      await restore(ctx, originals);
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);
    });

    it('notices the newest entries deleted back past a checkpoint, and a forged checkpoint object', async () => {
      const latest = (await ctx.services.audit.verifyChain()).checkpoints!.latestSeq!;
      const originals = await entries(ctx).find({ seq: { $gte: latest } }).sort({ seq: 1 }).toArray();
      await entries(ctx).deleteMany({ seq: { $gte: latest } });
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: latest, reason: 'truncated' });
      await restore(ctx, originals);
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);

      // A checkpoint that someone with S3 access (but not the key) wrote.
      const head = (await entries(ctx).find({}).sort({ seq: -1 }).limit(1).toArray())[0]!;
      const forged = signCheckpoint(deriveAuditKeys('a key that is not the audit key, 32+ chars'), { seq: head.seq as number, hash: head.hash as string, mac: head.mac as string, headAt: new Date().toISOString(), at: new Date().toISOString() });
      await ctx.services.core.objectStore.put(checkpointKey(head.seq as number), JSON.stringify(forged));
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: head.seq, reason: 'checkpoint_invalid' });
      await ctx.services.core.objectStore.delete(checkpointKey(head.seq as number));
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);
    });
  });

  describe('retention', () => {
    let ctx: TestContext;
    const time = movableClock(Date.parse('2031-01-10T12:00:00Z'));
    before(async () => {
      ctx = await createTestContext({ clock: time.clock });
    });
    after(async () => ctx?.close());

    it('purges only entries older than the retention period and still verifies afterwards', async () => {
      const record = (id: string) => ctx.services.audit.record({ actor: system, action: 'recording.play', resource: { type: 'recording', id }, outcome: 'success' });
      for (let i = 0; i < 5; i += 1) await record(`old-${i}`);
      time.set(Date.parse('2031-06-01T00:00:00Z'));
      for (let i = 0; i < 3; i += 1) await record(`mid-${i}`);
      time.set(Date.parse('2032-03-01T00:00:00Z'));
      await record('new-0');

      // A signed checkpoint of the head (seq 9) before the purge.
      expect(await ctx.services.audit.checkpoint()).to.deep.include({ written: true, seq: 9 });

      // 12 months before 2032-03-01 is 2031-03-01: entries from June 2031 must stay.
      expect(ctx.services.audit.retentionCutoff().toISOString()).to.equal('2031-03-01T00:00:00.000Z');
      let refused: { code?: string } | undefined;
      await ctx.services.audit.purgeOlderThan(new Date('2031-07-01T00:00:00Z')).catch((error: { code?: string }) => (refused = error));
      expect(refused?.code).to.equal('audit.retention');
      expect(await entries(ctx).countDocuments()).to.equal(9);

      const purge = await ctx.services.audit.purgeOlderThan(new Date('2031-02-01T00:00:00Z'));
      expect(purge).to.deep.equal({ purged: 5, firstKeptSeq: 6, markerSeq: 10 });
      expect(await entries(ctx).countDocuments({ 'resource.id': /^old-/ })).to.equal(0);
      expect(await entries(ctx).countDocuments({ 'resource.id': /^mid-/ })).to.equal(3);
      const verified = await ctx.services.audit.verifyChain();
      expect(verified).to.deep.include({ ok: true, checked: 5, firstSeq: 6, lastSeq: 10 });
      expect(verified.checkpoints).to.deep.include({ checked: 1, latestSeq: 9 });
      // The checkpoint job picks up from its last checkpoint and signs the purge marker.
      expect(await ctx.services.audit.checkpoint()).to.deep.include({ written: true, seq: 10 });
      const [marker] = (await ctx.services.audit.query({ action: 'audit.purge', page: 1, pageSize: 1 })).entries;
      expect(marker!.details).to.deep.include({ purgedCount: 5, firstKeptSeq: 6, purgedFromSeq: 1 });

      // The purge record anchors only the entry it names: deleting one more is noticed.
      const sixth = (await entries(ctx).findOne({ seq: 6 }))!;
      await entries(ctx).deleteOne({ seq: 6 });
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: 7, reason: 'unanchored_start' });
      await entries(ctx).insertOne(sixth);
      // And the purge record itself is covered by the chain.
      await entries(ctx).updateOne({ seq: 10 }, { $set: { 'details.firstKeptSeq': 7 } });
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(false);
      await entries(ctx).updateOne({ seq: 10 }, { $set: { 'details.firstKeptSeq': 6 } });
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);
    });

    it('survives a second purge, keeping the newest entry when everything is old', async () => {
      time.set(Date.parse('2034-01-01T00:00:00Z'));
      const purge = await ctx.services.audit.purgeOlderThan(new Date('2032-12-31T00:00:00Z'));
      expect(purge.purged).to.equal(4);
      expect(purge.firstKeptSeq).to.equal(10);
      const verified = await ctx.services.audit.verifyChain();
      // Checkpoints of purged entries (seq 9) are skipped; the one of seq 10 still binds.
      expect(verified).to.deep.include({ ok: true, firstSeq: 10, lastSeq: 11, checked: 2 });
      expect(verified.checkpoints).to.deep.include({ checked: 2, latestSeq: 10 });
      expect(await ctx.services.audit.checkpoint()).to.deep.include({ written: true, seq: 11 });

      // A rewrite of the kept entries after the purge is still caught at its seq.
      const originals = await entries(ctx).find({ seq: { $gte: 10 } }).sort({ seq: 1 }).toArray();
      await rewriteHistory(ctx, 10, (doc) => void (doc.details = { ...(doc.details as object), purgedCount: 1 }));
      expect(await ctx.services.audit.verifyChain()).to.deep.include({ ok: false, firstBrokenSeq: 10, reason: 'mac_mismatch' });
      await restore(ctx, originals);
      expect((await ctx.services.audit.verifyChain()).ok).to.equal(true);
    });
  });
});
