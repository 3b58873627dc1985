import { useState } from 'preact/hooks';
import type { FieldIssue } from '../../../platform/errors.ts';
import { summaryHeading } from '../components/fields.tsx';
import { placeIssues, type FieldErrors, type FormField } from './wording.ts';

export interface FormErrors {
  errors: FieldErrors;
  summary: { message: string; unplaced: string[] } | null;
  /** Changes on every failed submit (moves focus to the first problem). */
  focusKey: number;
  /** Shows the issues in shopper words next to their fields; `fallback` heads the summary when none has a field. */
  show(issues: readonly FieldIssue[], fallback: string): void;
  clear(): void;
}

/** The error state of one form: each field's message and the summary above the form. */
export function useFormErrors(fields: readonly FormField[], valueOf: (id: string) => unknown): FormErrors {
  const [errors, setErrors] = useState<FieldErrors>({});
  const [summary, setSummary] = useState<FormErrors['summary']>(null);
  const [focusKey, setFocusKey] = useState(0);
  return {
    errors,
    summary,
    focusKey,
    show(issues, fallback) {
      const placed = placeIssues(issues, fields, valueOf);
      const count = Object.keys(placed.errors).length;
      setErrors(placed.errors);
      setSummary({ message: summaryHeading(count, placed.unplaced.length, fallback), unplaced: count ? placed.unplaced : [] });
      setFocusKey((key) => key + 1);
    },
    clear() {
      setErrors({});
      setSummary(null);
    },
  };
}
