import { LitElement, html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { ApiError, type ApiClient, type DependencyStatus, type Readiness } from '../../lib/api.js';
import { sharedStyles, statusListStyles } from '../../styles/shared.styles.js';
import { systemStatusStyles } from './system-status.styles.js';

/** Names a person knows; a dependency the gateway adds later is shown under its own name. */
const NAMES: Record<string, string> = {
  postgres: 'Database (PostgreSQL)',
  qdrant: 'Search index (Qdrant)',
  embedder: 'Embedding model',
  chat: 'Chat model',
  ingestor: 'Ingestor (document processing)',
};
/** Fixed order, so the list does not jump between refreshes; unknown names follow. */
const ORDER = Object.keys(NAMES);

/** Words and a symbol beside the colour: the state is never told by colour alone. */
const WORDS: Record<DependencyStatus, { word: string; icon: string }> = {
  ok: { word: 'OK', icon: '✓' },
  degraded: { word: 'Degraded', icon: '!' },
  down: { word: 'Down', icon: '✕' },
};

const OVERALL: Record<Readiness['status'], string> = {
  ok: 'Everything is working.',
  degraded: 'Working, but not everything: see below.',
  unavailable: 'The server cannot serve requests: the database is down or not migrated.',
};

/**
 * System status for admins: the gateway's `GET /ready`, each dependency with its state and, when
 * not ok, why. Loaded when it gets a client and again on Refresh (no polling: a person looks).
 *
 * @csspart status - The list of dependencies.
 * @csspart state - One dependency's state (word, symbol and colour).
 */
export class RattgSystemStatus extends LitElement {
  static override styles = [sharedStyles, statusListStyles, systemStatusStyles];

  @property({ attribute: false }) accessor client: ApiClient | null = null;

  @state() accessor report: Readiness | null = null;
  @state() accessor checkedAt: Date | null = null;
  @state() accessor loading = false;
  @state() accessor error = '';

  override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('client') && this.client) void this.refresh();
  }

  async refresh(): Promise<void> {
    if (!this.client || this.loading) return;
    this.loading = true;
    this.error = '';
    try {
      this.report = await this.client.ready();
      this.checkedAt = new Date();
    } catch (err) {
      this.error = err instanceof ApiError ? err.message : 'Could not read the system status';
    } finally {
      this.loading = false;
    }
  }

  private entries(): [string, Readiness['checks'][string]][] {
    const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
    return Object.entries(this.report?.checks ?? {}).sort(
      ([a], [b]) => rank(a) - rank(b) || a.localeCompare(b),
    );
  }

  override render() {
    const report = this.report;
    return html`<section aria-labelledby="status-title" aria-busy=${this.loading ? 'true' : 'false'}>
      <div class="head">
        <h2 id="status-title">System status</h2>
        <button type="button" @click=${() => this.refresh()} ?disabled=${this.loading}>
          ${this.loading ? 'Checking…' : 'Refresh'}
        </button>
      </div>
      <div class="error" role="alert">${this.error}</div>
      ${
        report
          ? html`<p class="overall" data-status=${report.status} role="status">
                ${OVERALL[report.status] ?? report.status}
                ${
                  this.checkedAt
                    ? html`<span class="muted">Checked ${this.checkedAt.toLocaleTimeString()}.</span>`
                    : nothing
                }
              </p>
              <ul part="status">
                ${this.entries().map(([name, check]) => {
                  const words = WORDS[check.status] ?? { word: check.status, icon: '?' };
                  return html`<li data-dependency=${name} data-status=${check.status}>
                    <span class="name">${NAMES[name] ?? name}</span>
                    <span class="state" part="state"
                      ><span aria-hidden="true">${words.icon}</span> ${words.word}</span
                    >
                    ${check.reason ? html`<span class="reason">${check.reason}</span>` : nothing}
                  </li>`;
                })}
              </ul>`
          : this.loading
            ? html`<p class="muted">Checking…</p>`
            : nothing
      }
    </section>`;
  }
}
