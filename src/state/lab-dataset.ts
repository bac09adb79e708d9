/**
 * Where a PersonaBench dataset comes from: the set shipped with the app (same origin, listed in its
 * `index.json`) or a folder the user picks. Both end as the `{path, text}` list the loader reads,
 * with paths relative to the dataset's folder and the index itself included (it orders the
 * personas and declares the facts that change), so the two are loaded exactly alike.
 */
import type { DatasetFile } from '../core/bench/dataset';

export const SHIPPED_DATASET = 'persona-en';

interface DatasetIndex {
  name: string;
  files: string[];
}

function isDatasetIndex(value: unknown): value is DatasetIndex {
  if (typeof value !== 'object' || value === null) return false;
  const { name, files } = value as Record<string, unknown>;
  return (
    typeof name === 'string' && Array.isArray(files) && files.every((f) => typeof f === 'string')
  );
}

async function fetchText(url: URL): Promise<string> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url.pathname}: HTTP ${response.status}`);
  return response.text();
}

/** Fetches the shipped set's index and every file it lists. */
export async function fetchShippedDataset(
  name: string = SHIPPED_DATASET,
): Promise<{ name: string; files: DatasetFile[] }> {
  const folder = new URL(`personabench/${name}/`, document.baseURI);
  const indexText = await fetchText(new URL('index.json', folder));
  const index: unknown = JSON.parse(indexText);
  if (!isDatasetIndex(index)) throw new Error(`${name}/index.json does not list the dataset files`);
  const files = await Promise.all(
    index.files.map(async (path) => ({ path, text: await fetchText(new URL(path, folder)) })),
  );
  return { name: index.name, files: [{ path: 'index.json', text: indexText }, ...files] };
}

/**
 * The files of a folder picked with `<input webkitdirectory>`: every `.json` below it, with the
 * picked folder's own name taken off the front (it names the dataset). Other files (a README, a
 * licence) are no part of the dataset.
 */
export async function readPickedFolder(
  picked: Iterable<File>,
): Promise<{ name: string; files: DatasetFile[] }> {
  let name = 'dataset';
  const files: DatasetFile[] = [];
  for (const file of picked) {
    const full = file.webkitRelativePath || file.name;
    const [top, ...rest] = full.split('/');
    if (rest.length > 0 && top) name = top;
    const path = rest.length > 0 ? rest.join('/') : full;
    if (!path.toLowerCase().endsWith('.json')) continue;
    files.push({ path, text: await file.text() });
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { name, files };
}
