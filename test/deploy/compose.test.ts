/**
 * docker-compose.yml and docker-compose.cpu.yml, checked without a Docker engine: against the
 * Compose specification's JSON schema (deploy/compose-spec.schema.json) and against the promises
 * of the deployment issue and docs/deployment.md.
 */
import AjvModule from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  composeDocument,
  interpolate,
  interpolateAll,
  parseCompose,
  parseEnvFile,
  read,
  undocumentedVariables,
  unpinnedImages,
  variablesUsed,
  type ComposeFile,
  type ComposeService,
} from './support.js';

const Ajv = AjvModule.default;

const composeText = read('docker-compose.yml');
const cpuText = read('docker-compose.cpu.yml');
const envExample = parseEnvFile(read('.env.example'));
const raw = parseCompose(composeText);
/** The file as `docker compose config` sees it with `.env` copied unchanged from .env.example. */
const compose = interpolateAll(raw, envExample.values) as ComposeFile;
const services = compose.services;

const ONE_SHOT = ['migrate', 'ollama-pull'];
const GPU_SERVICES = ['ollama', 'ingestor', 'docling'];
const longRunning = Object.keys(services).filter((s) => !ONE_SHOT.includes(s));

function envOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env))
    return Object.fromEntries(env.map((e) => e.split(/=(.*)/s).slice(0, 2) as [string, string]));
  return env;
}

function validator() {
  const schema = JSON.parse(read('deploy/compose-spec.schema.json')) as Record<string, unknown>;
  // The vendored schema names draft-07 by its https URL, which Ajv (draft-07 by default) knows
  // under http only; the keywords are the same.
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  it('validates against the Compose specification schema, as written and after interpolation', () => {
    const validate = validator();
    for (const doc of [raw, compose]) {
      const ok = validate(doc);
      expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
      expect(ok).toBe(true);
    }
  });

  it('the schema rejects a broken compose file (the check can fail)', () => {
    const validate = validator();
    const broken = parseCompose(
      'services:\n  web:\n    image: nginx:1.27\n    ports: 8080\n    restart: sometimes\n',
    );
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.length).toBeGreaterThan(0);
  });

  it('has the services the issue lists, docling behind a profile', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'caddy',
        'docling',
        'gateway',
        'ingestor',
        'migrate',
        'minio',
        'ollama',
        'ollama-pull',
        'openwebui',
        'postgres',
        'qdrant',
      ].sort(),
    );
    expect(services.docling!.profiles).toEqual(['docling']);
    expect(services.docling!.image).toMatch(
      /^ghcr\.io\/docling-project\/docling-serve-cu\d+:v\d+\.\d+\.\d+$/,
    );
    for (const name of Object.keys(services).filter((s) => s !== 'docling')) {
      expect(services[name]!.profiles, name).toBeUndefined();
    }
  });

  it('every ${VAR} it uses is in .env.example, and every required one is set there', () => {
    expect(undocumentedVariables(composeText, envExample)).toEqual([]);
    for (const use of variablesUsed(composeText).filter((u) => u.operator?.includes('?'))) {
      expect(
        envExample.values[use.name],
        `${use.name} is required (:?) so .env.example must set it`,
      ).toBeTruthy();
    }
    // Interpolating with .env.example raises nothing: `docker compose config` succeeds.
    expect(() => interpolateAll(raw, envExample.values)).not.toThrow();
  });

  it('a variable missing from .env.example is reported by name (bad input gets a clear error)', () => {
    const text =
      'services:\n  a:\n    image: x:1\n    environment:\n      A: ${NOT_IN_ENV_EXAMPLE:-1}\n      B: $${ESCAPED}\n';
    expect(undocumentedVariables(text, envExample)).toEqual(['NOT_IN_ENV_EXAMPLE']);
    expect(() => interpolate('${JWT_SECRET:?set JWT_SECRET in .env}', {})).toThrow(
      /JWT_SECRET.*set JWT_SECRET in \.env/,
    );
  });

  it('pins every image to a version', () => {
    const images = Object.values(services)
      .map((s) => s.image)
      .filter((i): i is string => i !== undefined);
    expect(images.length).toBeGreaterThanOrEqual(8);
    expect(unpinnedImages(images)).toEqual([]);
    expect(
      unpinnedImages(['caddy', 'caddy:latest', 'caddy:alpine', 'caddy:2.10.2-alpine', 'x/y@sha256:ab']),
    ).toEqual(['caddy', 'caddy:latest', 'caddy:alpine']);
    // Services built here use the repository's Dockerfiles.
    expect(services.gateway!.build).toMatchObject({ context: '.', dockerfile: 'gateway/Dockerfile' });
    expect(services.ingestor!.build).toMatchObject({ context: '.', dockerfile: 'ingestor/Dockerfile' });
    expect(services.migrate!.build).toMatchObject({ context: '.', dockerfile: 'gateway/Dockerfile' });
  });

  it('keeps data in the named volumes, with the drop folder as a bind mount', () => {
    const volumes = compose.volumes ?? {};
    for (const name of [
      'rattgllm_pg_data',
      'rattgllm_qdrant_storage',
      'rattgllm_minio_data',
      'rattgllm_ollama_models',
      'rattgllm_openwebui_data',
      'rattgllm_caddy_data',
      'rattgllm_caddy_config',
    ]) {
      // `name:` keeps the volume's name free of the project prefix, so backups find it.
      expect(volumes[name], name).toEqual({ name });
    }
    expect(services.postgres!.volumes).toContain('rattgllm_pg_data:/var/lib/postgresql/data');
    expect(services.qdrant!.volumes).toContain('rattgllm_qdrant_storage:/qdrant/storage');
    expect(services.minio!.volumes).toContain('rattgllm_minio_data:/data');
    expect(services.ollama!.volumes).toContain('rattgllm_ollama_models:/root/.ollama');
    expect(services.openwebui!.volumes).toContain('rattgllm_openwebui_data:/app/backend/data');
    expect(services.caddy!.volumes).toEqual(
      expect.arrayContaining(['rattgllm_caddy_data:/data', 'rattgllm_caddy_config:/config']),
    );
    expect(services.ingestor!.volumes).toContain('./drop:/data/drop');
    expect(envOf(services.ingestor!).DROP_DIR).toBe('/data/drop');
  });

  it('reserves the GPU for ollama, ingestor and docling', () => {
    for (const name of GPU_SERVICES) {
      expect(services[name]!.deploy?.resources?.reservations?.devices, name).toEqual([
        { driver: 'nvidia', count: 'all', capabilities: ['gpu'] },
      ]);
    }
    for (const name of Object.keys(services).filter((s) => !GPU_SERVICES.includes(s))) {
      expect(services[name]!.deploy, name).toBeUndefined();
    }
  });

  it('gives every long-running service a healthcheck that uses what its image has', () => {
    for (const name of longRunning) {
      const hc = services[name]!.healthcheck;
      expect(hc, `${name} needs a healthcheck`).toBeDefined();
      expect(hc!.disable, name).not.toBe(true);
      expect(Array.isArray(hc!.test) ? hc!.test[0] : hc!.test, name).toMatch(/^(CMD|CMD-SHELL)$/);
      expect(services[name]!.restart, name).toBe('unless-stopped');
    }
    for (const name of ONE_SHOT) {
      expect(services[name]!.healthcheck, name).toBeUndefined();
      expect(services[name]!.restart, name).toBe('no');
    }
    const test = (name: string) => (services[name]!.healthcheck!.test as string[]).join(' ');
    // Images without curl: Qdrant answers over bash's /dev/tcp, Ollama through its CLI, MinIO through mc.
    expect(test('qdrant')).toMatch(/bash -c .*\/dev\/tcp\/127\.0\.0\.1\/6333/);
    expect(test('ollama')).toBe('CMD ollama list');
    expect(test('minio')).toBe('CMD mc ready local');
    expect(test('postgres')).toMatch(/pg_isready/);
    expect(test('gateway')).toMatch(/\/health/);
    // The Qdrant probe's `$$status` is Compose's escape for the shell's `$status`.
    expect(test('qdrant')).toContain('$status');
  });

  it('orders start-up with depends_on conditions, so `up -d` converges without restarts', () => {
    const conditionOf = (target: string) =>
      ONE_SHOT.includes(target) ? 'service_completed_successfully' : 'service_healthy';
    for (const [name, service] of Object.entries(services)) {
      for (const [target, dep] of Object.entries(service.depends_on ?? {})) {
        expect(services[target], `${name} depends on unknown ${target}`).toBeDefined();
        expect(dep.condition, `${name} → ${target}`).toBe(conditionOf(target));
      }
    }
    for (const app of ['gateway', 'ingestor']) {
      expect(Object.keys(services[app]!.depends_on ?? {}).sort()).toEqual(
        ['migrate', 'minio', 'ollama', 'ollama-pull', 'postgres', 'qdrant'].sort(),
      );
    }
    expect(services.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(services['ollama-pull']!.depends_on).toEqual({ ollama: { condition: 'service_healthy' } });
    expect(services.openwebui!.depends_on?.gateway).toEqual({ condition: 'service_healthy' });
    expect(services.caddy!.depends_on?.gateway).toEqual({ condition: 'service_healthy' });
    // A chat outage must not keep the document site down.
    expect(services.caddy!.depends_on).not.toHaveProperty('openwebui');
    expect(services.migrate!.command).toEqual(['node', 'core/dist/bin/migrate.js']);
    expect(String(services['ollama-pull']!.command)).toMatch(
      /ollama pull "nomic-embed-text" && ollama pull "llama3\.1:8b"/,
    );
  });

  it('publishes ports only on caddy, with no fixed container names (scalable); Open WebUI only on `chat`', () => {
    // Open WebUI trusts the identity headers Caddy sets, so only Caddy and the two services it
    // calls share its network.
    const onChat = ['caddy', 'gateway', 'ollama'];
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'caddy') expect(service.ports, `${name} must not publish ports`).toBeUndefined();
      expect(service.container_name, name).toBeUndefined();
      const expected =
        name === 'openwebui' ? ['chat'] : onChat.includes(name) ? ['rattgllm', 'chat'] : ['rattgllm'];
      expect(service.networks, name).toEqual(expected);
    }
    expect(services.caddy!.ports).toEqual(['80:80', '443:443', '443:443/udp', '8080:8080', '3000:3000']);
    expect(Object.keys(compose.networks ?? {})).toEqual(['rattgllm', 'chat']);
  });

  it('wires Open WebUI to the gateway by environment', () => {
    const env = envOf(services.openwebui!);
    expect(env).toMatchObject({
      OPENAI_API_BASE_URL: `http://gateway:${envExample.values.PORT}/v1`,
      OPENAI_API_KEY: envExample.values.OPENWEBUI_API_KEY,
      ENABLE_OLLAMA_API: 'false',
      ENABLE_OPENAI_API: 'true',
      ENABLE_FORWARD_USER_INFO_HEADERS: 'true',
      FORWARD_USER_INFO_HEADER_JWT_SECRET: envExample.values.OPENWEBUI_USER_JWT_SECRET,
      ENABLE_PERSISTENT_CONFIG: 'false',
      BYPASS_MODEL_ACCESS_CONTROL: 'true',
      DEFAULT_MODELS: envExample.values.OPENWEBUI_DEFAULT_MODEL,
      RAG_EMBEDDING_ENGINE: 'ollama',
      RAG_EMBEDDING_MODEL: envExample.values.EMBED_MODEL,
      RAG_OLLAMA_BASE_URL: envExample.values.OLLAMA_URL,
      WEBUI_URL: envExample.values.CHAT_SITE_ADDRESS,
      WEBUI_SECRET_KEY: envExample.values.OPENWEBUI_SECRET_KEY,
    });
    // Connection 0 (the gateway) sends the background task name, e.g. title_generation.
    expect(JSON.parse(env.OPENAI_API_CONFIGS!)).toEqual({
      '0': { enable: true, headers: { 'X-OpenWebUI-Task': '{{TASK}}' } },
    });
    // The gateway gets the same two secrets.
    const gw = envOf(services.gateway!);
    expect(gw.OPENWEBUI_API_KEY).toBe(env.OPENAI_API_KEY);
    expect(gw.OPENWEBUI_USER_JWT_SECRET).toBe(env.FORWARD_USER_INFO_HEADER_JWT_SECRET);
  });

  it('passes every .env.example application variable to gateway, ingestor and migrate', () => {
    const appVars = [
      'POSTGRES_USER',
      'POSTGRES_PASSWORD',
      'POSTGRES_DB',
      'POSTGRES_HOST',
      'JWT_SECRET',
      'ADMIN_PASSWORD',
      'S3_ENDPOINT',
      'S3_BUCKET',
      'MINIO_ROOT_USER',
      'MINIO_ROOT_PASSWORD',
      'MAX_UPLOAD_MB',
      'QDRANT_URL',
      'QDRANT_COLLECTION',
      'OLLAMA_URL',
      'EMBED_MODEL',
      'EMBED_DIM',
      'CHAT_MODEL',
      'REINDEX_INTERVAL',
      'CHUNK_TOKENS',
      'PORT',
      'NODE_ENV',
    ];
    for (const name of ['gateway', 'ingestor', 'migrate']) {
      const env = envOf(services[name]!);
      for (const v of appVars) expect(env[v], `${name}.${v}`).toBe(envExample.values[v]);
    }
    // Caddy's upstream follows the gateway's port.
    expect(envOf(services.caddy!).GATEWAY_UPSTREAM).toBe(`gateway:${envExample.values.PORT}`);
    expect(envOf(services.caddy!).MAX_UPLOAD_MB).toBe(envExample.values.MAX_UPLOAD_MB);
  });
});

describe('docker-compose.cpu.yml', () => {
  const doc = composeDocument(cpuText);

  it('is a valid Compose override that removes every GPU reservation', () => {
    expect(doc.errors).toEqual([]);
    for (const name of GPU_SERVICES) {
      const node = doc.getIn(['services', name, 'deploy'], true) as { tag?: string } | undefined;
      expect(node?.tag, `${name}.deploy must be !reset`).toBe('!reset');
    }
    const validate = validator();
    // The override on its own is a compose document too (tags resolved to their plain values).
    expect(validate(parseCompose(cpuText.replaceAll('!reset ', '')))).toBe(true);
  });

  it('uses the pinned CPU image of docling-serve at the same version as the GPU one', () => {
    const cpu = parseCompose(cpuText.replaceAll('!reset ', '')).services.docling!.image!;
    expect(cpu).toMatch(/docling-serve-cpu:v\d/);
    expect(cpu.split(':').pop()).toBe(services.docling!.image!.split(':').pop());
    expect(undocumentedVariables(cpuText, envExample)).toEqual([]);
  });
});
