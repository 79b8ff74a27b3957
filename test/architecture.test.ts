/**
 * The shape of the house, checked on the sources: folders do not import one another in a
 * circle, only src/storage/ knows which engine runs, and no module keeps mutable state of its
 * own (per-process state lives in the context that start-up creates and shutdown closes).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fromRoot } from '../src/project-root.ts';

const SRC = fromRoot('src');

interface SourceFile {
  /** Relative to src/, with forward slashes. */
  file: string;
  text: string;
  /** Relative imports, resolved to files relative to src/. */
  imports: string[];
}

function sources(): SourceFile[] {
  return fs
    .readdirSync(SRC, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => {
      const text = fs.readFileSync(path.join(SRC, f), 'utf8');
      const imports = valueImports(text).map((target) =>
        path.posix.normalize(path.posix.join(path.posix.dirname(f.split(path.sep).join('/')), target)),
      );
      return { file: f.split(path.sep).join('/'), text, imports };
    });
}

/**
 * The relative modules a file loads when it runs: `import type` and imports of types only are
 * erased by the compiler and tie nothing together (the schema's table types, say).
 */
function valueImports(text: string): string[] {
  const found: string[] = [];
  for (const [, clause, target] of text.matchAll(/(?:^|\n)(?:import|export)\s+([^;]*?)\s+from\s+'(\.{1,2}\/[^']+)'/g)) {
    if (/^type\b/.test(clause!)) continue;
    const names = /\{([^}]*)\}/.exec(clause!)?.[1];
    const onlyTypes =
      names !== undefined &&
      !/^\s*\w+\s*,/.test(clause!) &&
      names
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
        .every((n) => n.startsWith('type '));
    if (!onlyTypes) found.push(target!);
  }
  for (const [, target] of text.matchAll(/import\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) found.push(target!);
  return found;
}

/** The folder a file belongs to for this check: each domain module of src/modules/ counts as its own. */
function folderOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return '.';
  if (parts[0] === 'modules' && parts.length > 2) return `modules/${parts[1]}`;
  return parts[0]!;
}

describe('architecture', () => {
  const files = sources();

  it('has no circle of imports between folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const { file, imports } of files) {
      const from = folderOf(file);
      for (const target of imports) {
        const to = folderOf(target);
        if (to === from || from === '.' || to === '.') continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
      }
    }
    const cycles: string[] = [];
    const visit = (node: string, trail: string[]) => {
      if (trail.includes(node)) {
        cycles.push([...trail.slice(trail.indexOf(node)), node].join(' → '));
        return;
      }
      for (const next of edges.get(node) ?? []) visit(next, [...trail, node]);
    };
    for (const node of edges.keys()) visit(node, []);
    assert.deepEqual([...new Set(cycles)], []);
  });

  it('has the app import its routes, never the other way, not even for a type', () => {
    const importingApp = files
      .filter((f) => /from '(\.\.\/)+app\.ts'|from '\.\/app\.ts'/.test(f.text))
      .map((f) => f.file);
    assert.deepEqual(
      importingApp.filter((f) => f !== 'main.ts'),
      [],
    );
  });

  it('asks which engine runs only inside src/storage/', () => {
    // config.ts reads DATABASE_URL into a description; storage/ alone acts on it.
    const asking = files
      .filter((f) => !f.file.startsWith('storage/') && f.file !== 'config.ts')
      .filter((f) => /\.dialect\b|\.sqlite\b|\bstorage\.pool\b|engine [=!]== '|[=!]== '(sqlite|postgres)'/.test(f.text))
      .map((f) => f.file);
    assert.deepEqual(asking, []);
  });

  it('keeps no mutable state at module level', () => {
    const stateful = files
      // A map or set made empty at module level, or a module-level `let`: state that lives as
      // long as the process and that nobody creates or closes. Constant sets of codes are fine.
      .filter((f) => /^(export )?const \w+ = new (WeakMap|WeakSet|Map|Set)(<[^>]*>)?\(\)|^(export )?let /m.test(f.text))
      .map((f) => f.file);
    assert.deepEqual(stateful, []);
  });

  it('keeps no session state that a transaction-mode pooler would carry to other clients', () => {
    // Behind PgBouncer (pool_mode=transaction) a session lock or a SET outlives the transaction
    // on a server connection other clients get next: locks are transaction-scoped
    // (pg_advisory_xact_lock), settings `set local`. The one session SET left, lifting
    // statement_timeout for migrations, is skipped behind such a pooler (postgres/engine.ts).
    const sessionState = files
      .filter((f) =>
        /pg_(try_)?advisory_lock(_shared)?\(|pg_advisory_unlock|[`'"]\s*set\s+(session\s+)?(?!local\b)\w+\s*(=|to)\s/i.test(
          f.text.replace(/^\s*(\/\/|\*).*$/gm, ''),
        ),
      )
      .map((f) => f.file);
    assert.deepEqual(sessionState, ['storage/postgres/engine.ts']);
  });
});
