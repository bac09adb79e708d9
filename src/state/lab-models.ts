/**
 * The models a Lab role can be played by: every model the app knows (the catalog's variants, the
 * user's custom models, and the one in use), each named as the Models view names it.
 */
import { CATALOG } from '../core/models/catalog';
import type { ModelSpec } from '../engine/engine';

export interface LabModelOption {
  /** The spec's id: unique, as custom models never take a catalog id. */
  id: string;
  label: string;
  spec: ModelSpec;
  cached: boolean;
}

export interface KnownModels {
  custom: { label: string; spec: ModelSpec }[];
  cached: { engine: ModelSpec['engine']; id: string }[];
  loaded: ModelSpec | null;
}

export function labModelOptions(known: KnownModels): LabModelOption[] {
  const isCached = (spec: ModelSpec) =>
    known.cached.some((c) => c.engine === spec.engine && c.id === spec.id);
  const options: LabModelOption[] = [
    ...known.custom.map(({ label, spec }) => ({ id: spec.id, label, spec })),
    ...CATALOG.flatMap((entry) =>
      entry.variants.map((variant) => ({
        id: variant.spec.id,
        label: entry.variants.length > 1 ? `${entry.label} (${variant.quantization})` : entry.label,
        spec: variant.spec,
      })),
    ),
  ].map((option) => ({ ...option, cached: isCached(option.spec) }));
  const loaded = known.loaded;
  if (loaded && !options.some((o) => o.id === loaded.id)) {
    options.unshift({ id: loaded.id, label: loaded.id, spec: loaded, cached: true });
  }
  return options;
}
