import {
  countsAsTurn,
  fitToContext,
  historyCharBudget,
  type ConversationTurn,
} from '../core/chat/context-window';
import { StreamBatcher, frameSchedule, type Schedule } from '../core/chat/stream-batcher';
import {
  CHAT_REPEAT_PENALTY,
  CHAT_TEMPERATURE,
  replyTokenReserve,
  personalizedSystemPrompt,
} from '../core/chat/system-prompt';
import { AppError, serializeError } from '../core/errors';
import {
  DEFAULT_STALE_JOB_MS,
  addCustomModel,
  createConversation,
  deleteConversation,
  finishReply,
  getAllSettings,
  getConversation,
  getProfile,
  markInterruptedReplies,
  readConversationTail,
  measureStoredData,
  prepareRegenerate,
  removeCustomModel,
  renameConversation,
  saveReplyProgress,
  sendUserMessage,
  setSetting,
  setSettings,
  wipeDatabase,
  type PersonaDatabase,
} from '../db';
import { probeDevice } from '../engine/device';
import type { ChatMessage, Engine, EngineKind, LoadedModel, ModelSpec } from '../engine/engine';
import { openLabDatabase, wipeLabDatabase, type LabDatabase } from '../db/lab';
import { BackupFiles } from './backup-files';
import { ConversationSearch } from './conversation-search';
import { EngineLease, type Lease } from './engine-lease';
import { LabRunner } from './lab-runner';
import { replyLockName } from './lock-names';
import { ProfileEditor } from './profile-editor';
import { ProfileOptimizer } from './profile-optimizer';
import type {
  AssistantApi,
  ChatApi,
  ConversationsApi,
  DataApi,
  ProfileApi,
  DeviceApi,
  LabApi,
  LearningApi,
  ModelsApi,
  ReplyOutcome,
  ReplyRequest,
  SearchApi,
  StreamUpdate,
} from './contract';

export interface AssistantDeps {
  db: PersonaDatabase;
  loadEngine: (kind: EngineKind) => Promise<Engine>;
  /** Holds a named lock while a reply is generated, so other tabs can tell it is alive. */
  holdLock?: <T>(name: string, work: () => Promise<T>) => Promise<T>;
  /** Runs work under an exclusive lock if it is free; resolves null when another holder has it. */
  tryLock?: <T>(name: string, work: () => Promise<T>) => Promise<T | null>;
  schedule?: Schedule;
  /** A monotonic clock for timing, in milliseconds. */
  now?: () => number;
  /** Wall-clock time, in milliseconds since the epoch. */
  clock?: () => number;
  /** How often the partial reply is written to storage while streaming. */
  persistEveryMs?: number;
  /** The PersonaBench lab's own database (never the app's); opened on first use. */
  labDb?: () => LabDatabase;
  /** The app's version, recorded with every benchmark run. */
  appVersion?: string;
  /**
   * When set, the worker decides itself when sessions have ended and learns from them: on a switch
   * of conversation, after a reply, after a model load, and every this many milliseconds (a
   * session also ends by idling). Off by default, so tests schedule learning explicitly.
   */
  learnEveryMs?: number | null;
  /** Whether some tab is still writing the reply `messageId` (default: its Web Lock is held). */
  isReplyAlive?: (messageId: string) => Promise<boolean>;
  /**
   * How long a job marked running must be silent before a run takes it over. With the default
   * `tryLock` on Web Locks, 0: the lock a crashed tab held is released with it (issue 12).
   */
  orphanedJobAfterMs?: number;
  /**
   * When set, messages stored without the search index (before it existed, or imported) are
   * indexed in the background, starting this many milliseconds after start-up. Off by default,
   * so tests index explicitly (a search also starts it).
   */
  indexSearchAfterMs?: number | null;
}

function lazyLabDatabase(): () => LabDatabase {
  let db: LabDatabase | null = null;
  return () => (db ??= openLabDatabase());
}

const webLocks = (): LockManager | undefined =>
  (globalThis.navigator as Navigator | undefined)?.locks;

const defaultHoldLock = <T>(name: string, work: () => Promise<T>): Promise<T> => {
  const locks = webLocks();
  return locks ? (locks.request(name, work) as Promise<T>) : work();
};

const defaultTryLock = <T>(name: string, work: () => Promise<T>): Promise<T | null> => {
  const locks = webLocks();
  if (!locks) return work();
  return locks.request(name, { ifAvailable: true }, (lock) =>
    lock ? work() : null,
  ) as Promise<T | null>;
};

/** Whether the Web Lock of `messageId`'s reply is held, by a writer in this tab or another. */
const replyLockHeld = async (messageId: string): Promise<boolean> => {
  const locks = webLocks();
  if (!locks) return false;
  const { held = [] } = await locks.query();
  return held.some((lock) => lock.name === replyLockName(messageId));
};

/** Texts whose token count is remembered; a long conversation's turns, several times over. */
const TOKEN_COUNT_MEMORY = 2000;
/** Conversations whose prompt start is remembered: the ones recently replied in. */
const PROMPT_STARTS_KEPT = 50;
/** Replies whose prompt "Show prompt" can still show: a few kilobytes each, never stored. */
const PROMPTS_KEPT = 20;

/**
 * The assistant worker's implementation of the contract: owns the engine, assembles prompts,
 * streams replies and stores them as they grow.
 */
export class Assistant implements AssistantApi {
  readonly #deps: Required<AssistantDeps>;
  readonly #engines = new Map<EngineKind, Engine>();
  #engine: Engine | null = null;
  #loaded: LoadedModel | null = null;
  #loading: AbortController | null = null;
  /** The id of the model `#loading` loads. */
  #loadingId: string | null = null;
  /** Stop the replies in progress or waiting for the engine (the user's Stop, or a yield). */
  readonly #replying = new Set<AbortController>();
  /**
   * Who uses the engine: replies, model loads, profile updates and the lab take turns through it,
   * in that order of rank (issue 9).
   */
  readonly #lease = new EngineLease();
  /** Held from `quiesce` to `resume`: nothing uses the engine while the data is replaced. */
  #maintenance: Lease | null = null;
  /** Replies in progress, each settled only after its last write to the database. */
  readonly #replies = new Set<Promise<unknown>>();
  /** Prompts of the latest replies by message id, oldest first (a Map keeps insertion order). */
  readonly #prompts = new Map<string, ChatMessage[]>();
  /** Set while the database is being replaced or erased: no reply may start. */
  #quiesced = false;
  /**
   * Token counts by text, for the loaded model. Counting can cost a prompt pass (wllama has no
   * bare tokenizer), and without this every reply would recount the whole conversation.
   */
  #tokenCounts = new Map<string, number>();
  /**
   * The first message of each conversation's latest prompt, for the loaded model: the next
   * prompt starts there while it fits, so the model finds the start of it in its cache.
   */
  readonly #promptStarts = new Map<string, string>();
  readonly #optimizer: ProfileOptimizer;
  readonly #profileEditor: ProfileEditor;
  readonly #lab: LabRunner;
  /** Writes backup files and keeps the one checked until the user confirms its import. */
  #backups: BackupFiles | null = null;
  readonly #search: ConversationSearch;
  /** The conversation on screen, as the page last said: its session has not ended. */
  #activeConversationId: string | null = null;
  /**
   * The session open when the app last closed has ended too: the first check after start-up
   * treats no conversation as active, so it is learned from with the others.
   */
  #checkedSinceStart = false;
  #learnTimer: ReturnType<typeof setInterval> | null = null;
  /** Stores the reply in progress now; set while a reply streams. */
  #saveProgress: (() => Promise<void>) | null = null;

  constructor(deps: AssistantDeps) {
    this.#deps = {
      holdLock: defaultHoldLock,
      tryLock: defaultTryLock,
      schedule: frameSchedule,
      now: () => performance.now(),
      clock: () => Date.now(),
      // A write of a few kilobytes; at 500 ms a close or crash lost up to 643 characters on screen
      // (issue 12), and pagehide comes too late for a write to land when a tab closes.
      persistEveryMs: 200,
      labDb: lazyLabDatabase(),
      appVersion: 'unknown',
      isReplyAlive: replyLockHeld,
      learnEveryMs: null,
      orphanedJobAfterMs: deps.tryLock === undefined && webLocks() ? 0 : DEFAULT_STALE_JOB_MS,
      indexSearchAfterMs: null,
      ...deps,
    };
    this.#search = new ConversationSearch(this.#deps.db);
    const indexAfter = this.#deps.indexSearchAfterMs;
    if (indexAfter !== null) {
      setTimeout(() => {
        this.#search.startIndexing();
      }, indexAfter);
    }
    this.#profileEditor = new ProfileEditor(this.#deps.db, this.#deps.clock);
    this.#optimizer = new ProfileOptimizer({
      db: this.#deps.db,
      engine: () => this.#inUse(),
      lease: this.#lease,
      tryLock: this.#deps.tryLock,
      now: this.#deps.clock,
      orphanedAfterMs: this.#deps.orphanedJobAfterMs,
    });
    this.#lab = new LabRunner({
      db: this.#deps.labDb,
      loadEngine: this.#deps.loadEngine,
      lease: this.#lease,
      tryLock: this.#deps.tryLock,
      now: this.#deps.now,
      clock: this.#deps.clock,
      appVersion: this.#deps.appVersion,
    });
    // The engine is free for queued profile updates once a reply or a model load gives it back
    // (the optimizer never waits for it; the lab waits on its own).
    this.#lease.onRelease((role) => {
      if (role === 'chat' || role === 'model') this.#learnInBackground();
    });
  }

  /** PersonaBench runs, on the lab's own engines and database; a chat request stops them. */
  readonly lab: LabApi = {
    start: (request, onProgress) =>
      this.#unlessQuiesced(() => this.#lab.start(request, onProgress)),
    resume: (runId, onProgress) => this.#unlessQuiesced(() => this.#lab.resume(runId, onProgress)),
    stop: () => this.#lab.stop(),
    remove: (runId) => this.#lab.remove(runId),
  };

  readonly conversations: ConversationsApi = {
    create: (options = {}) =>
      this.#unlessQuiesced(async () => {
        const conversation = await createConversation(this.#deps.db, {
          temporary: options.temporary === true,
        });
        // On screen from now on: a background check must not take it for an ended session.
        await this.#setActive(conversation.id);
        return conversation;
      }),
    rename: (conversationId, title) =>
      this.#unlessQuiesced(async () => {
        await renameConversation(this.#deps.db, conversationId, title);
      }),
    remove: (conversationId) =>
      this.#unlessQuiesced(() => deleteConversation(this.#deps.db, conversationId)),
    send: (conversationId, text) =>
      this.#unlessQuiesced(async () => {
        const { db } = this.#deps;
        const stored = conversationId !== null && (await getConversation(db, conversationId));
        const id = stored ? stored.id : (await createConversation(db)).id;
        if (!stored) await this.#setActive(id);
        const sent = await sendUserMessage(db, id, text);
        return { conversationId: id, ...sent };
      }),
    prepareRegenerate: (conversationId) =>
      this.#unlessQuiesced(() => prepareRegenerate(this.#deps.db, conversationId)),
    setActive: (conversationId) => this.#unlessQuiesced(() => this.#setActive(conversationId)),
    recoverInterrupted: () =>
      this.#unlessQuiesced(async () => {
        await markInterruptedReplies(this.#deps.db, this.#deps.isReplyAlive);
      }),
  };

  readonly profile: ProfileApi = {
    edit: (edit) => this.#unlessQuiesced(() => this.#profileEditor.edit(edit)),
    acceptProposal: (id) => this.#unlessQuiesced(() => this.#profileEditor.acceptProposal(id)),
    rejectProposal: (id) => this.#unlessQuiesced(() => this.#profileEditor.rejectProposal(id)),
    updateSettings: (change) => this.#unlessQuiesced(() => setSettings(this.#deps.db, change)),
  };

  readonly learning: LearningApi = {
    schedule: (request) => this.#optimizer.schedule(request),
  };

  readonly device: DeviceApi = {
    probe: () => probeDevice(),
  };

  readonly models: ModelsApi = {
    load: async (spec, onProgress) => {
      // It would wait behind the data being replaced for ever.
      this.#refuseIfQuiesced();
      // A load still waiting for the engine gives up; one loading is displaced below.
      this.#loading?.abort();
      const controller = new AbortController();
      this.#loading = controller;
      this.#loadingId = spec.id;
      let lease: Lease | null = null;
      try {
        // Whoever uses the engine yields before the model under it is replaced: a reply ends as
        // stopped, a profile update's job goes back to the queue, the lab makes its call again.
        lease = await this.#lease
          .acquire('model', { displace: true, signal: controller.signal })
          .catch(() => {
            throw new AppError('aborted', 'Loading was cancelled.');
          });
        lease.signal.addEventListener(
          'abort',
          () => {
            controller.abort();
          },
          { once: true },
        );
        const engine = await this.#engineFor(spec.engine);
        if (this.#engine && this.#engine !== engine) await this.#engine.unload();
        this.#engine = null;
        this.#loaded = null;
        const loaded = await engine.load(spec, onProgress, controller.signal);
        if (controller.signal.aborted) throw new AppError('aborted', 'Loading was cancelled.');
        this.#engine = engine;
        this.#loaded = loaded;
        this.#tokenCounts.clear();
        this.#promptStarts.clear();
        await setSetting(this.#deps.db, 'selectedModel', spec);
        return loaded;
      } finally {
        if (this.#loading === controller) {
          this.#loading = null;
          this.#loadingId = null;
        }
        // Jobs that waited for a model, or yielded to this load, run on the new one.
        lease?.release();
      }
    },
    cancelLoad: () => {
      this.#loading?.abort();
      return Promise.resolve();
    },
    unload: async () => {
      // While the data is replaced the maintenance lease already keeps everyone else off the
      // engine, and it is never given back when an erase ends in a reload: unload under it.
      const lease = this.#maintenance
        ? null
        : await this.#lease.acquire('model', { displace: true });
      try {
        const engine = this.#engine;
        this.#engine = null;
        this.#loaded = null;
        await engine?.unload();
      } finally {
        lease?.release();
      }
    },
    current: () => Promise.resolve(this.#loaded),
    listCached: async (known) => {
      const kinds = new Set(known.map((spec) => spec.engine));
      const lists = await Promise.all(
        [...kinds].map(async (kind) => {
          const engine = await this.#engineFor(kind);
          return engine.listCached(known.filter((spec) => spec.engine === kind));
        }),
      );
      return lists.flat();
    },
    deleteCached: async (spec: ModelSpec) => {
      // A model being loaded from the files about to go would be "in use" with none left.
      if (this.#loadingId === spec.id) this.#loading?.abort();
      if (this.#loaded?.spec.id === spec.id) await this.models.unload();
      const engine = await this.#engineFor(spec.engine);
      await engine.deleteCached(spec);
    },
    addCustom: (model) =>
      this.#unlessQuiesced(async () => {
        await addCustomModel(this.#deps.db, model);
      }),
    removeCustom: (id) => this.#unlessQuiesced(() => removeCustomModel(this.#deps.db, id)),
  };

  readonly data: DataApi = {
    quiesce: async () => {
      this.#quiesced = true;
      this.#loading?.abort();
      // Replies waiting for the engine too: they would wait behind the import for ever.
      for (const reply of this.#replying) reply.abort();
      const maintenance = this.#maintenance
        ? Promise.resolve()
        : this.#lease.acquire('maintenance', { displace: true }).then((lease) => {
            this.#maintenance = lease;
          });
      await Promise.all([
        maintenance,
        Promise.allSettled([...this.#replies]),
        this.#optimizer.pause(),
        // A benchmark run stays resumable; its own database is erased with everything else.
        this.#lab.preempt(),
        this.#search.pause(),
      ]);
    },
    resume: async () => {
      // A message sent just before the data was to be replaced got no reply (the worker refused
      // it), and one may have come in a backup: left `streaming`, either would refuse every later
      // message in its conversation. Asked before replies are taken again, so none of ours runs.
      await markInterruptedReplies(this.#deps.db, this.#deps.isReplyAlive);
      this.#quiesced = false;
      this.#optimizer.resume();
      const maintenance = this.#maintenance;
      this.#maintenance = null;
      maintenance?.release();
      this.#search.resume();
    },
    measure: () => measureStoredData(this.#deps.db),
    exportBackup: (allowedHosts) => this.#backupFiles().exportBlob(allowedHosts),
    exportBackupTo: (allowedHosts, write) => this.#backupFiles().exportTo(allowedHosts, write),
    checkBackup: (file, builtInModelIds) => this.#backupFiles().check(file, builtInModelIds),
    importBackup: async (token) => {
      this.#refuseUnlessQuiesced();
      return this.#backupFiles().import(token);
    },
    discardBackup: (token) => {
      this.#backupFiles().discard(token);
      return Promise.resolve();
    },
    eraseDatabases: async () => {
      this.#refuseUnlessQuiesced();
      await wipeDatabase(this.#deps.db);
      // Benchmark runs are not the user's data but were made on this device: they go too.
      await wipeLabDatabase(this.#deps.labDb());
    },
  };

  /** Search over every conversation (`conversation-search.ts`). */
  readonly search: SearchApi = {
    query: (text, limit) => this.#search.query(text, limit),
  };

  readonly chat: ChatApi = {
    reply: (request, onStream) => {
      const work = this.#reply(request, onStream);
      this.#replies.add(work);
      const forget = () => this.#replies.delete(work);
      work.then(forget, forget);
      return work;
    },
    stop: () => {
      for (const reply of this.#replying) reply.abort();
      return Promise.resolve();
    },
    promptOf: (messageId) => Promise.resolve(this.#prompts.get(messageId) ?? null),
    saveProgress: () => this.#saveProgress?.() ?? Promise.resolve(),
  };

  /** The engine and the model it holds, or null when no model is loaded. */
  #inUse(): { engine: Engine; loaded: LoadedModel } | null {
    return this.#engine && this.#loaded ? { engine: this.#engine, loaded: this.#loaded } : null;
  }

  async #setActive(conversationId: string | null): Promise<void> {
    // The page selects a conversation the worker has just created and made active: nothing to do.
    if (conversationId === this.#activeConversationId) return;
    this.#activeConversationId = conversationId;
    await setSetting(this.#deps.db, 'activeConversationId', conversationId);
    // Moving to another conversation ends the session of the one left.
    this.#learnInBackground();
  }

  /**
   * Queues the sessions that have ended and runs the queue, when the worker schedules learning
   * itself (`learnEveryMs`); otherwise only runs what is queued. Nothing runs without a model.
   */
  #learnInBackground(): void {
    const every = this.#deps.learnEveryMs;
    if (every === null) {
      void this.#optimizer.runPending().catch(() => undefined);
      return;
    }
    if (this.#learnTimer === null) {
      this.#learnTimer = setInterval(() => {
        this.#learnInBackground();
      }, every);
    }
    if (!this.#loaded || this.#quiesced) return;
    const active = this.#checkedSinceStart ? this.#activeConversationId : null;
    this.#checkedSinceStart = true;
    // Opportunistic: a failed run is recorded on its job, and the next check tries again.
    void this.#optimizer.schedule({ activeConversationId: active }).catch(() => undefined);
  }

  /** Remembers the prompt of a reply, for "Show prompt"; the oldest is forgotten first. */
  #rememberPrompt(messageId: string, messages: ChatMessage[]): void {
    this.#prompts.delete(messageId);
    this.#prompts.set(messageId, messages);
    for (const oldest of this.#prompts.keys()) {
      if (this.#prompts.size <= PROMPTS_KEPT) break;
      this.#prompts.delete(oldest);
    }
  }

  #backupFiles(): BackupFiles {
    return (this.#backups ??= new BackupFiles(this.#deps.db, this.#deps.clock));
  }

  /** Replacing the data while a reply or an update could still write would mix old and new. */
  #refuseUnlessQuiesced(): void {
    if (!this.#quiesced) {
      throw new AppError(
        'invalid-request',
        'The assistant must be stopped before the data is replaced.',
      );
    }
  }

  #refuseIfQuiesced(): void {
    if (this.#quiesced) {
      throw new AppError('busy', 'Your data is being replaced or erased; the page will reload.');
    }
  }

  async #unlessQuiesced<T>(work: () => Promise<T>): Promise<T> {
    this.#refuseIfQuiesced();
    return work();
  }

  async #engineFor(kind: EngineKind): Promise<Engine> {
    let engine = this.#engines.get(kind);
    if (!engine) {
      engine = await this.#deps.loadEngine(kind);
      this.#engines.set(kind, engine);
    }
    return engine;
  }

  async #reply(
    request: ReplyRequest,
    onStream: (update: StreamUpdate) => void,
  ): Promise<ReplyOutcome> {
    this.#refuseIfQuiesced();
    const controller = new AbortController();
    this.#replying.add(controller);
    // The user is waiting: a profile update or a lab call in progress yields (its work goes back
    // to its queue) and the reply takes the engine as soon as it is given back. A second reply
    // (another conversation) waits for the first instead of leaving its message unanswered.
    const lease = await this.#lease
      .acquire('chat', { signal: controller.signal })
      .catch(() => null);
    const { db, holdLock, schedule, now, persistEveryMs } = this.#deps;
    const { messageId } = request;
    if (!lease) {
      // Stopped before it reached the model.
      this.#replying.delete(controller);
      await finishReply(db, messageId, { status: 'stopped', content: '' });
      return {
        messageId,
        finishReason: 'abort',
        droppedTurns: 0,
        promptTokens: 0,
        completionTokens: 0,
        tokensPerSecond: 0,
      };
    }
    // Only a model load or an erase asks a reply to yield: it ends as stopped, with its text.
    lease.signal.addEventListener(
      'abort',
      () => {
        controller.abort();
      },
      { once: true },
    );
    try {
      return await holdLock(replyLockName(messageId), async () => {
        let text = '';
        // Read once the reply has the engine: a model load may have run while it waited.
        const current = this.#inUse();
        try {
          if (!current) throw new AppError('no-model-loaded', 'No model is loaded.');
          const { engine, loaded } = current;
          const reserve = replyTokenReserve(loaded.contextWindow);
          const history = await this.#historyBefore(
            request,
            historyCharBudget(loaded.contextWindow, reserve),
          );
          const startId = this.#promptStarts.get(request.conversationId);
          const previousStart =
            startId === undefined ? -1 : history.ids.findIndex((id) => id === startId);
          const fitted = await fitToContext({
            system: await this.#systemPrompt(request.conversationId),
            turns: history.turns,
            contextWindow: loaded.contextWindow,
            reserveForReply: reserve,
            countTokens: (t) => this.#countTokens(engine, t),
            knownTokens: (t) => this.#tokenCounts.get(t),
            ...(previousStart < 0 ? {} : { previousStart }),
          });
          this.#rememberPromptStart(request.conversationId, history.ids[fitted.droppedTurns]);
          // Messages too old to be read at all were left out as well.
          const prompt = { ...fitted, droppedTurns: fitted.droppedTurns + history.olderCount };
          this.#rememberPrompt(messageId, prompt.messages);
          const batcher = new StreamBatcher((delta) => {
            onStream({ messageId, delta });
          }, schedule);
          // The first text is stored at once, so a crash right after it appears on screen
          // keeps it; after that, every persistEveryMs (issue 12).
          let lastPersist = Number.NEGATIVE_INFINITY;
          // An object, not a local: TypeScript cannot see the callback assign a local.
          const timing: { firstTokenAt: number | null } = { firstTokenAt: null };
          let persisting: Promise<void> = Promise.resolve();
          const persist = () => {
            lastPersist = now();
            const snapshot = text;
            // Chained so an older snapshot can never land after a newer one.
            persisting = persisting.then(() => saveReplyProgress(db, messageId, snapshot));
            return persisting;
          };
          this.#saveProgress = persist;
          const result = await engine.generate(
            {
              messages: prompt.messages,
              maxTokens: reserve,
              temperature: CHAT_TEMPERATURE,
              repeatPenalty: CHAT_REPEAT_PENALTY,
            },
            (delta) => {
              timing.firstTokenAt ??= now();
              text += delta;
              batcher.push(delta);
              if (now() - lastPersist >= persistEveryMs) void persist().catch(() => undefined);
            },
            controller.signal,
          );
          this.#saveProgress = null;
          batcher.flush();
          await persisting;
          const seconds = timing.firstTokenAt === null ? 0 : (now() - timing.firstTokenAt) / 1000;
          const tokensPerSecond =
            result.decodeTokensPerSecond ??
            (seconds > 0 ? Math.max(0, result.completionTokens - 1) / seconds : 0);
          const stats = {
            promptTokens: result.promptTokens || prompt.promptTokens,
            completionTokens: result.completionTokens,
            tokensPerSecond,
          };
          await finishReply(db, messageId, {
            content: result.text || text,
            status: result.finishReason === 'abort' ? 'stopped' : 'complete',
            stats,
            droppedTurns: prompt.droppedTurns,
            ...(result.finishReason === 'length' ? { cutOff: true } : {}),
            modelId: loaded.spec.id,
          });
          return {
            messageId,
            finishReason: result.finishReason,
            droppedTurns: prompt.droppedTurns,
            ...stats,
          };
        } catch (error) {
          // Every reply that does not end ends as an error, even one that never reached the
          // model: a reply left `streaming` refuses every later message in its conversation.
          const ending = {
            status: 'error',
            error: serializeError(error),
            modelId: current?.loaded.spec.id,
          } as const;
          try {
            await finishReply(db, messageId, { ...ending, content: text });
          } catch {
            // The disk is full (or the write failed): the text shown may not fit, but the reply
            // must not stay `streaming`, which refuses every later message in the conversation.
            // Keeping the text saved last, the ending alone does not grow the row.
            await finishReply(db, messageId, ending).catch(() => undefined);
          }
          throw error;
        }
      });
    } finally {
      this.#replying.delete(controller);
      this.#saveProgress = null;
      // Jobs that yielded to this reply (or were queued meanwhile) run once it is released.
      lease.release();
    }
  }

  /** The standing instructions, with the user's profile unless personalization is off here. */
  async #systemPrompt(conversationId: string): Promise<string> {
    const { db, clock } = this.#deps;
    const [settings, conversation] = await Promise.all([
      getAllSettings(db),
      getConversation(db, conversationId),
    ]);
    const personal = settings.personalization && conversation?.temporary !== true;
    const profile = personal ? (await getProfile(db)).profile : null;
    return personalizedSystemPrompt(new Date(clock()), profile, settings.profileTokenBudget);
  }

  #rememberPromptStart(conversationId: string, messageId: string | undefined): void {
    this.#promptStarts.delete(conversationId);
    if (messageId === undefined) return;
    if (this.#promptStarts.size >= PROMPT_STARTS_KEPT) {
      const oldest = this.#promptStarts.keys().next();
      if (!oldest.done) this.#promptStarts.delete(oldest.value);
    }
    this.#promptStarts.set(conversationId, messageId);
  }

  async #countTokens(engine: Engine, text: string): Promise<number> {
    const known = this.#tokenCounts.get(text);
    if (known !== undefined) return known;
    const count = await engine.countTokens(text);
    if (this.#tokenCounts.size >= TOKEN_COUNT_MEMORY) {
      // Maps iterate in insertion order: the first key is the oldest.
      const oldest = this.#tokenCounts.keys().next();
      if (!oldest.done) this.#tokenCounts.delete(oldest.value);
    }
    this.#tokenCounts.set(text, count);
    return count;
  }

  /**
   * The turns before the reply, only as far back as `maxChars` of text (issue 11: reading all of
   * a 5,000-message conversation took 402 ms per reply), and how many older messages were not read.
   */
  async #historyBefore(
    request: ReplyRequest,
    maxChars: number,
  ): Promise<{ turns: ConversationTurn[]; ids: string[]; olderCount: number }> {
    const tail = await readConversationTail(
      this.#deps.db,
      request.messageId,
      maxChars,
      countsAsTurn,
    );
    if (tail?.conversationId !== request.conversationId) {
      throw new AppError('unknown', 'The message to reply to no longer exists.');
    }
    const read = tail.messages.filter(countsAsTurn);
    return {
      turns: read.map((m) => ({ role: m.role, content: m.content })),
      ids: read.map((m) => m.id),
      olderCount: tail.olderCount,
    };
  }
}
