import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { AppError } from '../../platform/errors.ts';
import { waitingRoomStatsSchema, waitingRoomStatusSchema } from '../../api/waiting-room/schema.ts';
import { createWaitingRoomService, type WaitingRoomService } from '../../api/waiting-room/service.ts';
import { deleteKeys } from '../../platform/redis-keys.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'test-secret-0123456789abcdef0123456789abcdef';

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  await deleteKeys(redis, `${prefix}*`);
}

function expectAppErrorSync(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(AppError);
    expect((error as AppError).code).to.equal(code);
    return;
  }
  expect.fail(`expected ${code}`);
}

async function expectAppError(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(AppError);
    expect((error as AppError).code).to.equal(code);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe('waiting room service (Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let now: Date;
  let rooms: WaitingRoomService;
  const opensAt = new Date('2026-03-01T09:00:00.000Z');
  const at = (ms: number) => new Date(opensAt.getTime() + ms);

  before(() => {
    redis = new Redis(REDIS_URL);
  });
  after(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    prefix = `test:${randomUUID()}:`;
    now = at(-60_000);
    rooms = createWaitingRoomService({ redis, prefix, clock: () => now, secret: SECRET, admissionTtlMs: 60_000 });
  });
  afterEach(async () => {
    await deletePrefix(redis, prefix);
  });

  it('places early arrivals by lottery: distinct positions, not arrival order', async () => {
    await rooms.openRoom({ roomId: 'launch', opensAt, admitPerSecond: 10 });
    const early = Array.from({ length: 200 }, (_, i) => `early-${String(i).padStart(3, '0')}`);
    for (const [i, visitor] of early.entries()) {
      now = at(-60_000 + i * 100);
      const status = await rooms.join('launch', visitor);
      expect(status).to.deep.include({ state: 'not_open', position: null, aheadOfYou: null });
      expect(waitingRoomStatusSchema.parse(status)).to.deep.equal(status);
    }
    now = at(0);
    const positions = await Promise.all(early.map(async (v) => (await rooms.status('launch', v)).position as number));
    expect([...positions].sort((a, b) => a - b)).to.deep.equal(early.map((_, i) => i + 1));
    // Under arrival order, position i+1 for visitor i. A random permutation of 200 keeps about one
    // fixed point and has a rank correlation near 0 (sd ~0.07); arrival order would give 1.
    const fixedPoints = positions.filter((p, i) => p === i + 1).length;
    expect(fixedPoints).to.be.lessThan(10);
    expect(Math.abs(spearman(positions))).to.be.lessThan(0.4);
  });

  it('keeps a place when joining twice, and queues late arrivals behind early ones in arrival order', async () => {
    await rooms.openRoom({ roomId: 'launch', opensAt, admitPerSecond: 1 });
    for (const v of ['e1', 'e2', 'e3']) await rooms.join('launch', v);
    now = at(0);
    const before = (await rooms.status('launch', 'e2')).position;
    await rooms.join('launch', 'e2');
    expect((await rooms.status('launch', 'e2')).position).to.equal(before);

    const late = ['l1', 'l2', 'l3', 'l4'];
    for (const [i, v] of late.entries()) {
      now = at(100 + i);
      const status = await rooms.join('launch', v);
      expect(status.position).to.equal(4 + i);
    }
    expect((await rooms.join('launch', 'l2')).position).to.equal(5);
    // An early visitor who comes back after opening keeps the lottery place.
    expect((await rooms.join('launch', 'e1')).position).to.be.at.most(3);
    expect(await rooms.roomStats('launch')).to.deep.include({ joined: 7, earlyArrivals: 3 });
  });

  it('admits at the configured rate from opensAt, with an honest wait estimate', async () => {
    await rooms.openRoom({ roomId: 'launch', opensAt, admitPerSecond: 2 });
    now = at(0);
    for (let i = 1; i <= 10; i += 1) await rooms.join('launch', `v${i}`);

    expect(await rooms.status('launch', 'v1')).to.deep.include({ state: 'waiting', position: 1, aheadOfYou: 0, estimatedWaitSeconds: 1 });
    const waiting = await rooms.status('launch', 'v10');
    expect(waiting).to.deep.include({ state: 'waiting', position: 10, aheadOfYou: 9, estimatedWaitSeconds: 5 });
    expect(waiting).not.to.have.property('admissionToken');

    now = at(499);
    expect((await rooms.status('launch', 'v1')).state).to.equal('waiting');
    now = at(500);
    const admitted = await rooms.status('launch', 'v1');
    expect(admitted).to.deep.include({ state: 'admitted', position: 1, aheadOfYou: 0, estimatedWaitSeconds: 0 });
    expect(admitted.admissionToken).to.be.a('string');
    expect(waitingRoomStatusSchema.parse(admitted)).to.deep.equal(admitted);

    now = at(2_600); // floor(2.6 * 2) = 5 admitted
    expect((await rooms.status('launch', 'v5')).state).to.equal('admitted');
    expect(await rooms.status('launch', 'v6')).to.deep.include({ state: 'waiting', aheadOfYou: 0, estimatedWaitSeconds: 1 });
    expect(await rooms.status('launch', 'v10')).to.deep.include({ state: 'waiting', aheadOfYou: 4, estimatedWaitSeconds: 3 });
    const stats = await rooms.roomStats('launch');
    expect(waitingRoomStatsSchema.parse(stats)).to.deep.equal(stats);
    expect(stats).to.deep.include({ open: true, joined: 10, admitted: 5, waiting: 5, earlyArrivals: 0, admitPerSecond: 2 });

    now = at(5_000);
    expect((await rooms.status('launch', 'v10')).state).to.equal('admitted');
    // Latecomers after the front has passed them are admitted at once.
    now = at(60_000);
    expect((await rooms.join('launch', 'late')).state).to.equal('admitted');
    expect(await rooms.roomStats('launch')).to.deep.include({ joined: 11, admitted: 11, waiting: 0 });
  });

  it('counts down to the opening and reports unknown visitors and rooms', async () => {
    await rooms.openRoom({ roomId: 'launch', opensAt, admitPerSecond: 5 });
    now = at(-90_500);
    expect(await rooms.join('launch', 'v1')).to.deep.include({ state: 'not_open', estimatedWaitSeconds: 91, opensAt: opensAt.toISOString() });
    expect(await rooms.status('launch', 'nobody')).to.deep.include({ state: 'unknown', position: null });
    expect(await rooms.status('no-such-room', 'v1')).to.deep.include({ state: 'unknown', opensAt: null });
    await expectAppError(rooms.join('no-such-room', 'v1'), 'waiting_room.not_found');
    await expectAppError(rooms.roomStats('no-such-room'), 'waiting_room.not_found');
  });

  it('can be rescheduled before opening but not after', async () => {
    await rooms.openRoom({ roomId: 'launch', opensAt, admitPerSecond: 5 });
    await rooms.openRoom({ roomId: 'launch', opensAt, admitPerSecond: 5 });
    await rooms.openRoom({ roomId: 'launch', opensAt: at(60_000), admitPerSecond: 5 });
    expect((await rooms.roomStats('launch')).opensAt).to.equal(at(60_000).toISOString());
    now = at(60_000);
    await expectAppError(rooms.openRoom({ roomId: 'launch', opensAt: at(120_000), admitPerSecond: 5 }), 'waiting_room.already_open');
    await expectAppError(rooms.openRoom({ roomId: 'bad room', opensAt, admitPerSecond: 5 }), 'validation_failed');
    await expectAppError(rooms.openRoom({ roomId: 'x', opensAt, admitPerSecond: 0 }), 'validation_failed');
  });

  it('verifies admission tokens and rejects forgeries, other rooms and expired tokens', async () => {
    await rooms.openRoom({ roomId: 'launch', opensAt, admitPerSecond: 100 });
    await rooms.openRoom({ roomId: 'other', opensAt, admitPerSecond: 100 });
    now = at(0);
    await rooms.join('launch', 'alice');
    now = at(1_000);
    const token = (await rooms.status('launch', 'alice')).admissionToken as string;

    const claims = rooms.verifyAdmission('launch', token, { visitorId: 'alice' });
    expect(claims).to.deep.equal({ roomId: 'launch', visitorId: 'alice', expiresAt: at(61_000) });

    // A service with the same secret (another API instance) accepts it.
    const peer = createWaitingRoomService({ redis, prefix, clock: () => now, secret: SECRET });
    expect(peer.verifyAdmission('launch', token).visitorId).to.equal('alice');

    const [payload, signature] = token.split('.') as [string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ c: { roomId: 'launch', visitorId: 'mallory' }, x: at(999_999).getTime() })).toString('base64url');
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    for (const bad of [`${forgedPayload}.${signature}`, `${payload}.${flipped}`, payload, `${payload}.`, '', 'a.b.c', `${payload}.${signature}x`]) {
      expectAppErrorSync(() => rooms.verifyAdmission('launch', bad), 'waiting_room.admission_invalid');
    }
    const impostor = createWaitingRoomService({ redis, prefix, clock: () => now, secret: 'another-secret-0123456789abcdef0123456789' });
    const impostorToken = (await impostor.status('launch', 'alice')).admissionToken as string;
    expectAppErrorSync(() => rooms.verifyAdmission('launch', impostorToken), 'waiting_room.admission_invalid');
    expectAppErrorSync(() => rooms.verifyAdmission('other', token), 'waiting_room.admission_invalid');
    expectAppErrorSync(() => rooms.verifyAdmission('launch', token, { visitorId: 'bob' }), 'waiting_room.admission_invalid');

    now = at(61_000);
    expectAppErrorSync(() => rooms.verifyAdmission('launch', token), 'waiting_room.admission_expired');
    // Polling again refreshes it.
    const fresh = (await rooms.status('launch', 'alice')).admissionToken as string;
    expect(rooms.verifyAdmission('launch', fresh).expiresAt).to.deep.equal(at(121_000));

  });

  it('refuses a short secret and cleans up on close', async () => {
    expect(() => createWaitingRoomService({ redis, prefix, secret: 'short' })).to.throw(/32 bytes/);
    await rooms.openRoom({ roomId: 'launch', opensAt, admitPerSecond: 1 });
    await rooms.join('launch', 'v1');
    expect(await redis.pttl(`${prefix}wr:{launch}:queue`)).to.be.greaterThan(0);
    await rooms.closeRoom('launch');
    expect(await redis.exists(`${prefix}wr:{launch}:meta`, `${prefix}wr:{launch}:queue`)).to.equal(0);
  });
});

/** Spearman rank correlation between arrival index and position (positions are a permutation of 1..n). */
function spearman(positions: number[]): number {
  const n = positions.length;
  const sumD2 = positions.reduce((sum, p, i) => sum + (p - (i + 1)) ** 2, 0);
  return 1 - (6 * sumD2) / (n * (n * n - 1));
}
