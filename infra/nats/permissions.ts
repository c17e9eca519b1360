import { subjectsFor, type Part } from '../../shared/schema/index.ts';

/** The roles that hold NATS credentials: one per part, the CLI being the operator's. */
export const ROLES = ['shipper', 'scorer', 'enforcer', 'cli'] as const satisfies readonly Part[];
export type Role = (typeof ROLES)[number];

/** Subjects a role may use in one direction; a deny wins over an allow. */
export interface SubjectRules {
  allow: string[];
  deny: string[];
}

/** What one role may do on the bus (nats-server `permissions`). */
export interface RolePermissions {
  publish: SubjectRules;
  subscribe: SubjectRules;
  /**
   * May answer requests it received (one reply each, within nats-server's
   * default two minutes), without a publish right on anyone's inbox: how a
   * part answers `$SRV.*` and its endpoints.
   */
  allowResponses: boolean;
}

export interface PermissionOptions {
  /** The fleet's subject prefix (`prefix` in fleetban.yaml). */
  prefix: string;
  /** `scorer.consumer`: the scorers' durable consumer on the failures stream; `<consumer>-decisions` on the decisions stream. */
  scorerConsumer: string;
}

const JS = '$JS.API';
const SERVICE_VERBS = ['PING', 'INFO', 'STATS'] as const;

/**
 * The inbox prefix of a role (`nats.inboxPrefix` in its fleetban.yaml).
 * Replies (JetStream acknowledgements, API answers and the messages a pull
 * consumer delivers) arrive on the requester's inbox; with one prefix per
 * role, no role may subscribe to another's replies, so a shipper cannot
 * read the decisions that JetStream delivers to an enforcer.
 */
export function inboxPrefixOf(prefix: string, role: Role): string {
  return `_INBOX_${prefix.replaceAll('.', '_')}_${role}`;
}

/**
 * Each role's permissions, derived from what its code does (see the README's
 * security section for the reasoning, and test/integration/security-nats.test.ts
 * for both directions: every part works with its own, and is refused the rest).
 *
 * - shipper: publishes failures; nothing else.
 * - scorer: consumes failures and mirrors decisions through its two durable
 *   consumers, publishes bans (never unbans), and may create the two streams
 *   when they do not exist yet. It may not change them: a stream update
 *   (a shorter max_age, rollup headers allowed) would let a compromised scorer
 *   erase every ban.
 * - enforcer: reads the decisions stream with ordered consumers; publishes
 *   nothing, and cannot touch the scorers' consumers.
 * - cli (the operator): manual bans and unbans, reading decisions (and
 *   deleting its own ordered consumers), requests to every part's service
 *   API, and creating or updating the streams (`fleetban streams --apply`).
 */
export function rolePermissions(options: PermissionOptions): Record<Role, RolePermissions> {
  const s = subjectsFor(options.prefix);
  const [failures, decisions] = [s.failuresStream, s.decisionsStream];
  const durable = options.scorerConsumer;
  const durableDecisions = `${durable}-decisions`;
  const inbox = (role: Role) => `${inboxPrefixOf(options.prefix, role)}.>`;

  /** The service API of a part: `$SRV.<verb>[.<name>[.<id>]]` and `<prefix>.svc.<part>.<endpoint>`. */
  const serving = (part: Role): string[] => [
    ...SERVICE_VERBS.flatMap((verb) => [`$SRV.${verb}`, `$SRV.${verb}.${s.serviceName(part)}`, `$SRV.${verb}.${s.serviceName(part)}.*`]),
    `${s.prefix}.svc.${part}.*`,
  ];
  /**
   * An ordered consumer on the decisions stream: ephemeral, named by the
   * client, one per (re)start; after a reconnect nats.js asks for its info to
   * learn whether the server still has it, and makes a new one if not.
   */
  const orderedDecisions = [
    `${JS}.INFO`,
    `${JS}.STREAM.INFO.${decisions}`,
    `${JS}.CONSUMER.CREATE.${decisions}.*`,
    `${JS}.CONSUMER.INFO.${decisions}.*`,
    `${JS}.CONSUMER.MSG.NEXT.${decisions}.*`,
  ];
  /**
   * The wildcards an ordered consumer needs would also reach the scorers'
   * durable consumer on the decisions stream: nobody else may create (update),
   * read or pull from it.
   */
  const scorerConsumer = [`${JS}.CONSUMER.*.${decisions}.${durableDecisions}`, `${JS}.CONSUMER.*.${decisions}.${durableDecisions}.>`, `${JS}.CONSUMER.MSG.NEXT.${decisions}.${durableDecisions}`];
  // One jail token: `<prefix>.ban.*`, not `>`, so nothing lands in a stream that no jail could have sent.
  const anyJail = (subject: (jail: string) => string) => subject('x').replace(/x$/, '*');
  const ban = anyJail((j) => s.decision('ban', j));
  const unban = anyJail((j) => s.decision('unban', j));

  return {
    shipper: {
      publish: { allow: [anyJail(s.fail)], deny: [] },
      subscribe: { allow: [inbox('shipper'), ...serving('shipper')], deny: [] },
      allowResponses: true,
    },
    scorer: {
      publish: {
        allow: [
          ban,
          `${JS}.INFO`,
          ...[failures, decisions].flatMap((stream) => [`${JS}.STREAM.INFO.${stream}`, `${JS}.STREAM.CREATE.${stream}`]),
          ...[
            [failures, durable],
            [decisions, durableDecisions],
          ].flatMap(([stream, consumer]) => [
            `${JS}.CONSUMER.CREATE.${stream}.${consumer}`,
            `${JS}.CONSUMER.INFO.${stream}.${consumer}`,
            `${JS}.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
            `$JS.ACK.${stream}.${consumer}.>`,
          ]),
        ],
        deny: [],
      },
      subscribe: { allow: [inbox('scorer'), ...serving('scorer')], deny: [] },
      allowResponses: true,
    },
    enforcer: {
      publish: { allow: orderedDecisions, deny: scorerConsumer },
      subscribe: { allow: [inbox('enforcer'), ...serving('enforcer')], deny: [] },
      allowResponses: true,
    },
    cli: {
      publish: {
        allow: unique([
          ban,
          unban,
          ...orderedDecisions,
          // `banned` and `unban` delete their ordered consumer when done (the scorers' is denied below).
          `${JS}.CONSUMER.DELETE.${decisions}.*`,
          ...[failures, decisions].flatMap((stream) => [`${JS}.STREAM.INFO.${stream}`, `${JS}.STREAM.CREATE.${stream}`, `${JS}.STREAM.UPDATE.${stream}`]),
          ...SERVICE_VERBS.flatMap((verb) => [`$SRV.${verb}`, `$SRV.${verb}.>`]),
          `${s.prefix}.svc.>`,
        ]),
        deny: scorerConsumer,
      },
      subscribe: { allow: [inbox('cli')], deny: [] },
      allowResponses: false,
    },
  };
}

function unique(subjects: string[]): string[] {
  return [...new Set(subjects)];
}
