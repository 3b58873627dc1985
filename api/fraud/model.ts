import { Schema, type Connection, type Model } from 'mongoose';
import { HIGH_RISK_TARGETS, type HighRiskTarget } from './rules-schema.ts';

/**
 * Fraud records. Every collection uses a natural `_id`, so uniqueness needs no secondary index to
 * exist first (FerretDB builds indexes lazily and has no transactions): two admins cannot both
 * save version n+1, and an email is on the high-risk list at most once.
 */

/** One immutable version of the rule set; the highest `_id` is active. */
export interface FraudRuleSetDoc {
  /** The version number. */
  _id: number;
  reviewThreshold: number;
  /** Validated by FraudRuleSetSchema on write and again on read. */
  rules: unknown[];
  createdAt: Date;
  /** `system:default` for the seeded set, else `staff:<username>`. */
  createdBy: string;
}

/**
 * A confirmed-fraud email or shipping address, as a keyed hash only (api/fraud/high-risk.ts).
 * Deliberately no customer or order id: the list matches values, it is not a list of people.
 */
export interface HighRiskEntryDoc {
  /** `${kind}:${hash}`. */
  _id: string;
  kind: HighRiskTarget;
  hash: string;
  addedAt: Date;
  addedBy: string;
  reason: 'review_declined';
}

/**
 * What the engine saw and decided for one order: with the order's facts (rebuilt from the order)
 * and the rule-set version, it replays the decision. Signals are counts and booleans, never
 * personal data.
 */
export interface FraudAssessmentDoc {
  /** The order id. */
  _id: string;
  ruleSetVersion: number;
  reviewThreshold: number;
  score: number;
  rawScore: number;
  decision: 'clear' | 'review';
  fired: { ruleId: string; kind: string; weight: number; explanation: string }[];
  unevaluated: { ruleId: string; kind: string; missing: string }[];
  signals: Record<string, unknown>;
  scoredAt: Date;
}

const ruleSetSchema = new Schema<FraudRuleSetDoc>(
  {
    _id: { type: Number, required: true },
    reviewThreshold: { type: Number, required: true },
    rules: { type: [Schema.Types.Mixed], required: true },
    createdAt: { type: Date, required: true },
    createdBy: { type: String, required: true },
  },
  { collection: 'fraud_rule_sets', versionKey: false },
);

const highRiskSchema = new Schema<HighRiskEntryDoc>(
  {
    _id: { type: String, required: true },
    kind: { type: String, enum: HIGH_RISK_TARGETS, required: true },
    hash: { type: String, required: true },
    addedAt: { type: Date, required: true },
    addedBy: { type: String, required: true },
    reason: { type: String, required: true },
  },
  { collection: 'fraud_high_risk', versionKey: false },
);

const assessmentSchema = new Schema<FraudAssessmentDoc>(
  {
    _id: { type: String, required: true },
    ruleSetVersion: { type: Number, required: true },
    reviewThreshold: { type: Number, required: true },
    score: { type: Number, required: true },
    rawScore: { type: Number, required: true },
    decision: { type: String, required: true },
    fired: { type: Schema.Types.Mixed, default: [] },
    unevaluated: { type: Schema.Types.Mixed, default: [] },
    signals: { type: Schema.Types.Mixed, default: {} },
    scoredAt: { type: Date, required: true },
  },
  { collection: 'fraud_assessments', versionKey: false, minimize: false },
);

export function fraudRuleSetModel(connection: Connection): Model<FraudRuleSetDoc> {
  return (connection.models.FraudRuleSet as Model<FraudRuleSetDoc> | undefined) ?? connection.model<FraudRuleSetDoc>('FraudRuleSet', ruleSetSchema);
}

export function highRiskEntryModel(connection: Connection): Model<HighRiskEntryDoc> {
  return (connection.models.HighRiskEntry as Model<HighRiskEntryDoc> | undefined) ?? connection.model<HighRiskEntryDoc>('HighRiskEntry', highRiskSchema);
}

export function fraudAssessmentModel(connection: Connection): Model<FraudAssessmentDoc> {
  return (connection.models.FraudAssessment as Model<FraudAssessmentDoc> | undefined) ?? connection.model<FraudAssessmentDoc>('FraudAssessment', assessmentSchema);
}
