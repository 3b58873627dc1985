import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * A modal dialog on the native <dialog> element: the browser traps focus, Esc closes it, and the
 * page behind is inert. Focus returns to what had it before.
 */
export function Dialog(props: { open: boolean; title: string; onClose: () => void; children: ComponentChildren; describedBy?: string; role?: 'dialog' | 'alertdialog'; class?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const returnFocus = useRef<Element | null>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      returnFocus.current = document.activeElement;
      dialog.showModal();
    } else if (!props.open && dialog.open) {
      dialog.close();
      (returnFocus.current as HTMLElement | null)?.focus?.();
    }
  }, [props.open]);
  const titleId = `dialog-title-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog
      ref={ref}
      class={`dialog ${props.class ?? ''}`}
      role={props.role}
      aria-labelledby={titleId}
      aria-describedby={props.describedBy}
      onCancel={(event) => {
        event.preventDefault();
        props.onClose();
      }}
    >
      {props.open ? (
        <>
          <h2 id={titleId} class="dialog__title">
            {props.title}
          </h2>
          {props.children}
        </>
      ) : null}
    </dialog>
  );
}
