import { Command, InvalidArgumentError } from 'commander';
import { errorMessage } from '../../shared/errors.ts';
import { DEFAULT_PREFIX } from '../../shared/schema/index.ts';
import { ROLES, type Role } from '../nats/permissions.ts';
import { DEFAULT_IDENTITIES, FleetOptionsError, generateFleet, type IdentitySpec } from './fleet.ts';

// `infra/keys/generate.sh`: credentials for a test or a small fleet. Wiring
// only: arguments in, generateFleet, a summary out.

const collect = (value: string, previous: string[]) => [...previous, value];
const identity = (value: string, previous: IdentitySpec[]): IdentitySpec[] => {
  const [role, name = role] = value.split(':');
  if (!(ROLES as readonly string[]).includes(role!)) throw new InvalidArgumentError(`role must be one of ${ROLES.join(', ')}`);
  return [...previous, { role: role as Role, name }];
};
const integer = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a whole number');
  return n;
};

const program = new Command('generate.sh')
  .description('generate a CA, TLS certificates, nkeys, the nats-server configuration with per-role permissions, and Redis TLS + ACL settings')
  .requiredOption('--out <dir>', 'where to write everything')
  .option('--install-root <dir>', 'where the bundles will be on the hosts (paths in the generated configs); default: --out')
  .option('--prefix <prefix>', 'the fleet\'s subject prefix', DEFAULT_PREFIX)
  .option('--scorer-consumer <name>', 'scorer.consumer of the scorers', 'scorer')
  .option('--identity <role[:name]>', `one set of credentials (role: ${ROLES.join(', ')}); repeat; default: one per role`, identity, [])
  .option('--nats-host <name|ip>', 'a name or address of the NATS server (certificate); repeat; the first goes in the clients\' URL', collect, [])
  .option('--nats-listen <host:port>', 'nats-server listen address', '0.0.0.0:4222')
  .option('--nats-name <name>', 'nats-server server_name', 'fleetban')
  .option('--nats-store <dir>', 'JetStream store directory', '/var/lib/nats/jetstream')
  .option('--redis-host <name|ip>', 'a name or address of the Redis server (certificate); repeat', collect, [])
  .option('--redis-port <port>', 'Redis TLS port', integer, 6379)
  .option('--redis-key-prefix <prefix>', 'redis.keyPrefix of the scorers', 'fleetban:')
  .option('--redis-db <n>', 'redis.db of the scorers', integer, 0)
  .option('--days <n>', 'certificate validity', integer, 825)
  .showHelpAfterError();

program.parse();
const o = program.opts<{
  out: string; installRoot?: string; prefix: string; scorerConsumer: string; identity: IdentitySpec[];
  natsHost: string[]; natsListen: string; natsName: string; natsStore: string;
  redisHost: string[]; redisPort: number; redisKeyPrefix: string; redisDb: number; days: number;
}>();

try {
  const files = await generateFleet({
    out: o.out,
    ...(o.installRoot !== undefined && { installRoot: o.installRoot }),
    prefix: o.prefix,
    scorerConsumer: o.scorerConsumer,
    identities: o.identity.length > 0 ? o.identity : DEFAULT_IDENTITIES,
    nats: { serverName: o.natsName, listen: o.natsListen, hosts: o.natsHost.length > 0 ? o.natsHost : ['localhost', '127.0.0.1'], storeDir: o.natsStore },
    redis: { hosts: o.redisHost.length > 0 ? o.redisHost : ['localhost', '127.0.0.1'], tlsPort: o.redisPort, keyPrefix: o.redisKeyPrefix, db: o.redisDb },
    days: o.days,
  });
  process.stdout.write([
    `CA (keep ca-key.pem offline): ${files.ca.cert}`,
    `nats-server: nats-server -c ${files.nats.config}`,
    `redis-server: include ${files.redis.config} in redis.conf (admin user fleetban-admin, password in ${files.redis.dir}/admin-password)`,
    ...files.identities.map((id) => `${id.role} ${id.name}: copy ${id.dir}/ to the host; merge ${id.config} into its fleetban.yaml`),
    '',
  ].join('\n'));
} catch (err) {
  process.stderr.write(`generate.sh: ${errorMessage(err)}\n`);
  process.exit(err instanceof FleetOptionsError ? 2 : 1);
}
