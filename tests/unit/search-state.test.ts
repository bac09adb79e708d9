/** The search box's state: one query per pause in typing, and only the latest answer shown. */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { createConversation, finishReply, sendUserMessage } from '../../src/db';
import type { AssistantClient, AssistantRemote } from '../../src/state/assistant-client';
import { SearchState } from '../../src/state/search.svelte';
import { Assistant } from '../../src/worker/assistant';
import { freshDatabase } from './factories';

/** The real worker implementation in-process, counting the searches it is asked. */
async function searchable() {
  const db = freshDatabase();
  const conversation = await createConversation(db, { title: 'Trip' });
  const sent = await sendUserMessage(db, conversation.id, 'Booking the ferry to Naxos');
  await finishReply(db, sent.assistantMessageId, { status: 'complete', content: 'Done.' });
  const assistant = new Assistant({
    db,
    loadEngine: () => Promise.reject(new Error('no engine in this test')),
  });
  const asked: string[] = [];
  const api = {
    search: {
      query: (text: string, limit?: number) => {
        asked.push(text);
        return assistant.search.query(text, limit);
      },
    },
  } as unknown as AssistantRemote;
  return { client: { api } as unknown as AssistantClient, asked };
}

describe('SearchState', () => {
  it('asks once when typing pauses, and shows what was found', async () => {
    const { client, asked } = await searchable();
    const search = new SearchState(client, 20);
    for (const text of ['f', 'fe', 'fer', 'ferr']) search.setText(text);
    expect(search.settled).toBe(false);
    await expect.poll(() => search.settled).toBe(true);
    expect(asked).toEqual(['ferr']);
    expect(search.hits.map((hit) => hit.snippet?.text)).toEqual(['Booking the ferry to Naxos']);
  });

  it('drops an answer to text that was changed meanwhile, and clears at once', async () => {
    const { client } = await searchable();
    const search = new SearchState(client, 0);
    search.setText('ferry');
    search.setText('naxos');
    await expect.poll(() => search.settled).toBe(true);
    expect(search.text).toBe('naxos');
    expect(search.hits).toHaveLength(1);

    search.clear();
    expect(search.active).toBe(false);
    expect(search.hits).toEqual([]);
    expect(search.settled).toBe(true);
  });
});
