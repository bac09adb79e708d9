import type { Engine, EngineKind } from '../engine/engine';

/**
 * Engines are imported on first use: the WebLLM runtime is several megabytes that a CPU-only
 * user never needs, and wllama's is useless to a WebGPU user.
 */
export async function loadEngine(kind: EngineKind): Promise<Engine> {
  switch (kind) {
    case 'webllm': {
      const { WebLLMEngine } = await import('../engine/webllm');
      return new WebLLMEngine();
    }
    case 'wllama': {
      const { WllamaEngine } = await import('../engine/wllama');
      return new WllamaEngine();
    }
  }
}
