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
export type {
  Conversation,
  CustomModel,
  Message,
  MessageRole,
  MessageStatus,
  ReplyStats,
  SettingRow,
  StoredError,
} from './records';
export {
  InvalidRequestError,
  isQuotaExceededError,
  QUOTA_EXCEEDED_MESSAGE,
  toStorageError,
  withStorageErrors,
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
  setSetting,
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
