import type { ChatTopic, DispositionCode } from '../../../../api/console-contract/tasks.ts';

export const DISPOSITION_LABELS: Record<DispositionCode, string> = {
  resolved: 'Resolved',
  follow_up: 'Needs follow-up',
  order_status_given: 'Order status given',
  escalated: 'Escalated',
  transferred: 'Transferred',
  no_response: 'Customer stopped responding',
  callback_completed: 'Callback completed',
  callback_unreachable: 'Callback: unreachable',
  fraud_approved: 'Fraud review: approved',
  fraud_declined: 'Fraud review: declined',
  other: 'Other',
};

export const TOPIC_LABELS: Record<ChatTopic, string> = {
  order: 'An order',
  product: 'A product',
  subscription: 'A subscription',
  account: 'My account',
  other: 'Something else',
};
