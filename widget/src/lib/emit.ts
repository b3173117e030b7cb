/** Dispatch an event that bubbles and crosses shadow roots, as every rattg-* event does. */
export function emit<T>(target: EventTarget, name: string, detail: T): boolean {
  return target.dispatchEvent(
    new CustomEvent<T>(name, { detail, bubbles: true, composed: true, cancelable: false }),
  );
}
