import * as Comlink from 'comlink';
import { AppError } from '../core/errors';
import type { CustomModel, Settings } from '../db';
import type { DeviceInfo } from '../core/models/device-info';
import type { CachedModelInfo, LoadedModel, LoadProgress, ModelSpec } from '../engine/engine';
import { CATALOG, catalogSpecs } from '../core/models/catalog';
import { isNewDownload } from '../core/storage/persistence';
import type { AssistantClient } from './assistant-client';
import type { ModelReads } from './database-reads';
import { LiveValue } from './live-query.svelte';

export interface LoadFailure {
  spec: ModelSpec;
  error: AppError;
}

const modelUrl = (spec: ModelSpec): string => (spec.engine === 'wllama' ? spec.url : spec.modelUrl);

const toAppError = (error: unknown): AppError => AppError.from(error);

/** The device, the model catalog's state on it, and the model being loaded or in use. */
export class ModelsState {
  readonly #reads: ModelReads;
  readonly #client: AssistantClient;
  readonly customModels: LiveValue<CustomModel[]>;
  #device = $state<DeviceInfo | null>(null);
  #loaded = $state<LoadedModel | null>(null);
  #loadingSpec = $state<ModelSpec | null>(null);
  #progress = $state<LoadProgress | null>(null);
  #failure = $state<LoadFailure | null>(null);
  #cached = $state<CachedModelInfo[]>([]);
  #notice = $state<string | null>(null);
  #selected = $state<ModelSpec | null>(null);
  /** Called after a load that downloaded a model (it was not cached before, and is now). */
  onDownloaded: (spec: ModelSpec) => void = () => undefined;

  constructor(reads: ModelReads, client: AssistantClient) {
    this.#reads = reads;
    this.#client = client;
    this.customModels = new LiveValue(() => reads.customModels(), []);
  }

  get device(): DeviceInfo | null {
    return this.#device;
  }
  get loaded(): LoadedModel | null {
    return this.#loaded;
  }
  get loadingSpec(): ModelSpec | null {
    return this.#loadingSpec;
  }
  get progress(): LoadProgress | null {
    return this.#progress;
  }
  get failure(): LoadFailure | null {
    return this.#failure;
  }
  get cached(): CachedModelInfo[] {
    return this.#cached;
  }
  get notice(): string | null {
    return this.#notice;
  }
  get selected(): ModelSpec | null {
    return this.#selected;
  }

  /** The name a person knows a model by: its catalog or custom label, else its id. */
  labelOf(id: string): string {
    return (
      CATALOG.find((e) => e.variants.some((v) => v.spec.id === id))?.label ??
      this.customModels.value.find((m) => m.id === id)?.label ??
      id
    );
  }

  /** The spec of a cached model, to delete it; null for one no list knows any more. */
  specOf(cached: CachedModelInfo): ModelSpec | null {
    const known = [
      ...catalogSpecs(),
      ...this.customModels.value.map((m) => m.spec),
      ...(this.#selected ? [this.#selected] : []),
    ];
    return known.find((s) => s.engine === cached.engine && s.id === cached.id) ?? null;
  }

  isCached(spec: ModelSpec): boolean {
    return this.#cached.some((c) => c.engine === spec.engine && c.id === spec.id);
  }

  /** Probes the device and brings back the model used last time, if it is still cached. */
  async init(known?: Settings): Promise<Settings> {
    const settings = known ?? (await this.#reads.settings());
    this.#selected ??= settings.selectedModel;
    await this.refreshDevice();
    await this.refreshCached();
    const last = settings.selectedModel;
    // Unless the user picked a model while the device was being probed.
    const idle = this.#loaded === null && this.#loadingSpec === null;
    if (last && idle && this.isCached(last)) void this.load(last);
    return settings;
  }

  async refreshDevice(): Promise<void> {
    this.#device = await this.#client.api.device.probe();
  }

  async refreshCached(): Promise<void> {
    const known = [...catalogSpecs(), ...this.customModels.value.map((m) => m.spec)];
    const selected = this.#selected;
    if (selected && !known.some((s) => s.id === selected.id)) known.push(selected);
    try {
      this.#cached = await this.#client.api.models.listCached($state.snapshot(known));
    } catch {
      // Listing is informative only; an engine that cannot start here has nothing cached.
      this.#cached = [];
    }
  }

  async load(reactiveSpec: ModelSpec): Promise<void> {
    // Specs read from rune state are proxies, which postMessage cannot clone.
    const spec = $state.snapshot(reactiveSpec);
    this.#failure = null;
    this.#notice = null;
    this.#loadingSpec = spec;
    this.#progress = null;
    this.#loaded = null;
    const cachedBefore = this.isCached(spec);
    let loaded = false;
    try {
      this.#loaded = await this.#client.api.models.load(
        spec,
        Comlink.proxy((progress) => {
          this.#progress = progress;
        }),
      );
      this.#selected = spec;
      loaded = true;
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code !== 'aborted') this.#failure = { spec, error: appError };
      if (appError.code === 'device-lost') this.#client.restart();
    } finally {
      this.#loadingSpec = null;
      this.#progress = null;
      await Promise.all([this.refreshCached(), this.refreshDevice()]);
    }
    if (loaded && isNewDownload(cachedBefore, this.isCached(spec))) this.onDownloaded(spec);
  }

  async cancel(): Promise<void> {
    await this.#client.api.models.cancelLoad();
  }

  async retry(): Promise<void> {
    const failed = this.#failure;
    if (failed) await this.load(failed.spec);
  }

  dismissFailure(): void {
    this.#failure = null;
  }

  async unload(): Promise<void> {
    await this.#client.api.models.unload();
    this.#loaded = null;
  }

  async deleteCached(spec: ModelSpec): Promise<void> {
    if (this.#loaded?.spec.id === spec.id) this.#loaded = null;
    await this.#client.api.models.deleteCached($state.snapshot(spec));
    await Promise.all([this.refreshCached(), this.refreshDevice()]);
  }

  /**
   * Ids come from file or folder names, and two hosts may well serve a `model.gguf`: a second
   * model of the same name gets a numbered id instead of being refused.
   */
  async addCustom(label: string, spec: ModelSpec): Promise<void> {
    const existing = this.customModels.value;
    const sameUrl = existing.find((m) => modelUrl(m.spec) === modelUrl(spec));
    if (sameUrl) {
      throw new AppError(
        'invalid-request',
        `This model is already in the list as “${sameUrl.label}”.`,
      );
    }
    const taken = [...existing.map((m) => m.id), ...catalogSpecs().map((s) => s.id)];
    let id = spec.id;
    for (let n = 2; taken.includes(id); n++) id = `${spec.id} (${n})`;
    await this.#client.api.models.addCustom({ id, label, spec: { ...$state.snapshot(spec), id } });
  }

  async removeCustom(model: CustomModel): Promise<void> {
    if (this.isCached(model.spec)) await this.deleteCached(model.spec);
    await this.#client.api.models.removeCustom(model.id);
  }

  /**
   * A lost GPU device leaves the engine unusable: replace the worker and load the model again,
   * so the user only sees a notice.
   */
  async handleEngineError(error: AppError): Promise<void> {
    if (error.code !== 'device-lost') return;
    const spec = this.#loaded?.spec ?? this.#selected;
    this.#client.restart();
    this.#loaded = null;
    if (!spec) return;
    const reloading = this.load(spec);
    this.#notice =
      'The GPU was reset, so Persona restarted the engine and is loading the model again.';
    await reloading;
  }
}
