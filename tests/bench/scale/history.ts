/**
 * The generated histories of `npm run bench:scale`, written as backup files the app imports (its
 * own `importEverything`, through the Privacy page): conversations and messages streamed to disk
 * (a 100k-message history is ~90 MB), and a profile made by the app's own profile editor (60 fields,
 * 500 revisions) in an in-memory database, exported with the app's own `exportBackupParts`.
 */
import 'fake-indexeddb/auto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { BACKUP_FORMAT, BACKUP_VERSION, exportBackupParts, openDatabase } from '../../../src/db';
import { SCHEMA_VERSION } from '../../../src/db/database';
import { ProfileEditor } from '../../../src/worker/profile-editor';

export interface HistorySpec {
  name: string;
  conversations: number;
  messages: number;
  /** Messages of the conversation open at start-up (the newest); 0: an even share. */
  openConversationMessages: number;
  /** 60 fields, 500 revisions. */
  profile: boolean;
}

/** A word planted once, in the oldest conversation: the rare-word search. */
export const RARE_WORD = 'kastellorizo';
/** The title of a 2-message conversation, to send in beside the long one. */
export const SHORT_TITLE = 'Short chat';
const DAY = 86_400_000;
const START = Date.UTC(2021, 0, 1);

/** A deterministic generator, so runs compare. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const COMMON =
  `the of and to a in is it you that he was for on are with as I his they be at one have
this from or had by hot word but what some we can out other were all there when up use your how said
an each she which do their time if will way about many then them write would like so these her long
make thing see him two has look more day could go come did number sound no most people my over know
water than call first who may down side been now find any new work part take get place made live where
after back little only round man year came show every good me give our under name very through just
form sentence great think say help low line differ turn cause much mean before move right boy old too
same tell does set three want air well also play small end put home read hand port large spell add
even land here must big high such follow act why ask men change went light kind off need house picture
try us again animal point mother world near build self earth father head stand own page should country
found answer school grow study still learn plant cover food sun four between state keep eye never last
let thought city tree cross farm hard start might story saw far sea draw left late run while press
close night real life few north open seem together next white children begin got walk example ease
paper group always music those both mark often letter until mile river car feet care second book
carry took science eat room friend began idea fish mountain stop once base hear horse cut sure watch
color face wood main enough plain girl usual young ready above ever red list though feel talk bird
soon body dog family direct pose leave song measure door product black short numeral class wind
question happen complete ship area half rock order fire south problem piece told knew pass since top
whole king space heard best hour better true during hundred five remember step early hold west ground
interest reach fast verb sing listen six table travel less morning ten simple several vowel toward war
lay against pattern slow center love person money serve appear road map rain rule govern pull cold
notice voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star box
noun field rest correct able pound done beauty drive stood contain front teach week final gave green
oh quick develop ocean warm free minute strong special mind behind clear tail produce fact street inch
multiply nothing course stay wheel full force blue object decide surface deep moon island foot system
busy test record boat common gold possible plane stead dry wonder laugh thousand ago ran check game
shape equate miss brought heat snow tire bring yes distant fill east paint language among garden
recipe train ticket museum coffee bicycle holiday weekend kitchen recipe doctor meeting budget`.split(
    /\s+/,
  );
const SYLLABLES = 'ka lo mi ren tu sa vel dor in pra qui zen ba mor tel eu fra lin gos ar'.split(
  ' ',
);
const CJK = [
  '週末に東京タワーへ行きたいです。',
  '我下个月去北京出差。',
  '서울에서 커피를 마셨어요.',
];

function vocabulary(next: () => number): string[] {
  const rare = Array.from({ length: 4000 }, () => {
    const n = 2 + Math.floor(next() * 3);
    return Array.from({ length: n }, () => SYLLABLES[Math.floor(next() * SYLLABLES.length)]).join(
      '',
    );
  });
  return [...COMMON, ...rare];
}

/** Roughly Zipf-distributed words: common ones often, the long tail rarely. */
function text(next: () => number, words: string[], length: number): string {
  const out: string[] = [];
  let size = 0;
  while (size < length) {
    const word = words[Math.floor(words.length * next() ** 3)] ?? 'word';
    out.push(out.length % 12 === 0 ? `${word.charAt(0).toUpperCase()}${word.slice(1)}` : word);
    size += word.length + 1;
  }
  return `${out.join(' ')}.`;
}

async function write(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/** The profile and its history, made by the app's own editor and exported by its own backup. */
async function generatedProfile(): Promise<{ profile: string; revisions: string }> {
  const db = openDatabase(`bench-profile-${crypto.randomUUID()}`);
  let now = START;
  const editor = new ProfileEditor(db, () => (now += 60_000));
  const sections = ['Demographics', 'Personality', 'Patterns', 'Preferences'];
  for (let i = 0; i < 500; i++) {
    const field = i % 60;
    const outcome = await editor.edit({
      kind: 'set',
      section: sections[field % sections.length] ?? 'Demographics',
      key: `Bench field ${field + 1}`,
      value: `Value ${i} of field ${field + 1}, a sentence long enough to look like one.`,
    });
    if (!outcome.changed) throw new Error(`profile edit ${i} was refused: ${outcome.refused}`);
  }
  const backup = JSON.parse((await exportBackupParts(db, now)).join('')) as {
    profile: unknown;
    revisions: unknown[];
  };
  await db.delete();
  return {
    profile: JSON.stringify(backup.profile),
    revisions: backup.revisions.map((r) => JSON.stringify(r)).join(',\n'),
  };
}

/** Writes the history as a backup file at `path`; returns the id of the conversation open. */
export async function writeHistory(spec: HistorySpec, path: string): Promise<void> {
  const next = random(11);
  const words = vocabulary(next);
  const stream = createWriteStream(path);
  const head = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    exportedAt: new Date(START + 2000 * DAY).toISOString(),
    schemaVersion: SCHEMA_VERSION,
  };
  await write(stream, `${JSON.stringify(head).slice(0, -1)},\n"conversations":[`);
  const count = spec.conversations;
  const plain = spec.messages - spec.openConversationMessages - (spec.conversations > 1 ? 2 : 0);
  const others = Math.max(1, count - (spec.openConversationMessages > 0 ? 1 : 0) - 1);
  // Oldest first; the newest is the one open at start-up.
  const sizes = Array.from({ length: count }, (_, i) => {
    if (i === count - 1 && spec.openConversationMessages > 0) return spec.openConversationMessages;
    if (i === count - 2 && count > 1) return 2;
    const share = Math.floor(plain / others);
    return Math.max(2, share - (share % 2));
  });
  const ids = sizes.map((_, i) => `bench-conversation-${i}`);
  const at = (i: number) => START + i * (DAY / 2);
  for (let i = 0; i < count; i++) {
    const title =
      i === count - 2
        ? SHORT_TITLE
        : text(next, words, 30)
            .slice(0, 40)
            .replace(/\s+\S*$/, '');
    const conversation = {
      id: ids[i],
      title,
      createdAt: at(i),
      updatedAt: at(i) + (sizes[i] ?? 0) * 1000,
      temporary: false,
      learnedUntil: at(i) + (sizes[i] ?? 0) * 1000,
    };
    await write(stream, `${i === 0 ? '\n' : ',\n'}${JSON.stringify(conversation)}`);
  }
  await write(stream, '],\n"messages":[');
  let first = true;
  for (let i = 0; i < count; i++) {
    for (let m = 0; m < (sizes[i] ?? 0); m++) {
      const user = m % 2 === 0;
      let content = text(next, words, user ? 300 : 800);
      if (i === 0 && m === 4) content = `Remember: the ferry to ${RARE_WORD} leaves at dawn.`;
      else if (next() < 0.01) content = `${CJK[Math.floor(next() * CJK.length)]} ${content}`;
      const message = {
        id: `bench-message-${i}-${m}`,
        conversationId: ids[i],
        role: user ? 'user' : 'assistant',
        content,
        createdAt: at(i) + m * 1000,
        status: 'complete',
      };
      await write(stream, `${first ? '\n' : ',\n'}${JSON.stringify(message)}`);
      first = false;
    }
  }
  const profile = spec.profile ? await generatedProfile() : null;
  await write(stream, `],\n"profile":${profile ? profile.profile : 'null'},\n"revisions":[`);
  if (profile) await write(stream, `\n${profile.revisions}`);
  const settings = count > 0 ? [{ key: 'activeConversationId', value: ids[count - 1] }] : [];
  await write(
    stream,
    `],\n"proposals":[],\n"settings":${JSON.stringify(settings)},\n"customModels":[],\n"allowedHosts":[]\n}\n`,
  );
  stream.end();
  await once(stream, 'finish');
}
