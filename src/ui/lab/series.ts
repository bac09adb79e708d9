import type { SimilarityPoint, UtterancePoint } from '../../core/bench/report';
import type { BenchCondition } from '../../core/bench/types';
import type { ChartSeries } from './LineChart.svelte';
import { CONDITION_LABELS } from './labels';

/** Scenes are numbered from 1 on screen, as a user counts sessions. */
export function utterancesChart(
  series: { condition: BenchCondition; points: UtterancePoint[] }[],
): ChartSeries[] {
  return series.map(({ condition, points }) => ({
    label: CONDITION_LABELS[condition],
    points: points.map((p) => ({ x: p.sceneIndex + 1, y: p.meanUserTurns })),
  }));
}

export function similarityChart(
  series: { condition: BenchCondition; points: SimilarityPoint[] }[],
): ChartSeries[] {
  return series.map(({ condition, points }) => ({
    label: CONDITION_LABELS[condition],
    points: points.map((p) => ({ x: p.update, y: p.fieldSimilarity })),
  }));
}
