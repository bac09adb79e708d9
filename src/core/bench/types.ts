/**
 * PersonaBench in the browser (issue #5): the data a benchmark run reads, records and reports.
 * Plain data only: stored in the lab's own IndexedDB database, sent across the worker boundary,
 * written to JSON/CSV. The user's real profile and conversations are never part of a run.
 */
import type { FinishReason, ModelSpec } from '../llm';
import type { Profile } from '../profile/types';
import type { ValueResult } from '../result';

/** One scene of a persona's timeline; in a run, one scene is one session. */
export interface BenchScene {
  /** `scene_type` in the PersonaBench files, e.g. "Travel planning". */
  type: string;
  /** `scene_desc`: what the scene is about, for the simulator and the judge. */
  description: string;
  /** `scene_context`: what is going on in the user's life at this point. */
  context: string;
  /** `expected_response`: what an ideal, personalized reply would contain. */
  expectedResponse: string;
  /** `personalized_query`: the query as this person would ask it, details included. */
  personalizedQuery: string;
  /** `neutralized_query`: the same query with personal details removed (the first user turn). */
  neutralizedQuery: string;
}

export interface BenchPersona {
  /** Stable id from the file name, e.g. `berlin-move`. */
  id: string;
  /** A display name, from the persona's `Name` when it has one. */
  name: string;
  /** The true persona, in our profile format (PersonaBench dictionaries are converted on load). */
  golden: Profile;
  scenes: BenchScene[];
  /**
   * Facts that change mid-way through the scenes (a move, a new diet, a new job), when the dataset
   * declares them (`changes` in its index.json). Absent for the released PersonaBench files.
   */
  changes?: BenchChange[];
}

/**
 * A fact of the persona that changes during its timeline: from scene `sceneIndex` on, `after`
 * holds instead of `before`. `section`/`key` name the golden persona's field, which holds the
 * state at the end, so a learned profile must update the fact, not only accumulate facts.
 */
export interface BenchChange {
  /** 0-based index of the first scene in which `after` holds (never 0). */
  sceneIndex: number;
  /** Section and key of the field in the golden profile, e.g. Demographics › Location. */
  section: string;
  key: string;
  /** Short words the scene contexts use for the old and new state, e.g. "Berlin" and "Lisbon". */
  before: string;
  after: string;
}

export interface BenchDataset {
  /** e.g. `persona-en` for our shipped set, or the folder name the user chose. */
  name: string;
  personas: BenchPersona[];
}

/**
 * The paper's conditions: no persona in the prompt; the persona learned by the optimizer every k
 * sessions; the golden persona; and the "Conversations RAG" baseline (earlier sessions retrieved
 * into the prompt instead of a profile).
 */
export const BENCH_CONDITIONS = [
  'none',
  'learned-k1',
  'learned-k3',
  'learned-k5',
  'golden',
  'rag',
] as const;
export type BenchCondition = (typeof BENCH_CONDITIONS)[number];

/** The optimizer runs with the assistant's model, exactly as in the app. */
export type BenchRole = 'assistant' | 'simulator' | 'judge';
export type BenchCallRole = BenchRole | 'optimizer';

export interface BenchSettings {
  conditions: BenchCondition[];
  /** User turns per session before the simulator gives up (default 5). */
  maxTurns: number;
  /** Base seed; each call's seed is derived from it, so a run can be repeated. */
  seed: number;
  /** Run only the first n personas / scenes (0 or absent: all). */
  personaLimit?: number;
  sceneLimit?: number;
  /** Also run the profile stability experiment (noise and contradictions injected). */
  stability: boolean;
}

/** Which model plays which role, by model id (the ids the Models view lists). */
export type BenchRoles = Record<BenchRole, string>;

export interface BenchTurn {
  role: 'user' | 'assistant';
  content: string;
}

/** Every model call is recorded, so a run can be audited and repeated. */
export interface BenchCall {
  role: BenchCallRole;
  modelId: string;
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  output: string;
  /** 0 for the first try; one retry follows output that does not validate. */
  attempt: number;
  seed: number;
  temperature: number;
  /** Why the output was refused, when it was. */
  error?: string;
  promptTokens: number;
  completionTokens: number;
  ms: number;
  /** How generation ended ('length': cut off), so a replayed call is judged as the live one was. */
  finishReason?: FinishReason;
}

export interface SessionScores {
  helpfulness: number;
  personalization: number;
  reason: string;
}

/** A judgement that failed twice is recorded as a failure, never as a silent zero. */
export type Judged<T> = ValueResult<T>;

export interface OptimizerRunRecord {
  /** Sessions (scene indexes) the update read. */
  sceneIndexes: number[];
  applied: number;
  rejected: number;
  /** Tokens the optimizer processed and produced, and its wall time. */
  promptTokens: number;
  completionTokens: number;
  ms: number;
  /** Fields in the profile when the update started. */
  profileFields: number;
  error?: string;
}

/** One session: a scene played under one condition for one persona. */
export interface BenchSession {
  runId: string;
  condition: BenchCondition;
  personaId: string;
  sceneIndex: number;
  turns: BenchTurn[];
  /** The simulator declared itself satisfied (else it ran out of turns or failed). */
  satisfied: boolean;
  /** Utterance efficiency: user turns until satisfied (maxTurns when never satisfied). */
  userTurns: number;
  /** The judge's scores for the first assistant reply. */
  scores: Judged<SessionScores>;
  /** The optimizer update that followed this session, in learned conditions when one was due. */
  optimizer?: OptimizerRunRecord;
  /** The profile after this session (learned conditions), for similarity over updates. */
  profileAfter?: Profile;
  /** Deterministic field-level similarity of `profileAfter` to the golden persona, 0..10. */
  fieldSimilarity?: number;
  /** A simulator that failed twice ends the session; the reason is kept. */
  error?: string;
  calls: BenchCall[];
}

/**
 * The profile stability experiment (`settings.stability`), run for a learned condition after the
 * persona's scenes: noise sessions (off-topic small talk) and contradictory sessions (hypotheticals,
 * role-play, facts about someone else) are played, the optimizer learns from them, and the fields
 * that should stay put are compared before and after. Added for issue #5 (additive).
 */
export interface StabilityResult {
  /** The injected sessions, in order: what the user said and what the assistant answered. */
  sessions: { kind: 'noise' | 'contradiction'; turns: BenchTurn[]; decoy?: string }[];
  /** Golden stable fields (Demographics) the learned profile held before the injection. */
  stableFields: number;
  /** Of those, fields whose learned value changed or was removed. */
  changed: number;
  /** Of those, fields whose new value carries an injected decoy (wrongly replaced). */
  replacedByDecoy: number;
  /** changed / stableFields, 0..1; null when the profile held no stable field to drift. */
  drift: number | null;
  /** The optimizer updates that read the injected sessions. */
  optimizer: OptimizerRunRecord[];
  profileAfter: Profile;
}

/**
 * Whether a fact that changed mid-way (`BenchPersona.changes`) reached the learned profile by the
 * end: `updated` when the learned value holds the new state's words and not the old one's,
 * `stale` when it still holds the old state's, `missing` when the field was never learned, `other`
 * otherwise. Added for issue #5 (additive).
 */
export interface FactUpdate {
  section: string;
  key: string;
  before: string;
  after: string;
  learned: string | null;
  status: 'updated' | 'stale' | 'missing' | 'other';
}

/** End of a persona under a learned condition: how close the learned profile came. */
export interface BenchPersonaResult {
  runId: string;
  condition: BenchCondition;
  personaId: string;
  profile: Profile;
  /** The judge's 0..10 persona similarity. */
  judgeSimilarity: Judged<{ score: number; reason: string }>;
  /** Deterministic field-level similarity, 0..10. */
  fieldSimilarity: number;
  calls: BenchCall[];
  /** With `settings.stability`: how the learned profile held up against noise and contradictions. */
  stability?: StabilityResult;
  /** One entry per fact of the persona that changed mid-way (none when it declares no change). */
  factUpdates?: FactUpdate[];
}

export type BenchRunStatus = 'running' | 'stopped' | 'done' | 'failed';

export interface BenchRun {
  id: string;
  createdAt: number;
  updatedAt: number;
  /** The app's version (package.json) and build, for repeatability. */
  appVersion: string;
  datasetName: string;
  /** The dataset itself is stored with the run, so a resume never depends on a file again. */
  dataset: BenchDataset;
  roles: BenchRoles;
  /** The full model specs behind `roles`, so a resume loads the same models (added, issue #5). */
  roleSpecs?: Record<BenchRole, ModelSpec>;
  settings: BenchSettings;
  status: BenchRunStatus;
  error?: string;
  /** Units done and in all (a unit is a session or a persona's final judgement). */
  done: number;
  total: number;
  /** Time spent running, summed over resumes, for the ETA. */
  elapsedMs: number;
}

/** One row of the paper's Table 1. Averages over every judged session; null when none. */
export interface ConditionSummary {
  condition: BenchCondition;
  helpfulness: number | null;
  personalization: number | null;
  /** Judge's persona similarity (learned conditions only). */
  personaSimilarity: number | null;
  /** Deterministic field-level similarity beside it. */
  fieldSimilarity: number | null;
  /** Mean user turns per session. */
  utterances: number | null;
  sessions: number;
  /** Judgements and simulations recorded as failures (not counted in the averages). */
  failures: number;
}

export interface BenchProgress {
  runId: string;
  status: BenchRunStatus;
  done: number;
  total: number;
  /** e.g. "learned-k3 · Mara · scene 4/10 · simulator turn 2". */
  step: string;
  /** Estimated milliseconds left, from the time per unit so far; null before the first unit. */
  etaMs: number | null;
}

/** The paper's GPT-4o rows (AI PERSONA, Table 1), printed beside our results for reference. */
export const PAPER_GPT4O: readonly {
  label: string;
  helpfulness: number;
  personalization: number;
  personaSimilarity: number | null;
  utterances: number;
}[] = [
  {
    label: 'GPT-4o · no persona',
    helpfulness: 7.96,
    personalization: 7.35,
    personaSimilarity: null,
    utterances: 2.24,
  },
  {
    label: 'GPT-4o · golden persona',
    helpfulness: 8.34,
    personalization: 7.78,
    personaSimilarity: null,
    utterances: 1.78,
  },
  {
    label: 'GPT-4o · learned, k = 3',
    helpfulness: 8.29,
    personalization: 7.63,
    personaSimilarity: 6.07,
    utterances: 1.81,
  },
];
