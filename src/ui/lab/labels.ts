import type { BenchCondition } from '../../core/bench/types';

/** The conditions as the paper names them. */
export const CONDITION_LABELS: Record<BenchCondition, string> = {
  none: 'No persona',
  'learned-k1': 'Learned, k = 1',
  'learned-k3': 'Learned, k = 3',
  'learned-k5': 'Learned, k = 5',
  golden: 'Golden persona',
  rag: 'Conversations RAG',
};

/** Two decimals, as the paper prints them; a dash where there is nothing to average. */
export const score = (value: number | null | undefined): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(2);
