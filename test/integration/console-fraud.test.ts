import { expect } from 'chai';
import { attachConsoleSockets, type ConsoleSockets } from '../../agent-console/server.ts';
import type { FraudReviewDetail } from '../../api/console-contract/fraud.ts';
import type { Task } from '../../api/console-contract/tasks.ts';
import { startWorkers, type RunningWorkers } from '../../workers/start.ts';
import { createProduct } from '../support/fixtures.ts';
import { createTestContext, type TestContext } from '../support/infra.ts';
import { placeWebOrder, uniqueShopper, waitForStatus } from '../support/order-flow.ts';
import { signedIn, type ConsoleAgent } from './console-support.ts';

/** AVS no match (25) + total over $2,500 (10) and over $10,000 (20): 55, above the review threshold of 50. */
const AVS_MISMATCH_CARD = '4000000000000010';

describe('console: fraud review tasks for analysts', function () {
  this.timeout(180_000);
  let ctx: TestContext;
  let sockets: ConsoleSockets;
  let workers: RunningWorkers;
  let bullion: string;
  const desks: ConsoleAgent[] = [];

  before(async () => {
    ctx = await createTestContext();
    sockets = attachConsoleSockets(ctx.server, ctx.services, { routing: { intervalMs: 200 } });
    workers = await startWorkers(ctx.runtime);
    bullion = (await createProduct(ctx.services, { totalStock: 20, priceCents: 1_000_000, name: 'Gold bar' })).sku;
  });
  after(async () => {
    for (const desk of desks) desk.desk.close();
    expect(sockets?.emitter.invalidCount()).to.equal(0);
    await workers?.close();
    await sockets?.close();
    await ctx?.close();
  });

  async function heldOrder() {
    const placed = await placeWebOrder(ctx, uniqueShopper({ cardNumber: AVS_MISMATCH_CARD }), [{ sku: bullion, quantity: 1 }]);
    const order = await waitForStatus(ctx, placed.body.orderNumber, 'fraud_review');
    return { orderNumber: placed.body.orderNumber as string, order };
  }

  it('routes a held order to an available analyst, shows score, rules, facts and velocity, and an approval sends it on to payment', async () => {
    const csr = await signedIn(ctx, 'csr', '/agent');
    const analyst = await signedIn(ctx, 'fraud_analyst', '/fraud');
    desks.push(csr, analyst);
    const { orderNumber, order } = await heldOrder();

    const offer = await analyst.desk.next<{ task: Task }>('task:offered', (o) => o.task.summary.channel === 'fraud_review' && 'orderNumber' in o.task.summary && o.task.summary.orderNumber === orderNumber, 30_000);
    expect(offer.task).to.deep.include({ channel: 'fraud_review', state: 'offered', priority: 5 });
    const early = await analyst.desk.askRaw('fraud:detail', { taskId: offer.task.id });
    expect(early.ok ? 'shown' : early.error.code, 'the review opens once the task is accepted').to.equal('tasks.not_yours');
    await analyst.desk.ask('task:accept', { taskId: offer.task.id });

    const detail = await analyst.desk.ask<FraudReviewDetail>('fraud:detail', { taskId: offer.task.id });
    expect(detail).to.deep.include({ orderNumber, score: 55, reviewThreshold: 50, status: 'fraud_review' });
    expect(detail.fired.map((f) => f.ruleId)).to.have.members(['order-value-high', 'order-value-very-high', 'avs-no-match']);
    expect(detail.fired.find((f) => f.ruleId === 'avs-no-match')!.explanation).to.equal('Address verification: no match');
    expect(detail.payment).to.deep.equal({ brand: 'visa', last4: '0010', avs: 'mismatch', cvvCheck: 'match' });
    expect(detail.velocity.length, 'velocity counts from the fraud check').to.be.greaterThan(0);
    expect(detail.velocity.every((v) => v.count >= 1)).to.equal(true);
    expect(JSON.stringify(detail)).not.to.contain(AVS_MISMATCH_CARD);
    // The CSR's desk never heard of the review.
    expect(JSON.stringify(csr.desk.events)).not.to.contain(orderNumber);

    const decided = await analyst.desk.ask<{ task: Task; detail: FraudReviewDetail }>('fraud:decide', { taskId: offer.task.id, decision: 'approve', note: 'Called the customer; known collector.' });
    expect(decided.task.state).to.equal('wrapping_up');
    expect(decided.detail.review).to.deep.include({ decision: 'approved', reviewedBy: analyst.user.username });
    const paid = await waitForStatus(ctx, orderNumber, 'paid');
    expect(paid.statusHistory.map((h) => h.to)).to.deep.equal(['pending_fraud_check', 'fraud_review', 'payment_pending', 'paid']);
    const wrapped = await analyst.desk.ask<Task>('task:wrap-up', { taskId: offer.task.id, disposition: 'fraud_approved', notes: '' });
    expect(wrapped.state).to.equal('completed');

    const audited = await ctx.services.audit.query({ action: 'fraud.review_decision', resourceId: order._id, page: 1, pageSize: 5 });
    expect(audited.entries.map((e) => e.actor.username)).to.deep.equal([analyst.user.username]);
    expect((await ctx.services.audit.query({ action: 'fraud.review_read', resourceId: order._id, page: 1, pageSize: 5 })).total).to.be.greaterThan(0);
  });

  it('cancels a review task nobody has taken when the order is decided elsewhere', async () => {
    const analyst = desks.find((d) => d.user.role === 'fraud_analyst')!;
    await analyst.desk.ask('presence:set', { presence: 'break' });
    const { orderNumber } = await heldOrder();
    const [task] = await ctx.services.tasks.list({ channel: 'fraud_review' }).then((all) => all.filter((t) => 'orderNumber' in t.summary && t.summary.orderNumber === orderNumber));
    expect(task, 'the review became a task').to.not.equal(undefined);
    const principal = { type: 'staff' as const, staffUserId: analyst.user.id, username: analyst.user.username, role: 'fraud_analyst' as const, sessionId: 's', ip: undefined };
    await ctx.services.fraud.decide(principal, orderNumber, { decision: 'decline', note: 'Issuer confirmed the card was stolen.' });
    const ended = await waitForTaskState(task!.id, 'cancelled');
    expect(ended.state).to.equal('cancelled');
  });

  async function waitForTaskState(taskId: string, state: string): Promise<Task> {
    for (let i = 0; i < 300; i += 1) {
      const task = await ctx.services.tasks.get(taskId);
      if (task.state === state) return task;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`task ${taskId} did not become ${state}`);
  }
});
