import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { stringify } from 'yaml';
import { FleetbanError } from '../../shared/errors.ts';
import { subjectsFor } from '../../shared/schema/index.ts';
import { inboxPrefixOf, ROLES, type Role } from '../nats/permissions.ts';
import { renderPermissions, renderServerConfig, type NatsIdentity } from '../nats/server-config.ts';
import { renderAclFile } from '../redis/acl.ts';
import { renderRedisConfig } from '../redis/server-config.ts';
import { createCa, issueCert } from './pki.ts';

export class FleetOptionsError extends FleetbanError {}

export interface IdentitySpec {
  role: Role;
  /** A host or an operator; names the certificate and the bundle's folder. */
  name: string;
}

export interface FleetOptions {
  /** Where everything is written (created; must not hold an earlier run's files you want to keep). */
  out: string;
  /** Where the bundles will be on the hosts (`<installRoot>/<bundle>/...` in the configs); `out` by default. */
  installRoot?: string;
  prefix: string;
  scorerConsumer: string;
  identities: readonly IdentitySpec[];
  nats: {
    serverName: string;
    listen: string;
    /** Names and addresses clients reach the server by; the first is used in the clients' URL. */
    hosts: readonly string[];
    storeDir: string;
  };
  redis: {
    hosts: readonly string[];
    tlsPort: number;
    keyPrefix: string;
    db: number;
  };
  days: number;
}

/** What was written; paths as they are in `out`. */
export interface FleetFiles {
  ca: { cert: string; key: string };
  nats: { dir: string; config: string; permissions: string };
  redis: { dir: string; config: string; acl: string; admin: { user: string; password: string } };
  identities: Array<IdentitySpec & { dir: string; seed: string; cert: string; key: string; ca: string; config: string; nkey: string }>;
}

/** One identity per role, each named after its role: enough for a test or a one-host trial. */
export const DEFAULT_IDENTITIES: readonly IdentitySpec[] = ROLES.map((role) => ({ role, name: role }));

const SAFE_PATH = /^[A-Za-z0-9_./-]+$/;
const SCORER_REDIS_USER = 'fleetban-scorer';
const REDIS_ADMIN_USER = 'fleetban-admin';

export function bundleName(id: IdentitySpec): string {
  return id.name === id.role ? id.role : `${id.role}-${id.name}`;
}

/**
 * Generates a fleet's credentials: a CA; a nats-server certificate, its
 * configuration with one nkey user per identity and the role permissions; a
 * Redis certificate, TLS settings and ACL file; and per identity a bundle
 * (client certificate, nkey seed, CA, and the `nats:`/`redis:` settings for
 * its fleetban.yaml). Keys, seeds and files holding passwords are 0600.
 */
export async function generateFleet(options: FleetOptions): Promise<FleetFiles> {
  check(options);
  const out = resolve(options.out);
  const root = options.installRoot ?? out;
  const installed = (bundle: string, file: string) => join(root, bundle, file);
  subjectsFor(options.prefix); // throws on a prefix that is not one

  await mkdir(join(out, 'ca'), { recursive: true, mode: 0o700 });
  const ca = await createCa(join(out, 'ca'), `${options.prefix} fleet CA`, options.days);
  const copyCa = async (dir: string) => writeFile(join(dir, 'ca.pem'), await readFile(ca.cert, 'utf8'));

  // nats-server
  const natsDir = join(out, 'nats-server');
  await mkdir(natsDir, { recursive: true, mode: 0o700 });
  await issueCert(ca, join(natsDir, 'server'), { commonName: options.nats.serverName, unit: 'nats-server', altNames: options.nats.hosts, usage: 'server', days: options.days });
  await copyCa(natsDir);

  // identities
  const identities: FleetFiles['identities'] = [];
  const nkeys: NatsIdentity[] = [];
  const redisPassword = secret();
  const natsPort = options.nats.listen.slice(options.nats.listen.lastIndexOf(':') + 1);
  const natsUrl = `tls://${hostForUrl(options.nats.hosts[0]!)}:${natsPort}`;
  const redisHost = options.redis.hosts[0]!;
  for (const id of options.identities) {
    const bundle = bundleName(id);
    const dir = join(out, bundle);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const cert = await issueCert(ca, join(dir, 'client'), { commonName: `${id.role} ${id.name}`, unit: id.role, usage: 'client', days: options.days });
    await copyCa(dir);
    const pair = createUser();
    const seed = join(dir, 'nkey.seed');
    await writeFile(seed, `${new TextDecoder().decode(pair.getSeed())}\n`, { mode: 0o600 });
    nkeys.push({ role: id.role, name: id.name, nkey: pair.getPublicKey() });
    const tls = { ca: installed(bundle, 'ca.pem'), cert: installed(bundle, 'client.pem'), key: installed(bundle, 'client-key.pem') };
    const settings: Record<string, unknown> = {
      prefix: options.prefix,
      nats: { servers: [natsUrl], nkeySeedFile: installed(bundle, 'nkey.seed'), inboxPrefix: inboxPrefixOf(options.prefix, id.role), tls },
    };
    if (id.role === 'scorer') {
      settings.scorer = { consumer: options.scorerConsumer };
      settings.redis = {
        nodes: [`${isIP(redisHost) === 6 ? `[${redisHost}]` : redisHost}:${options.redis.tlsPort}`],
        user: SCORER_REDIS_USER,
        password: redisPassword,
        db: options.redis.db,
        keyPrefix: options.redis.keyPrefix,
        tls: { ...tls, ...(isIP(redisHost) === 0 && { servername: redisHost }) },
      };
    }
    const config = join(dir, 'fleetban.yaml');
    const head = `# Credentials of ${id.role} "${id.name}" (generated by infra/keys/generate.sh): merge into that host's fleetban.yaml.\n`;
    await writeFile(config, head + stringify(settings), { mode: 0o600 });
    identities.push({ ...id, dir, seed, cert: cert.cert, key: cert.key, ca: join(dir, 'ca.pem'), config, nkey: pair.getPublicKey() });
  }

  const permissions = join(natsDir, 'permissions.conf');
  await writeFile(permissions, renderPermissions({ prefix: options.prefix, scorerConsumer: options.scorerConsumer }));
  const natsConfig = join(natsDir, 'nats-server.conf');
  await writeFile(natsConfig, renderServerConfig({
    prefix: options.prefix,
    scorerConsumer: options.scorerConsumer,
    serverName: options.nats.serverName,
    listen: options.nats.listen,
    storeDir: options.nats.storeDir,
    tls: { cert: installed('nats-server', 'server.pem'), key: installed('nats-server', 'server-key.pem'), ca: installed('nats-server', 'ca.pem') },
    permissionsFile: 'permissions.conf',
    identities: nkeys,
  }));

  // redis-server
  const redisDir = join(out, 'redis-server');
  await mkdir(redisDir, { recursive: true, mode: 0o700 });
  await issueCert(ca, join(redisDir, 'redis'), { commonName: redisHost, unit: 'redis-server', altNames: options.redis.hosts, usage: 'server', days: options.days });
  await copyCa(redisDir);
  const admin = { user: REDIS_ADMIN_USER, password: secret() };
  const acl = join(redisDir, 'users.acl');
  await writeFile(acl, renderAclFile({ user: SCORER_REDIS_USER, password: redisPassword, keyPrefix: options.redis.keyPrefix, db: options.redis.db }, admin), { mode: 0o600 });
  await writeFile(join(redisDir, 'admin-password'), `${admin.password}\n`, { mode: 0o600 });
  const redisConfig = join(redisDir, 'fleetban.conf');
  await writeFile(redisConfig, renderRedisConfig({
    tlsPort: options.redis.tlsPort,
    tls: { cert: installed('redis-server', 'redis.pem'), key: installed('redis-server', 'redis-key.pem'), ca: installed('redis-server', 'ca.pem') },
    aclFile: installed('redis-server', 'users.acl'),
  }));
  await chmod(out, 0o700);

  return { ca, nats: { dir: natsDir, config: natsConfig, permissions }, redis: { dir: redisDir, config: redisConfig, acl, admin }, identities };
}

function check(options: FleetOptions): void {
  const problems: string[] = [];
  if (options.identities.length === 0) problems.push('no identities');
  const bundles = options.identities.map(bundleName);
  const twice = bundles.filter((b, i) => bundles.indexOf(b) !== i);
  if (twice.length > 0) problems.push(`identities given twice: ${[...new Set(twice)].join(', ')}`);
  for (const id of options.identities) {
    if (!(ROLES as readonly string[]).includes(id.role)) problems.push(`unknown role "${id.role}" (${ROLES.join(', ')})`);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id.name)) problems.push(`identity name "${id.name}": letters, digits, _ . - only`);
  }
  for (const [what, path] of [['--out', resolve(options.out)], ['--install-root', options.installRoot ?? '/'], ['--nats-store', options.nats.storeDir]] as const) {
    if (!SAFE_PATH.test(path)) problems.push(`${what} ${path}: the generated configurations take paths of letters, digits, _ . / - only`);
  }
  if (!/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/.test(options.nats.listen)) problems.push(`--nats-listen ${options.nats.listen}: expected host:port`);
  if (options.nats.hosts.length === 0) problems.push('--nats-host: at least one name or address');
  if (options.redis.hosts.length === 0) problems.push('--redis-host: at least one name or address');
  if (!Number.isInteger(options.days) || options.days < 1) problems.push('--days: a whole number of days');
  if (problems.length > 0) throw new FleetOptionsError(problems.join('; '));
}

function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** 32 random bytes, URL-safe: for passwords that only machines type. */
function secret(): string {
  return randomBytes(32).toString('base64url');
}
