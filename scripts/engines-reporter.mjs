// A reporter for Node's test runner: counts the suites and tests named `… [sqlite]` or
// `… [postgres]` (forEachDialect names each suite so) that ran or were skipped, and writes
// the counts as JSON at the end.
const ENGINE = /\[(sqlite|postgres)\]/;

export default async function* enginesReporter(source) {
  const counts = {};
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const engine = ENGINE.exec(event.data.name)?.[1];
    if (!engine) continue;
    counts[engine] ??= { ran: 0, skipped: 0 };
    counts[engine][event.data.skip || event.data.todo ? 'skipped' : 'ran']++;
  }
  yield JSON.stringify(counts);
}
