/**
 * Mints Easel tokens the way the server does (HS256 with the secret the suite gives it), for
 * the cases the REST API cannot produce on demand, such as a token that has expired.
 *
 * Owns token signing for tests only; it must not be used to skip signing in where the
 * scenario signs in for real.
 */
import { createHmac, randomUUID } from 'node:crypto';

/** The `EASEL_JWT_SECRET` every server of the suite runs with. */
export const JWT_SECRET = 'easel-e2e-tests-secret-0123456789abcdef';

/** A token for `userId` that expired an hour ago (well past the server's leeway). */
export function expiredToken(userId: string, name: string): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: userId, name, iat: now - 7200, exp: now - 3600, jti: randomUUID() };
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  const signature = createHmac('sha256', JWT_SECRET).update(unsigned).digest('base64url');
  return `${unsigned}.${signature}`;
}
