import type { ComponentChildren, Ref } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { FieldErrors } from '../lib/wording.ts';

/**
 * Form controls with their label, hint and error, wired for assistive technology: an invalid
 * control has aria-invalid and is described by its error. No control has a `name`: should the
 * script fail, a native submit carries nothing (a card number least of all) into a URL.
 */

export interface TextFieldProps {
  id: string;
  type?: 'text' | 'email' | 'tel' | 'password';
  autoComplete?: string;
  inputMode?: 'numeric' | 'text' | 'email' | 'tel';
  placeholder?: string;
  maxLength?: number;
  spellcheck?: boolean;
  label: ComponentChildren;
  value: string;
  onValue: (value: string) => void;
  error?: string | undefined;
  hint?: ComponentChildren;
  narrow?: boolean;
  multiline?: boolean;
}

export function TextField({ id, label, value, onValue, error, hint, narrow, multiline, type = 'text', autoComplete, inputMode, placeholder, maxLength, spellcheck }: TextFieldProps) {
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : undefined;
  const describedBy = [error ? errorId : undefined, hintId].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    value,
    autoComplete,
    maxLength,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': describedBy,
  };
  return (
    <div class={narrow ? 'field field--narrow' : 'field'}>
      <label for={id}>{label}</label>
      {multiline ? (
        <textarea {...common} rows={2} onInput={(event) => onValue(event.currentTarget.value)} />
      ) : (
        // Preact's input typings are a union keyed by `type`; each of ours is a text-like type.
        <input {...common} type={type as 'text'} inputMode={inputMode} placeholder={placeholder} spellcheck={spellcheck} onInput={(event) => onValue(event.currentTarget.value)} />
      )}
      {hint ? (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p class="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export interface SelectFieldProps {
  id: string;
  label: ComponentChildren;
  value: string;
  onValue: (value: string) => void;
  options: readonly { value: string; label: string }[];
  error?: string | undefined;
  autoComplete?: string;
  narrow?: boolean;
}

export function SelectField({ id, label, value, onValue, options, error, autoComplete, narrow }: SelectFieldProps) {
  return (
    <div class={narrow === false ? 'field' : 'field field--narrow'}>
      <label for={id}>{label}</label>
      <select
        id={id}
        value={value}
        autoComplete={autoComplete}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(event) => onValue(event.currentTarget.value)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export interface CheckFieldProps {
  id: string;
  label: ComponentChildren;
  checked: boolean;
  onChecked: (checked: boolean) => void;
  error?: string | undefined;
}

export function CheckField({ id, label, checked, onChecked, error }: CheckFieldProps) {
  return (
    <div class="check">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(event) => onChecked(event.currentTarget.checked)}
      />
      <label for={id}>{label}</label>
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * The problems at the top of a form. `focusKey` changes on every submit that failed, which moves
 * focus to the first invalid field (or to this box when no field has one), as screen-reader and
 * keyboard users need to learn what happened.
 */
export function ErrorSummary({ id, message, unplaced = [], focusKey, errors, boxRef }: { id: string; message: string | null; unplaced?: string[]; focusKey: number; errors?: FieldErrors; boxRef?: Ref<HTMLDivElement> }) {
  const own = useRef<HTMLDivElement>(null);
  const box = (boxRef ?? own) as { current: HTMLDivElement | null };
  useEffect(() => {
    if (!focusKey || !message) return;
    const first = errors && Object.keys(errors).length ? box.current?.closest('form')?.querySelector<HTMLElement>('[aria-invalid="true"]') : null;
    (first ?? box.current)?.focus();
  }, [focusKey]);
  return (
    <div id={id} ref={box} class="alert alert--error" role="alert" tabIndex={-1} hidden={!message}>
      {message ? <p>{message}</p> : null}
      {unplaced.length ? (
        <ul>
          {unplaced.map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** The heading of an error summary: what to do, in one sentence. */
export function summaryHeading(fieldCount: number, unplacedCount: number, fallback: string): string {
  if (fieldCount === 0) return fallback;
  return unplacedCount ? 'Please check the highlighted fields and the notes below.' : 'Please check the highlighted fields.';
}
