export { decisionCodec, failureCodec, MAX_MESSAGE_BYTES, truncateLine, type Decoded } from './codec.ts';
export {
  DECISION_ACTIONS,
  DEFAULT_PREFIX,
  JAIL_NAME,
  PARTS,
  SUBJECT_PREFIX,
  subjectsFor,
  type DecisionAction,
  type Part,
  type Subjects,
} from './subjects.ts';
export {
  decisionSchema,
  failureEventSchema,
  LIMITS,
  WIRE_VERSION,
  type BanDecision,
  type Decision,
  type FailureEvent,
  type UnbanDecision,
} from './wire.ts';
export {
  bannedEntrySchema,
  jailStatusSchema,
  parseStatusRequest,
  parseStatusResponse,
  STATUS_DEFAULT_LIST,
  STATUS_MAX_LIST,
  statusRequestSchema,
  statusResponseSchema,
  type BannedEntry,
  type JailStatus,
  type StatusRequest,
  type StatusResponse,
} from './status.ts';
