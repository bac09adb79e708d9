/** The storage module's public API: the only way the app reaches IndexedDB. */
export {
  DB_NAME,
  openDatabase,
  PersonaDatabase,
  SCHEMA_VERSION,
  SCHEMA_VERSIONS,
  TABLES,
  type SchemaVersion,
  type TableName,
} from './database';
export {
  PROFILE_ROW_ID,
  type Conversation,
  type CustomModel,
  type Job,
  type JobKind,
  type JobRejection,
  type JobResult,
  type JobStatus,
  type Message,
  type MessageRole,
  type MessageStatus,
  type ProfileRow,
  type Proposal,
  type ProposalStatus,
  type ReplyStats,
  type SearchDoc,
  type SearchProgress,
  type SettingRow,
  type StoredError,
} from './records';
export {
  ConflictError,
  InvalidRequestError,
  isQuotaExceededError,
  QUOTA_EXCEEDED_MESSAGE,
  toStorageError,
  withStorageErrors,
  type ConflictReason,
  type InvalidRequestReason,
} from './storage-errors';
export {
  AUTO_TITLE_LENGTH,
  createConversation,
  DEFAULT_CONVERSATION_TITLE,
  deleteConversation,
  getConversation,
  listConversations,
  MAX_TITLE_LENGTH,
  normalizeTitle,
  renameConversation,
  titleFromMessage,
  type NewConversation,
} from './conversations';
export {
  finishReply,
  getMessage,
  listMessages,
  listMessagesSince,
  markInterruptedReplies,
  prepareRegenerate,
  saveReplyProgress,
  sendUserMessage,
  type ReplyEnding,
  type SentMessage,
} from './messages';
export {
  DEFAULT_SETTINGS,
  getAllSettings,
  getSetting,
  isValidSetting,
  setSetting,
  setSettings,
  SETTING_RANGES,
  type LearningMode,
  type SettingKey,
  type Settings,
} from './settings';
export {
  addCustomModel,
  listCustomModels,
  MAX_LABEL_LENGTH,
  removeCustomModel,
  type NewCustomModel,
} from './custom-models';
export { getProfile, type CurrentProfile } from './profile';
export {
  commitRevision,
  getRevision,
  listRevisions,
  type RevisionCommit,
} from './profile-revisions';
export {
  addProposals,
  listPendingProposals,
  resolveProposal,
  type ProposalBatch,
  type ProposalDecision,
} from './proposals';
export {
  claimNextJob,
  completeJobWithoutChanges,
  DEFAULT_JOB_LIST_LIMIT,
  DEFAULT_MAX_JOB_ATTEMPTS,
  DEFAULT_STALE_JOB_MS,
  enqueueOptimizeJob,
  failJob,
  getJob,
  hasPendingJobs,
  listJobs,
  requeueJob,
  type ClaimOptions,
} from './jobs';
export {
  fieldsEvidencedOnlyBy,
  fieldsLearnedOnlyFrom,
  profileWithoutEvidenceFrom,
  type FieldRef,
} from './evidence';
export { markConversationsProcessed, type ProcessedConversation } from './learned-until';
export {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  exportBackupParts,
  importEverything,
  MAX_BACKUP_CHARS,
  parseBackup,
  tooLarge,
  wipeDatabase,
  type Backup,
  type BackupParse,
} from './backup';
export { LARGEST_CONVERSATIONS, measureStoredData } from './storage-usage';
export {
  backfillSearchIndex,
  BACKFILL_BATCH,
  countSearchDocs,
  indexMessage,
  indexTitle,
  isBackfillDone,
  MAX_PREFIX_EXPANSIONS,
  searchDocs,
  unindexConversation,
  unindexMessage,
} from './search-index';
