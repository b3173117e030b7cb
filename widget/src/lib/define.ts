/** Register a custom element once; a second bundle or a second call on the page is harmless. */
export function define(name: string, ctor: CustomElementConstructor): void {
  if (!customElements.get(name)) customElements.define(name, ctor);
}
