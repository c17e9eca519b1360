import { createHash } from 'node:crypto';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';

/**
 * NATS decentralised auth for tests: an operator, one account and one user,
 * signed as nats-server 2.9 reads them (JWT v2, `ed25519-nkey`), so that a
 * `.creds` file can be tested against a real server without `nsc`.
 */
export interface OperatorMode {
  /** nats-server configuration lines: operator, system account, MEMORY resolver, preloaded accounts. */
  serverConfig: string;
  /** A user `.creds` file's text (user JWT and seed). */
  userCreds: string;
}

const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

function signJwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const claims: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject, nats: { ...nats, version: 2 } };
  // jti is the hash of the claims, as the JWT library writes it.
  claims.jti = createHash('sha256').update(JSON.stringify(claims)).digest('base64url');
  const body = `${header}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${b64url(issuer.sign(new TextEncoder().encode(body)))}`;
}

export function operatorMode(): OperatorMode {
  const operator = createOperator();
  const account = createAccount();
  // JetStream (which the harness's servers run) needs a system account.
  const system = createAccount();
  const user = createUser();
  const operatorJwt = signJwt(operator, operator.getPublicKey(), 'fleetban-test', { type: 'operator' });
  const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };
  const accountJwt = signJwt(operator, account.getPublicKey(), 'fleet', {
    type: 'account',
    limits: { ...unlimited, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
  });
  const systemJwt = signJwt(operator, system.getPublicKey(), 'SYS', { type: 'account', limits: unlimited });
  const userJwt = signJwt(account, user.getPublicKey(), 'shipper', { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 });
  const seed = new TextDecoder().decode(user.getSeed());
  return {
    serverConfig: [
      `operator: ${operatorJwt}`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      `resolver_preload: { ${account.getPublicKey()}: ${accountJwt}, ${system.getPublicKey()}: ${systemJwt} }`,
    ].join('\n'),
    userCreds: [
      '-----BEGIN NATS USER JWT-----',
      userJwt,
      '------END NATS USER JWT------',
      '',
      '-----BEGIN USER NKEY SEED-----',
      seed,
      '------END USER NKEY SEED------',
      '',
    ].join('\n'),
  };
}
