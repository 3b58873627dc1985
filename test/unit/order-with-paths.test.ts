import { expect } from 'chai';
import { withPaths } from '../../api/orders/service.ts';

describe('orders: applying $set paths to the order a transition read', () => {
  it('sets dotted paths on copies, leaving the read order and its other fields alone', () => {
    const placedAt = new Date('2026-11-01T10:00:00Z');
    const read = { _id: 'o1', status: 'payment_pending', placedAt, payment: { brand: 'visa', last4: '4242', authId: null as string | null }, fraud: null };
    const updated = withPaths(read, { 'payment.authId': 'auth_1', 'fraud.reviewedBy': 'staff:9', status: 'paid' });
    expect(updated).to.deep.equal({ _id: 'o1', status: 'paid', placedAt, payment: { brand: 'visa', last4: '4242', authId: 'auth_1' }, fraud: { reviewedBy: 'staff:9' } });
    expect(read.payment.authId).to.equal(null);
    expect(read.status).to.equal('payment_pending');
    expect(updated.placedAt).to.equal(placedAt);
  });

});
