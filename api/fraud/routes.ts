import { z } from 'zod';
import { staffPrincipal, type StaffGuard } from '../http/auth.ts';
import { StaffRouter } from '../http/staff-router.ts';
import { parseParams } from '../http/validate.ts';
import type { FraudService } from './service.ts';

export const FRAUD_STAFF_MOUNT = '/api/staff';

const OrderNumberParam = z.strictObject({ orderNumber: z.string().min(8).max(12) });

/**
 * Fraud analysts work the review queue (`fraud:review`); admins own the rules
 * (`fraud:rules_manage`) but do not decide cases. The service audits every read and decision.
 */
export function createFraudRoutes({ fraud, guard }: { fraud: FraudService; guard: StaffGuard }): StaffRouter {
  const staff = new StaffRouter(guard, FRAUD_STAFF_MOUNT);

  staff.get('/fraud/reviews', 'fraud:review', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await fraud.listReviews(staffPrincipal(req), req.query));
  });

  staff.get('/fraud/reviews/:orderNumber', 'fraud:review', async (req, res) => {
    const { orderNumber } = parseParams(OrderNumberParam, req);
    res.setHeader('Cache-Control', 'no-store');
    res.json(await fraud.getReview(staffPrincipal(req), orderNumber));
  });

  staff.post('/fraud/reviews/:orderNumber/decision', 'fraud:review', async (req, res) => {
    const { orderNumber } = parseParams(OrderNumberParam, req);
    res.json(await fraud.decide(staffPrincipal(req), orderNumber, req.body));
  });

  staff.get('/fraud/rules', 'fraud:rules_manage', async (_req, res) => {
    res.json(await fraud.ruleSets());
  });

  staff.put('/fraud/rules', 'fraud:rules_manage', async (req, res) => {
    res.json(await fraud.saveRuleSet(staffPrincipal(req), req.body));
  });

  return staff;
}
