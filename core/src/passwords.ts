import { hash, verify, type Algorithm } from '@node-rs/argon2';

// OWASP's argon2id baseline (m=19 MiB, t=2, p=1): ~20 ms here, slow enough for offline attacks.
const OPTIONS = { algorithm: 2 as Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/**
 * A hash of a password nobody knows. Verifying against it when the user does not exist makes
 * "unknown user" take as long as "wrong password", so timing does not reveal who has an account.
 */
const dummyHash = hash('rattgllm-no-such-user', OPTIONS);

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (!storedHash) {
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}
