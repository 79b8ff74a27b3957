/**
 * The project's folder (the one with package.json), found from this module's own place, so
 * that paths to files that are not compiled (package.json, the dashboard's page and script,
 * fixtures) are the same whether the code runs from the compiled `dist/` or from the sources.
 */
import fs from 'node:fs';
import path from 'node:path';

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

export const PROJECT_ROOT = findRoot(import.meta.dirname);

/** A path inside the project, e.g. `fromRoot('src', 'dashboard', 'page.html')`. */
export function fromRoot(...parts: string[]): string {
  return path.join(PROJECT_ROOT, ...parts);
}
