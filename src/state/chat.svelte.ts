import * as Comlink from 'comlink';
import { AppError } from '../core/errors';
import type { ChatMessage } from '../engine/engine';
import type { Conversation, Message } from '../db';
import type { AssistantClient } from './assistant-client';
import type { ChatReads, ConversationPage } from './database-reads';
import { LiveValue } from './live-query.svelte';
import { MessageWindow } from './message-window.svelte';

export interface Streaming {
  messageId: string;
  text: string;
}

/**
 * Conversations read at first and added per step: the list reads what it shows, never all of
 * them (issue 11: 2,000 conversations were 10,000 nodes, and every change read them all again).
 */
export const CONVERSATION_PAGE = 100;

/** Conversations, the open one's messages, and the reply being streamed into it. */
export class ChatState {
  readonly #reads: ChatReads;
  readonly #client: AssistantClient;
  readonly #onEngineError: (error: AppError) => void;
  #list = $state.raw<LiveValue<ConversationPage>>() as LiveValue<ConversationPage>;
  #listLimit = CONVERSATION_PAGE;
  /** The open conversation's row, wherever it is in the list. */
  #active = $state.raw<LiveValue<Conversation | undefined> | null>(null);
  #messages = $state.raw<MessageWindow | null>(null);
  #activeId = $state<string | null>(null);
  #streaming = $state<Streaming | null>(null);
  #generating = $state(false);
  #error = $state<AppError | null>(null);
  #highlighted = $state<string | null>(null);
  /** A conversation the worker is creating for "New chat", until it is selected. */
  #creating: Promise<void> | null = null;
  /**
   * Asked before a conversation is deleted, with what was learned only from it; resolves to the
   * fields to forget as well (an empty list keeps them).
   */
  confirmForget: (
    fields: { section: string; key: string }[],
  ) => Promise<{ section: string; key: string }[]> = () => Promise.resolve([]);
  forgetFields: (fields: { section: string; key: string }[]) => Promise<void> = () =>
    Promise.resolve();

  constructor(reads: ChatReads, client: AssistantClient, onEngineError: (error: AppError) => void) {
    this.#reads = reads;
    this.#client = client;
    this.#onEngineError = onEngineError;
    this.#list = new LiveValue(() => reads.newestConversations(CONVERSATION_PAGE), {
      rows: [],
      total: 0,
    });
  }

  /** The conversations read so far, newest activity first. */
  get conversations(): Conversation[] {
    return this.#list.value.rows;
  }

  /** How many conversations are stored, read or not. */
  get conversationCount(): number {
    return this.#list.value.total;
  }

  /** Reads the next page of older conversations; what is shown stays until it arrives. */
  showMoreConversations(): void {
    const shown = this.#list.value;
    if (shown.rows.length < this.#listLimit) return;
    this.#listLimit += CONVERSATION_PAGE;
    const limit = this.#listLimit;
    this.#list.stop();
    this.#list = new LiveValue(() => this.#reads.newestConversations(limit), shown);
  }

  get activeId(): string | null {
    return this.#activeId;
  }

  get generating(): boolean {
    return this.#generating;
  }

  get error(): AppError | null {
    return this.#error;
  }

  /** The message an evidence link pointed at, shown highlighted. */
  get highlighted(): string | null {
    return this.#highlighted;
  }

  get activeConversation(): Conversation | undefined {
    return this.#active?.value;
  }

  async showMessage(conversationId: string, messageId: string): Promise<void> {
    // Evidence may outlive its conversation (an import, a deletion in another tab).
    if (!(await this.#reads.conversation(conversationId))) {
      this.#error = new AppError(
        'invalid-request',
        'The conversation this came from is no longer stored on this device.',
      );
      return;
    }
    if (conversationId === this.#activeId && this.#messages) {
      // A long conversation has only a page loaded: the one around the message replaces it.
      void this.#messages.showAround(messageId).catch(() => undefined);
    } else {
      this.select(conversationId, messageId);
    }
    this.#highlighted = messageId;
  }

  /** The loaded part of the open conversation's messages, oldest first (issue 11: never all). */
  get messages(): Message[] {
    return this.#messages?.rows ?? [];
  }

  /** The open conversation's loaded messages, with the calls that load more of them. */
  get window(): MessageWindow | null {
    return this.#messages;
  }

  /** The reply in flight, as far as it has streamed to this tab. */
  get streaming(): Streaming | null {
    return this.#streaming;
  }

  /** A stored message, with the reply in flight shown as far as it has streamed. */
  shown(message: Message): Message {
    const streaming = this.#streaming;
    if (streaming?.messageId !== message.id || message.status !== 'streaming') return message;
    return streaming.text.length >= message.content.length
      ? { ...message, content: streaming.text }
      : message;
  }

  /** The reply this tab streamed last, as shown, while it is loaded. */
  get lastReply(): Message | undefined {
    const id = this.#streaming?.messageId;
    const message = id === undefined ? undefined : this.messages.find((m) => m.id === id);
    return message && this.shown(message);
  }

  dismissError(): void {
    this.#error = null;
  }

  /** Replies left 'streaming' by a crash or closed tab, whose generator no longer holds its lock. */
  async recoverInterruptedReplies(): Promise<void> {
    await this.#client.api.conversations.recoverInterrupted();
  }

  /** `around`: a message to open the conversation at, instead of its newest messages. */
  select(conversationId: string | null, around?: string): void {
    this.#highlighted = null;
    if (conversationId === this.#activeId) return;
    this.#messages?.stop();
    this.#active?.stop();
    this.#activeId = conversationId;
    this.#active = conversationId
      ? new LiveValue(() => this.#reads.conversation(conversationId), undefined)
      : null;
    this.#messages = conversationId ? new MessageWindow(this.#reads, conversationId, around) : null;
    void this.#client.api.conversations.setActive(conversationId).catch(() => undefined);
  }

  /** A temporary conversation is neither personalized nor learned from. */
  async newConversation(temporary = false): Promise<void> {
    const creating = (async () => {
      const conversation = await this.#guard(() =>
        this.#client.api.conversations.create({ temporary }),
      );
      if (conversation) this.select(conversation.id);
    })();
    this.#creating = creating;
    try {
      await creating;
    } finally {
      if (this.#creating === creating) this.#creating = null;
    }
  }

  async rename(conversationId: string, title: string): Promise<void> {
    await this.#guard(() => this.#client.api.conversations.rename(conversationId, title));
  }

  async remove(conversationId: string): Promise<void> {
    if (conversationId === this.#activeId && this.#generating) await this.stop();
    // Asked before deleting: afterwards the evidence that ties fields to it is gone.
    const learnedOnlyHere = await this.#reads.fieldsLearnedOnlyFrom(conversationId);
    const forget = learnedOnlyHere.length > 0 ? await this.confirmForget(learnedOnlyHere) : [];
    await this.#guard(() => this.#client.api.conversations.remove(conversationId));
    if (forget.length > 0) await this.forgetFields(forget);
    if (conversationId === this.#activeId) {
      const next = this.conversations.find((c) => c.id !== conversationId);
      this.select(next?.id ?? null);
    }
  }

  async send(text: string): Promise<void> {
    if (this.#generating) return;
    // A message sent right after "New chat" belongs in the new chat, which the worker is creating.
    await this.#creating;
    // The remembered conversation may not be stored (an import without it, a deletion in
    // another tab): the worker starts a new one instead of refusing the message (issue 12).
    const activeId = this.#activeId;
    // The user jumped back to an older message: what they send appears at the end.
    this.#messages?.showNewest();
    const sent = await this.#guard(() => this.#client.api.conversations.send(activeId, text));
    if (!sent) return;
    this.select(sent.conversationId);
    await this.#reply(sent.conversationId, sent.assistantMessageId);
  }

  async regenerate(): Promise<void> {
    const conversationId = this.#activeId;
    if (!conversationId || this.#generating) return;
    this.#messages?.showNewest();
    const messageId = await this.#guard(() =>
      this.#client.api.conversations.prepareRegenerate(conversationId),
    );
    if (messageId) await this.#reply(conversationId, messageId);
  }

  async stop(): Promise<void> {
    await this.#client.api.chat.stop();
  }

  /** What the model was given for a reply, while this tab's worker still remembers it. */
  async promptOf(messageId: string): Promise<ChatMessage[] | null> {
    return (await this.#guard(() => this.#client.api.chat.promptOf(messageId))) ?? null;
  }

  /**
   * Stores the reply streaming now, as far as the worker has generated it (never less than was
   * shown): the page is being hidden, and a hidden tab may be discarded without another event.
   */
  async saveShownReply(): Promise<void> {
    if (!this.#generating) return;
    await this.#client.api.chat.saveProgress();
  }

  async #reply(conversationId: string, messageId: string): Promise<void> {
    this.#error = null;
    this.#generating = true;
    this.#streaming = { messageId, text: '' };
    try {
      await this.#client.api.chat.reply(
        { conversationId, messageId },
        Comlink.proxy((update) => {
          if (this.#streaming?.messageId === update.messageId) this.#streaming.text += update.delta;
        }),
      );
    } catch (error) {
      const appError = AppError.from(error);
      this.#error = appError;
      this.#onEngineError(appError);
    } finally {
      this.#generating = false;
    }
  }

  async #guard<T>(work: () => Promise<T>): Promise<T | undefined> {
    try {
      return await work();
    } catch (error) {
      this.#error = AppError.from(error);
      return undefined;
    }
  }
}
