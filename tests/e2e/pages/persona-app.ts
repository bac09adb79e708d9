import { expect, type Dialog, type Download, type Locator, type Page } from '@playwright/test';
import { MODEL_SERVER } from '../ports';

/** The app as a user sees it: methods are named for what the user does. */
export class PersonaApp {
  readonly page: Page;
  /** Where the "self-hosted" models are served from. */
  readonly modelServer: string;

  constructor(page: Page, modelServer: string = MODEL_SERVER) {
    this.page = page;
    this.modelServer = modelServer;
  }

  async open(): Promise<void> {
    await this.page.goto('/');
    await expect(this.page.getByRole('heading', { name: 'Persona' })).toBeVisible();
  }

  async reload(): Promise<void> {
    await this.page.reload();
    await expect(this.page.getByRole('heading', { name: 'Persona' })).toBeVisible();
  }

  get modelsView(): Locator {
    return this.page.getByRole('region', { name: 'Models' });
  }

  get modelBadge(): Locator {
    return this.page.getByTestId('model-badge');
  }

  async openModels(): Promise<void> {
    if (!(await this.modelsView.isVisible())) {
      await this.page.getByRole('button', { name: 'Models', exact: true }).click();
    }
    await expect(this.modelsView).toBeVisible();
  }

  /** Adds a `.gguf` served by the local model server (a stand-in for a self-hosted model). */
  async addCustomGguf(path: string, name: string): Promise<void> {
    await this.openModels();
    const form = this.page.getByRole('form', { name: 'Add a custom model' });
    await form.getByLabel('Model URL').fill(`${this.modelServer}/${path}`);
    await form.getByLabel('Name (optional)').fill(name);
    await this.submitCustomModel(form);
    await expect(this.modelCard(name)).toBeVisible();
  }

  /**
   * The first model from a host allows that host, which reloads the page (a Content Security
   * Policy is fixed for a page's lifetime): wait for that reload before going on.
   */
  private async submitCustomModel(form: Locator): Promise<void> {
    const allowed = await this.allowedHosts();
    const submit = form.getByRole('button', { name: 'Add model' });
    if (allowed.includes(new URL(this.modelServer).origin)) {
      await submit.click();
      return;
    }
    await Promise.all([this.page.waitForEvent('load'), submit.click()]);
    await expect(this.modelsView).toBeVisible();
  }

  /** The hosts the user allowed, as the app keeps them for its Content Security Policy. */
  async allowedHosts(): Promise<string[]> {
    return this.page.evaluate(
      () => JSON.parse(localStorage.getItem('persona.allowedHosts') ?? '[]') as string[],
    );
  }

  async addCustomMlcModel(folderPath: string, libPath: string, name: string): Promise<void> {
    await this.openModels();
    const form = this.page.getByRole('form', { name: 'Add a custom model' });
    await form.getByLabel('Model URL').fill(`${this.modelServer}/${folderPath}`);
    await form.getByLabel(/Model library URL/).fill(`${this.modelServer}/${libPath}`);
    await form.getByLabel('Name (optional)').fill(name);
    await this.submitCustomModel(form);
    await expect(this.modelCard(name)).toBeVisible();
  }

  /**
   * Registers a model for the scripted test engine (end-to-end build only) by writing it into the
   * app's database, as no user-facing form accepts a script, then reloads so the app sees it.
   */
  /**
   * Writes rows straight into the app's database, as an older version, a damaged backup or
   * another tool could have left them; the app sees them through its live queries.
   */
  /** The rows of one store of the app's database, read as any other tool could. */
  async storedRows<T>(store: string): Promise<T[]> {
    return this.page.evaluate(
      (store) =>
        new Promise<T[]>((resolve, reject) => {
          const open = indexedDB.open('persona');
          open.onerror = () => {
            reject(open.error ?? new Error('cannot open the database'));
          };
          open.onsuccess = () => {
            const request = open.result.transaction(store).objectStore(store).getAll();
            request.onsuccess = () => {
              open.result.close();
              resolve(request.result as T[]);
            };
            request.onerror = () => {
              reject(request.error ?? new Error('read failed'));
            };
          };
        }),
      store,
    );
  }

  async putStoredRows(store: string, rows: unknown[]): Promise<void> {
    await this.page.evaluate(
      ({ store, rows }) =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('persona');
          open.onerror = () => {
            reject(open.error ?? new Error('cannot open the database'));
          };
          open.onsuccess = () => {
            const tx = open.result.transaction(store, 'readwrite');
            for (const row of rows) tx.objectStore(store).put(row);
            tx.oncomplete = () => {
              open.result.close();
              resolve();
            };
            tx.onerror = () => {
              reject(tx.error ?? new Error('write failed'));
            };
          };
        }),
      { store, rows },
    );
  }

  async addScriptedModel(script: string, name: string): Promise<void> {
    const spec = {
      engine: 'wllama',
      id: `scripted-${script}`,
      url: `${this.modelServer}/scripted/${script}.json`,
    };
    await this.page.evaluate(
      ({ spec, name }) =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('persona');
          open.onerror = () => {
            reject(open.error ?? new Error('cannot open the database'));
          };
          open.onsuccess = () => {
            const tx = open.result.transaction('customModels', 'readwrite');
            tx.objectStore('customModels').put({
              id: spec.id,
              label: name,
              spec,
              addedAt: Date.now(),
            });
            tx.oncomplete = () => {
              open.result.close();
              resolve();
            };
            tx.onerror = () => {
              reject(tx.error ?? new Error('write failed'));
            };
          };
        }),
      { spec, name },
    );
    // As the form would: the model's host joins the allowed hosts, effective after the reload.
    await this.page.evaluate((origin) => {
      const hosts = JSON.parse(localStorage.getItem('persona.allowedHosts') ?? '[]') as string[];
      if (!hosts.includes(origin)) hosts.push(origin);
      localStorage.setItem('persona.allowedHosts', JSON.stringify(hosts));
    }, new URL(this.modelServer).origin);
    await this.reload();
    await this.openModels();
    await expect(this.modelCard(name)).toBeVisible();
  }

  modelCard(name: string): Locator {
    return this.page.getByRole('article', { name, exact: true });
  }

  async startLoading(name: string): Promise<void> {
    await this.modelCard(name)
      .getByRole('button', { name: /^(Download and load|Load)$/ })
      .click();
  }

  get loadProgress(): Locator {
    return this.modelsView.getByRole('status').filter({ has: this.page.locator('progress') });
  }

  get loadFailure(): Locator {
    return this.modelsView.getByRole('alert');
  }

  async loadModel(name: string): Promise<void> {
    await this.startLoading(name);
    await expect(this.modelBadge).toContainText('·', { timeout: 60_000 });
    await expect(this.modelCard(name)).toContainText('In use');
  }

  async backToChat(): Promise<void> {
    await this.page.getByRole('button', { name: 'Back to chat' }).click();
  }

  get composer(): Locator {
    return this.page.getByRole('textbox', { name: 'Message' });
  }

  async typeAndSend(text: string): Promise<void> {
    await this.composer.fill(text);
    await this.composer.press('Enter');
  }

  messages(role?: 'user' | 'assistant'): Locator {
    const all = this.page.locator('article.message');
    return role ? all.and(this.page.locator(`[data-role="${role}"]`)) : all;
  }

  /**
   * How many messages the database holds. The list renders only the rows near its viewport
   * (issue 11), so counting rows on screen does not tell what a conversation contains.
   */
  async storedMessageCount(): Promise<number> {
    return this.page.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const open = indexedDB.open('persona');
          open.onerror = () => {
            reject(open.error ?? new Error('cannot open the database'));
          };
          open.onsuccess = () => {
            const count = open.result.transaction('messages').objectStore('messages').count();
            count.onsuccess = () => {
              open.result.close();
              resolve(count.result);
            };
          };
        }),
    );
  }

  /**
   * Makes the window tall enough for every message of a short conversation to be rendered at
   * once: the list renders only the rows near its viewport (issue 11), and some tests inspect
   * every message on the page.
   */
  async showEveryMessage(height = 40_000): Promise<void> {
    await this.page.setViewportSize({ width: 1280, height });
  }

  /** The scrolling list of the open conversation's messages. */
  get messageList(): Locator {
    return this.page.getByTestId('message-list');
  }

  /** Scrolls the open conversation to its top, as far as it is loaded. */
  async scrollMessagesToTop(): Promise<void> {
    await this.messageList.evaluate((list) => {
      list.scrollTop = 0;
    });
  }

  lastReply(): Locator {
    return this.messages('assistant').last();
  }

  async waitForReplyToFinish(timeout = 60_000): Promise<void> {
    await expect(this.lastReply()).not.toHaveAttribute('data-status', 'streaming', { timeout });
    // The stored reply can read finished a moment before the page hears that the reply call has
    // returned; until then Stop is still shown, and Enter does not send (a 2-token reply lost the
    // next message of bench:cpu that way).
    await expect(this.page.getByRole('button', { name: '■ Stop' })).toBeHidden({ timeout });
  }

  /** Opens "Show prompt" on a reply: what the model was given, one block per message. */
  async showPrompt(reply: Locator): Promise<Locator> {
    await reply.getByRole('button', { name: 'Show prompt' }).click();
    const prompt = reply.getByRole('region', { name: 'What the model was given' });
    await expect(prompt).toBeVisible();
    return prompt;
  }

  /** Adds a field to the profile by hand, as the user. */
  async addProfileField(section: string, key: string, value: string): Promise<void> {
    await this.openProfile();
    const form = this.profileView.getByRole('form', { name: `Add to ${section}` });
    await form.getByLabel('Field').fill(key);
    await form.getByLabel('Value').fill(value);
    await form.getByRole('button', { name: 'Add' }).click();
    await expect(this.profileField(section, key)).toContainText('set by you');
  }

  async stopGenerating(): Promise<void> {
    await this.page.getByRole('button', { name: '■ Stop' }).click();
  }

  async startNewChat(): Promise<void> {
    await this.page.getByRole('button', { name: '+ New chat' }).click();
    await expect(this.page.getByRole('heading', { name: 'What can I help with?' })).toBeVisible();
  }

  conversationList(): Locator {
    return this.page.getByRole('navigation', { name: 'Conversations' }).locator('li button.title');
  }

  get searchBox(): Locator {
    return this.page.getByRole('searchbox', { name: 'Search conversations' });
  }

  get searchResults(): Locator {
    return this.page.getByRole('list', { name: 'Search results' }).getByRole('button');
  }

  /** Types into the search box at the top of the conversation list. */
  async searchConversations(text: string): Promise<void> {
    await this.searchBox.fill(text);
  }

  /** The message a search result or an evidence link opened the conversation at. */
  get highlightedMessage(): Locator {
    return this.page.locator('article.message.highlighted');
  }

  get profileView(): Locator {
    return this.page.getByRole('region', { name: 'Profile' });
  }

  async openProfile(): Promise<void> {
    if (!(await this.profileView.isVisible())) {
      await this.page.getByRole('button', { name: /^Profile/ }).click();
    }
    await expect(this.profileView).toBeVisible();
  }

  async openProfileTab(name: 'Profile' | 'Review' | 'History' | 'Settings'): Promise<void> {
    await this.openProfile();
    await this.profileView.getByRole('tab', { name: new RegExp(`^${name}`) }).click();
  }

  /** A field row on the profile page, e.g. Demographics › Location. */
  profileField(section: string, key: string): Locator {
    return this.profileView
      .getByRole('region', { name: section })
      .getByRole('listitem', { name: key });
  }

  get learnedNotice(): Locator {
    return this.page.getByTestId('learned-notice');
  }

  /** One whole session: a new conversation, one message, the reply. */
  async chatOnce(text: string): Promise<void> {
    await this.startNewChat();
    await this.typeAndSend(text);
    await this.waitForReplyToFinish();
  }

  /**
   * Deletes a conversation, confirming the deletion; when Persona then offers to forget what it
   * learned only from it, `forgetLearned` answers. Returns the texts of the dialogs shown.
   */
  async deleteConversation(title: string, { forgetLearned = false } = {}): Promise<string[]> {
    const nav = this.page.getByRole('navigation', { name: 'Conversations' });
    const shown: string[] = [];
    const answer = (dialog: Dialog) => {
      shown.push(dialog.message());
      const isForgetOffer = /only from this conversation/.test(dialog.message());
      void (isForgetOffer && !forgetLearned ? dialog.dismiss() : dialog.accept());
    };
    this.page.on('dialog', answer);
    try {
      // The row's actions appear on hover, as they do for a mouse user.
      await nav.getByRole('button', { name: title, exact: true }).hover();
      await nav.getByRole('button', { name: `Delete ${title}` }).click();
      await expect(nav.getByRole('button', { name: title, exact: true })).toHaveCount(0);
    } finally {
      this.page.off('dialog', answer);
    }
    return shown;
  }

  async openConversation(title: string): Promise<void> {
    await this.page
      .getByRole('navigation', { name: 'Conversations' })
      .getByRole('button', { name: title, exact: true })
      .click();
  }

  get privacyView(): Locator {
    return this.page.getByRole('region', { name: 'Privacy' });
  }

  get yourData(): Locator {
    return this.page.getByRole('region', { name: 'Your data' });
  }

  async openPrivacy(): Promise<void> {
    await this.page.getByRole('button', { name: 'Privacy', exact: true }).click();
    await expect(this.yourData).toBeVisible();
  }

  /**
   * Exports everything as a download and returns the file's name and text. Chromium's save picker
   * (`showSaveFilePicker`, which the app prefers) cannot be answered by a test, so the page is told
   * it has none and takes the download path, as other browsers do.
   */
  async exportEverything(): Promise<{ name: string; text: string }> {
    const download = await this.#downloadBackup();
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { name: download.suggestedFilename(), text: Buffer.concat(chunks).toString('utf8') };
  }

  /** Exports everything as a download into `path` (for files too large to hold as text). */
  async exportEverythingTo(path: string): Promise<string> {
    const download = await this.#downloadBackup();
    await download.saveAs(path);
    return download.suggestedFilename();
  }

  async #downloadBackup(): Promise<Download> {
    await this.openPrivacy();
    await this.page.evaluate(() => {
      Object.defineProperty(window, 'showSaveFilePicker', { value: undefined, configurable: true });
    });
    const [download] = await Promise.all([
      this.page.waitForEvent('download', { timeout: 5 * 60_000 }),
      this.yourData.getByRole('button', { name: 'Export everything' }).click(),
    ]);
    return download;
  }

  /**
   * Imports the backup file at `path` (Playwright takes files past 50 MB by path only), accepting
   * the question; the page reloads into the imported data.
   */
  async importBackupFile(path: string, { timeout = 5 * 60_000 } = {}): Promise<string[]> {
    await this.openPrivacy();
    const shown: string[] = [];
    const answer = (dialog: Dialog) => {
      shown.push(dialog.message());
      void dialog.accept();
    };
    this.page.on('dialog', answer);
    try {
      await Promise.all([
        this.page.waitForEvent('load', { timeout }),
        this.yourData.getByLabel('Import a backup file').setInputFiles(path),
      ]);
      await expect(this.page.getByRole('heading', { name: 'Persona' })).toBeVisible();
    } finally {
      this.page.off('dialog', answer);
    }
    return shown;
  }

  /**
   * Chooses a backup file (its text, or its path) to import. When the file is accepted the app asks to replace
   * everything: `accept` answers, and an accepted import reloads the page.
   */
  async importBackup(source: string | { path: string }, { accept = true } = {}): Promise<string[]> {
    await this.openPrivacy();
    const shown: string[] = [];
    const answer = (dialog: Dialog) => {
      shown.push(dialog.message());
      void (accept ? dialog.accept() : dialog.dismiss());
    };
    this.page.on('dialog', answer);
    try {
      const input = this.yourData.getByLabel('Import a backup file');
      // A file on disk for a large backup: Playwright refuses buffers over 50 MB.
      const file =
        typeof source === 'string'
          ? { name: 'backup.json', mimeType: 'application/json', buffer: Buffer.from(source) }
          : source.path;
      if (!accept) {
        await input.setInputFiles(file);
        // The file is read and checked asynchronously: wait for its outcome, a refusal in the
        // page or the question (answered by the handler above, which must stay until then).
        const refusal = this.yourData.getByRole('alert');
        await expect.poll(async () => shown.length > 0 || (await refusal.isVisible())).toBe(true);
        return shown;
      }
      await Promise.all([this.page.waitForEvent('load'), input.setInputFiles(file)]);
      await expect(this.page.getByRole('heading', { name: 'Persona' })).toBeVisible();
    } finally {
      this.page.off('dialog', answer);
    }
    return shown;
  }

  /** Erases everything, confirming; the page reloads into first run. */
  async eraseEverything(): Promise<void> {
    await this.openPrivacy();
    this.page.once('dialog', (dialog) => void dialog.accept());
    await Promise.all([
      this.page.waitForEvent('load'),
      this.yourData.getByRole('button', { name: 'Erase everything…' }).click(),
    ]);
    await expect(this.page.getByRole('heading', { name: 'Persona' })).toBeVisible();
  }
}
