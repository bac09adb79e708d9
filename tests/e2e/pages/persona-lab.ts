import type { Download, Locator, Page } from '@playwright/test';
import type { BenchCondition, BenchRole } from '../../../src/core/bench/types';
import { CONDITION_LABELS } from '../../../src/ui/lab/labels';

export interface LabRunSettings {
  conditions: readonly BenchCondition[];
  maxTurns: number;
  /** 0: all. */
  personas: number;
  scenes: number;
  seed: number;
  stability: boolean;
}

/**
 * The Lab view as a user drives it (Settings → Lab). Used by the end-to-end tests and by the
 * `npm run personabench` command, which runs a benchmark exactly the way a user would.
 */
export class PersonaLab {
  readonly page: Page;

  constructor(page: Page) {
    this.page = page;
  }

  get view(): Locator {
    return this.page.getByRole('region', { name: 'Lab' });
  }

  async open(): Promise<void> {
    await this.page.getByRole('button', { name: 'Privacy', exact: true }).click();
    await this.page.getByRole('button', { name: 'Open the Lab' }).click();
    await this.view.waitFor();
  }

  async useShippedDataset(): Promise<void> {
    await this.view.getByRole('button', { name: /^Use persona-en/ }).click();
  }

  /** Picks a folder in the file chooser (`<input webkitdirectory>`). */
  async pickDatasetFolder(folder: string): Promise<void> {
    await this.view.getByLabel('Dataset folder').setInputFiles(folder);
  }

  get datasetSummary(): Locator {
    return this.view.getByTestId('dataset-summary');
  }

  get datasetError(): Locator {
    return this.view.getByRole('group', { name: 'Dataset' }).getByRole('alert');
  }

  roleSelect(role: BenchRole): Locator {
    return this.view.getByLabel(`${role} model`);
  }

  async configure(settings: LabRunSettings): Promise<void> {
    const conditions = this.view.getByRole('group', { name: 'Conditions' });
    for (const [condition, label] of Object.entries(CONDITION_LABELS)) {
      await conditions
        .getByLabel(label, { exact: true })
        .setChecked(settings.conditions.includes(condition as BenchCondition));
    }
    const run = this.view.getByRole('group', { name: 'Run settings' });
    await run.getByLabel('Max user turns').fill(String(settings.maxTurns));
    await run.getByLabel(/^Personas/).fill(String(settings.personas));
    await run.getByLabel(/^Scenes per persona/).fill(String(settings.scenes));
    await run.getByLabel('Seed').fill(String(settings.seed));
    await run.getByLabel(/Profile stability/).setChecked(settings.stability);
  }

  get startButton(): Locator {
    return this.view.getByRole('button', { name: 'Start', exact: true });
  }

  get stopButton(): Locator {
    return this.view.getByRole('button', { name: 'Stop', exact: true });
  }

  get progress(): Locator {
    return this.view.getByRole('status', { name: 'Run progress' });
  }

  /** Its `data-status`: `running`, or the run's final status (`done`, `stopped`, `failed`). */
  get status(): Locator {
    return this.progress.getByTestId('run-status');
  }

  /** Steps done, as the progress line shows them. */
  async stepsDone(): Promise<number> {
    const text = await this.progress.getByTestId('run-count').innerText();
    return Number(/^(\d+)/.exec(text)?.[1] ?? 0);
  }

  get runError(): Locator {
    return this.view.locator(':scope > [role="alert"]');
  }

  get pastRuns(): Locator {
    return this.view.getByRole('list', { name: 'Past runs' }).locator(':scope > li');
  }

  async resumeNewest(): Promise<void> {
    await this.view
      .getByRole('list', { name: 'Past runs' })
      .getByRole('button', { name: 'Resume' })
      .first()
      .click();
  }

  get resultsTable(): Locator {
    return this.view.getByRole('table', { name: 'Results (Table 1 layout)' });
  }

  conditionRows(): Locator {
    return this.resultsTable.locator('tbody tr[data-condition]');
  }

  async download(what: 'JSON' | 'CSV' | 'table (text)'): Promise<Download> {
    const [download] = await Promise.all([
      this.page.waitForEvent('download'),
      this.view.getByRole('button', { name: `Download ${what}` }).click(),
    ]);
    return download;
  }
}
