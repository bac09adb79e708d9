import * as Comlink from 'comlink';
import { loadBenchDataset, type DatasetFile } from '../core/bench/dataset';
import { AppError } from '../core/errors';
import {
  BENCH_CONDITIONS,
  type BenchCondition,
  type BenchDataset,
  type BenchPersonaResult,
  type BenchProgress,
  type BenchRole,
  type BenchRun,
  type BenchSession,
  type BenchSettings,
} from '../core/bench/types';
import { openLabDatabase } from '../db/lab';
import type { ModelSpec } from '../engine/engine';
import type { LabApi } from '../worker/contract';
import { fetchShippedDataset, readPickedFolder, SHIPPED_DATASET } from './lab-dataset';
import { labModelOptions, type KnownModels, type LabModelOption } from './lab-models';
import type { AssistantClient } from './assistant-client';
import { labReads, type LabReads } from './database-reads';
import { LiveValue } from './live-query.svelte';
import type { ModelsState } from './models.svelte';

export const LAB_ROLES: readonly BenchRole[] = ['assistant', 'simulator', 'judge'];

export interface LoadedDataset {
  dataset: BenchDataset;
  warnings: string[];
  /** Where it came from, for the user: the shipped set or the picked folder's name. */
  source: string;
}

export interface RunResults {
  runId: string;
  sessions: BenchSession[];
  personaResults: BenchPersonaResult[];
}

const message = (error: unknown): string => AppError.from(error).message;

/** A non-negative whole number from a form field, or the fallback. */
const wholeNumber = (value: number, fallback: number): number =>
  Number.isFinite(value) && value >= 0 ? Math.floor(value) : fallback;

/**
 * The Lab: a PersonaBench run's set-up, its progress, and the results of past runs. Runs are
 * worked on by the worker (`LabApi`) and stored in the lab's own database, which this class only
 * reads; the user's profile and conversations are not within its reach.
 */
export class LabState {
  readonly #reads: LabReads;
  readonly #lab: () => Comlink.Remote<LabApi>;
  readonly #models: () => KnownModels;
  readonly runs: LiveValue<BenchRun[]>;

  #dataset = $state<LoadedDataset | null>(null);
  #datasetError = $state<string | null>(null);
  #datasetLoading = $state(false);

  /** Model id per role; empty means the model in use. */
  roles = $state<Record<BenchRole, string>>({ assistant: '', simulator: '', judge: '' });
  conditions = $state<BenchCondition[]>([...BENCH_CONDITIONS]);
  maxTurns = $state(5);
  /** 0: all. */
  personaLimit = $state(0);
  sceneLimit = $state(0);
  seed = $state(1);
  stability = $state(false);

  #progress = $state<BenchProgress | null>(null);
  #running = $state(false);
  #runError = $state<string | null>(null);
  #selectedRunId = $state<string | null>(null);
  #results = $state<LiveValue<RunResults | null> | null>(null);

  constructor(reads: LabReads, lab: () => Comlink.Remote<LabApi>, models: () => KnownModels) {
    this.#reads = reads;
    this.#lab = lab;
    this.#models = models;
    this.runs = new LiveValue(() => reads.runs(), []);
  }

  get dataset(): LoadedDataset | null {
    return this.#dataset;
  }
  get datasetError(): string | null {
    return this.#datasetError;
  }
  get datasetLoading(): boolean {
    return this.#datasetLoading;
  }
  get progress(): BenchProgress | null {
    return this.#progress;
  }
  get running(): boolean {
    return this.#running;
  }
  get runError(): string | null {
    return this.#runError;
  }
  get selectedRunId(): string | null {
    return this.#selectedRunId;
  }
  get selectedRun(): BenchRun | null {
    return this.runs.value.find((r) => r.id === this.#selectedRunId) ?? null;
  }
  /** The selected run's sessions and final judgements, live while it runs. */
  get results(): RunResults | null {
    const results = this.#results?.value ?? null;
    return results?.runId === this.#selectedRunId ? results : null;
  }

  get modelOptions(): LabModelOption[] {
    return labModelOptions(this.#models());
  }

  /** The spec that plays a role: the chosen model, else the one in use. */
  roleSpec(role: BenchRole): ModelSpec | null {
    const id = this.roles[role];
    if (!id) return this.#models().loaded;
    return this.modelOptions.find((o) => o.id === id)?.spec ?? null;
  }

  /** Why Start cannot be pressed, or null when it can. */
  get startBlocker(): string | null {
    if (this.#running) return 'A run is in progress.';
    if (!this.#dataset) return 'Load a dataset first.';
    if (this.conditions.length === 0) return 'Choose at least one condition.';
    for (const role of LAB_ROLES) {
      if (!this.roleSpec(role)) return `Choose a model for the ${role}, or load one in Models.`;
    }
    return null;
  }

  async loadShipped(name: string = SHIPPED_DATASET): Promise<void> {
    await this.#loadFrom(async () => {
      const { name: datasetName, files } = await fetchShippedDataset(name);
      return { name: datasetName, files, source: `${datasetName} (shipped with Persona)` };
    });
  }

  async loadFolder(files: Iterable<File>): Promise<void> {
    await this.#loadFrom(async () => {
      const picked = await readPickedFolder(files);
      return { ...picked, source: `folder “${picked.name}”` };
    });
  }

  async #loadFrom(
    read: () => Promise<{ name: string; files: DatasetFile[]; source: string }>,
  ): Promise<void> {
    this.#datasetLoading = true;
    this.#datasetError = null;
    this.#dataset = null;
    try {
      const { name, files, source } = await read();
      if (files.length === 0) {
        this.#datasetError = `No .json files found in ${source}.`;
        return;
      }
      const loaded = loadBenchDataset(name, files, Date.now());
      if (loaded.ok) this.#dataset = { dataset: loaded.dataset, warnings: loaded.warnings, source };
      else this.#datasetError = loaded.error;
    } catch (error) {
      this.#datasetError = `The dataset could not be read: ${message(error)}`;
    } finally {
      this.#datasetLoading = false;
    }
  }

  toggleCondition(condition: BenchCondition, on: boolean): void {
    // Kept in the paper's order, which the results table follows too.
    this.conditions = BENCH_CONDITIONS.filter((c) =>
      c === condition ? on : this.conditions.includes(c),
    );
  }

  settings(): BenchSettings {
    return {
      conditions: [...this.conditions],
      maxTurns: Math.max(1, wholeNumber(this.maxTurns, 5)),
      seed: wholeNumber(this.seed, 1),
      personaLimit: wholeNumber(this.personaLimit, 0),
      sceneLimit: wholeNumber(this.sceneLimit, 0),
      stability: this.stability,
    };
  }

  async start(): Promise<void> {
    const loaded = this.#dataset;
    if (this.startBlocker || !loaded) return;
    const roles = Object.fromEntries(
      LAB_ROLES.map((role) => [role, $state.snapshot(this.roleSpec(role))]),
    ) as Record<BenchRole, ModelSpec>;
    await this.#work((onProgress) =>
      this.#lab().start(
        { dataset: $state.snapshot(loaded.dataset), roles, settings: this.settings() },
        onProgress,
      ),
    );
  }

  async resume(runId: string): Promise<void> {
    if (this.#running) return;
    await this.#work((onProgress) => this.#lab().resume(runId, onProgress));
  }

  async stop(): Promise<void> {
    await this.#lab().stop();
  }

  async #work(
    run: (onProgress: (progress: BenchProgress) => void) => Promise<BenchProgress>,
  ): Promise<void> {
    this.#running = true;
    this.#runError = null;
    this.#progress = null;
    try {
      const final = await run(
        Comlink.proxy((progress: BenchProgress) => {
          this.#progress = progress;
          if (this.#selectedRunId !== progress.runId) this.select(progress.runId);
        }),
      );
      this.#progress = final;
      this.select(final.runId);
    } catch (error) {
      this.#runError = message(error);
    } finally {
      this.#running = false;
    }
  }

  select(runId: string | null): void {
    if (runId === this.#selectedRunId) return;
    this.#results?.stop();
    this.#selectedRunId = runId;
    this.#results = runId
      ? new LiveValue(async () => {
          const [sessions, personaResults] = await Promise.all([
            this.#reads.runSessions(runId),
            this.#reads.runPersonaResults(runId),
          ]);
          return { runId, sessions, personaResults };
        }, null)
      : null;
  }

  async remove(runId: string): Promise<void> {
    if (this.#selectedRunId === runId) this.select(null);
    await this.#lab().remove(runId);
  }

  dispose(): void {
    this.runs.stop();
    this.#results?.stop();
  }
}

/**
 * The Lab of the running app, on the lab's own database (opened only when the Lab is, so a user
 * who never runs a benchmark never gets one), with every model the Models view knows.
 */
export function openLab(client: AssistantClient, models: ModelsState): LabState {
  return new LabState(
    labReads(openLabDatabase()),
    () => client.api.lab,
    () => ({
      custom: models.customModels.value,
      cached: models.cached,
      loaded: models.loaded?.spec ?? null,
    }),
  );
}
