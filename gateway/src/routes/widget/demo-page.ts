/** The demo at `/`: an ordinary intranet page with the widget embedded, and the snippet to copy. */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export interface DemoPageOptions {
  scriptSrc: string;
  apiBase: string;
  chatUrl: string;
  version: string | null;
}

export function demoPage({ scriptSrc, apiBase, chatUrl, version }: DemoPageOptions): string {
  // Embedders get the stable name (revalidated, so they follow new builds); this page itself
  // loads the hashed one.
  const snippet =
    `<script type="module" src="/widget/rattg-widget.js"></script>\n` +
    `<rattg-widget api-base="${apiBase}" chat-url="${chatUrl}"></rattg-widget>`;
  const e = escapeHtml;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Team intranet · Documents – rattgllm</title>
<script type="module" src="${e(scriptSrc)}"></script>
<style>
  :root { color-scheme: light dark; --page-bg: #eef1f5; --page-text: #1b1f24; --card: #fff; --code-bg: #f6f8fa; --code-border: #d0d7de; --muted: #57606a; }
  @media (prefers-color-scheme: dark) {
    :root { --page-bg: #0d1117; --page-text: #e6edf3; --card: #161b22; --code-bg: #0d1117; --code-border: #30363d; --muted: #8b949e; }
  }
  body { margin: 0; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--page-text); background: var(--page-bg); }
  .top { background: #24292f; color: #fff; padding: 0.7em 1.5em; display: flex; flex-wrap: wrap; gap: 0.4em 1.5em; align-items: center; }
  .top a { color: #fff; text-decoration: none; }
  .top a:focus-visible, main a:focus-visible { outline: 2px solid #8cb4ff; outline-offset: 2px; }
  .top .brand { font-weight: 700; }
  /* minmax(0, 1fr): a wide <pre> scrolls inside its card instead of widening the page. */
  main { max-width: 1100px; margin: 0 auto; padding: 1.5em; display: grid; grid-template-columns: minmax(0, 1fr); gap: 1.5em; }
  .card { background: var(--card); border-radius: 8px; padding: 1em 1.5em; box-shadow: 0 1px 3px rgba(0,0,0,.08); overflow-wrap: break-word; }
  main a { color: #4b8eef; }
  pre { background: var(--code-bg); border: 1px solid var(--code-border); border-radius: 6px; padding: 0.8em; overflow: auto; }
  rattg-widget { min-height: 20em; }
  footer { text-align: center; color: var(--muted); font-size: 0.85em; padding: 1em; }
  footer a { color: inherit; }
  @media (max-width: 600px) {
    .top { padding: 0.6em 0.8em; }
    main { padding: 0.6em; gap: 0.8em; }
    .card { padding: 0.6em 0.9em; }
    h1 { font-size: 1.5em; }
  }
</style>
</head>
<body>
<nav class="top" aria-label="Intranet">
  <span class="brand">Acme intranet</span>
  <a href="#">News</a>
  <a href="#">People</a>
  <a href="#" aria-current="page">Documents</a>
  <a href="${e(chatUrl)}" target="_blank" rel="noopener">Chat with your documents</a>
</nav>
<main>
  <section class="card" aria-labelledby="intro">
    <h1 id="intro">Team documents</h1>
    <p>Sign in, drop files, watch them become searchable, then search and read the sources.
    To ask questions about them, <a href="${e(chatUrl)}" target="_blank" rel="noopener">open the chat</a>.</p>
  </section>
  <rattg-widget api-base="${e(apiBase)}" chat-url="${e(chatUrl)}"></rattg-widget>
  <section class="card" aria-labelledby="embed">
    <h2 id="embed">Put this on your own page</h2>
    <p>Everything above is one tag. Copy these two lines into any page served from this site:</p>
    <pre><code id="snippet">${e(snippet)}</code></pre>
    <p>Restyle it with CSS custom properties (<code>--rattg-color-primary</code>, <code>--rattg-font</code>, …)
    and <code>::part()</code>. Attributes: <code>api-base</code>, <code>token-storage</code>
    (<code>session</code>, <code>local</code>, <code>memory</code>), <code>chat-url</code>.</p>
  </section>
</main>
<footer>rattgllm${version ? ` widget ${e(version)}` : ''} · <a href="/docs">API documentation</a></footer>
</body>
</html>
`;
}
