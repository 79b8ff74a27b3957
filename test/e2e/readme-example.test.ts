/**
 * The README's worked example, run as a reader would: every `$` command of its shell blocks, in
 * order, in bash, against `freddy-analytics serve` on a fresh SQLite file, with the admin key the
 * server printed. Each command's output must be what the README shows, once dates, times, ids,
 * secrets and trace ids (which the README says are the reader's own) are put aside.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromRoot } from '../../src/project-root.ts';
import { waitFor } from '../harness.ts';
import { type ServerProcess, startServerProcess } from '../process.ts';

const DOCUMENTED_URL = 'http://127.0.0.1:8080';

interface Step {
  command: string;
  output: string;
}

/** The `$` commands of the section's `sh` blocks, with the lines shown after each. */
function stepsOf(markdown: string, heading: string): Step[] {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has no section "${heading}"`);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const steps: Step[] = [];
  for (const [, block] of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block!.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.startsWith('$ ')) {
        if (line !== '') steps.at(-1)!.output += `${steps.at(-1)!.output ? '\n' : ''}${line}`;
        continue;
      }
      const command = [line.slice(2)];
      // A line ending in a backslash goes on; a here-document runs to its terminator.
      while (command.at(-1)!.endsWith('\\')) command.push(lines[++i]!);
      const heredoc = /<<\s*'?(\w+)'?/.exec(command.join('\n'));
      if (heredoc) while (lines[i] !== heredoc[1]) command.push(lines[++i]!);
      steps.push({ command: command.join('\n'), output: '' });
    }
  }
  return steps;
}

/** What the README leaves to the reader's day and luck: dates, times, ids, secrets, trace ids. */
function yours(text: string): string {
  return text
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
    .replace(/\d{4}-\d{2}-\d{2}/g, '<date>')
    .replace(/"(month|year)":\d+/g, '"$1":<n>')
    .replace(/apikey_[a-z0-9]+/g, '<key id>')
    .replace(/fak_[A-Za-z0-9]+/g, '<secret>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<trace id>')
    .trim();
}

describe('the README worked example', () => {
  let dir: string;
  let server: ServerProcess;
  let admin: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freddy-readme-'));
    server = await startServerProcess({ DATABASE_URL: `sqlite:${path.join(dir, 'freddy.sqlite')}` });
    const printed = () => /\n\s+(fak_[A-Za-z0-9]+)\n/.exec(server.stderr.join(''));
    await waitFor(() => printed() !== null, 'the first admin key on standard error');
    admin = printed()![1]!;
  });
  after(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives the answers it shows', () => {
    const steps = stepsOf(fs.readFileSync(fromRoot('README.md'), 'utf8'), 'A worked example');
    assert.ok(steps.length >= 8, `only ${steps.length} commands found`);
    const marker = '--- end of step ---';
    const script = steps
      .map(({ command }) => `${command.replaceAll(DOCUMENTED_URL, server.url)}\nprintf '\\n%s\\n' '${marker}'`)
      .join('\n');
    const run = spawnSync('bash', ['-e', '-c', script], {
      cwd: dir,
      env: { ...process.env, ADMIN: admin },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const outputs = run.stdout.split(`\n${marker}\n`);
    steps.forEach((step, i) => {
      assert.equal(yours(outputs[i] ?? ''), yours(step.output), `after: $ ${step.command.split('\n')[0]}`);
    });
  });
});
