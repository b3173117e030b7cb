/**
 * docker-compose.yml for the chat site and the folders .env sets: Open WebUI 0.12.4 behind the one
 * sign-in (the same header names as the Caddyfile), and PIPELINES_DIR / DROP_DIR / the context
 * length reaching their services. The rest of the compose checks are in compose.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  interpolateAll,
  parseCompose,
  parseEnvFile,
  read,
  type ComposeFile,
  type ComposeService,
} from './support.js';

const envExample = parseEnvFile(read('.env.example'));
const raw = parseCompose(read('docker-compose.yml'));
/** The file as `docker compose config` sees it with `.env` copied unchanged from .env.example. */
const services = (interpolateAll(raw, envExample.values) as ComposeFile).services;

function envOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env))
    return Object.fromEntries(env.map((e) => e.split(/=(.*)/s).slice(0, 2) as [string, string]));
  return env;
}

describe('docker-compose.yml: chat site and folders', () => {
  it('puts Open WebUI 0.12.4 behind the one sign-in (trusted headers, no sign-up, no login form)', () => {
    expect(services.openwebui!.image).toBe('ghcr.io/open-webui/open-webui:v0.12.4');
    const env = envOf(services.openwebui!);
    expect(env).toMatchObject({
      WEBUI_AUTH_TRUSTED_EMAIL_HEADER: 'X-Rattgllm-Email',
      WEBUI_AUTH_TRUSTED_NAME_HEADER: 'X-Rattgllm-Name',
      WEBUI_AUTH_TRUSTED_GROUPS_HEADER: 'X-Rattgllm-Groups',
      WEBUI_AUTH_TRUSTED_ROLE_HEADER: 'X-Rattgllm-Role',
      WEBUI_AUTH_SIGNOUT_REDIRECT_URL: '/chat-sso/sign-out',
      ENABLE_SIGNUP: 'false',
      ENABLE_LOGIN_FORM: 'false',
    });
    // The Caddyfile copies exactly these four headers from the gateway's answer.
    const caddyfile = read('Caddyfile');
    const copied = /copy_headers (.+)/.exec(caddyfile)![1]!.trim().split(/\s+/);
    expect(copied.sort()).toEqual(
      Object.entries(env)
        .filter(([k]) => k.startsWith('WEBUI_AUTH_TRUSTED_'))
        .map(([, v]) => v)
        .sort(),
    );
  });

  it('every folder .env.example sets reaches its service (mounted at the path the service reads)', () => {
    const gw = services.gateway!;
    expect(gw.volumes).toContain(`${envExample.values.PIPELINES_DIR}:/app/pipelines:ro`);
    expect(envOf(gw).PIPELINES_DIR).toBe('/app/pipelines');
    expect(services.ingestor!.volumes).toContain(`${envExample.values.DROP_DIR}:/data/drop`);
    // Set to another folder, the mounts follow.
    const moved = interpolateAll(raw, {
      ...envExample.values,
      PIPELINES_DIR: '/srv/profiles',
      DROP_DIR: '/mnt/share',
    }) as ComposeFile;
    expect(moved.services.gateway!.volumes).toContain('/srv/profiles:/app/pipelines:ro');
    expect(moved.services.ingestor!.volumes).toContain('/mnt/share:/data/drop');
    // Ollama and the gateway get the same context length.
    expect(envOf(services.ollama!).OLLAMA_CONTEXT_LENGTH).toBe(envExample.values.OLLAMA_CONTEXT_LENGTH);
    expect(envOf(gw).OLLAMA_CONTEXT_LENGTH).toBe(envExample.values.OLLAMA_CONTEXT_LENGTH);
  });
});
