// A reporter for Node's test runner: counts the suites and tests named `… [sqlite]` or
// `… [postgres]` (forEachDialect names each suite so) that ran or were skipped, collects the
// failures that are not merely the consequence of another (a test cancelled because its suite
// failed), and writes both as JSON at the end, for scripts/run-tests.mjs to summarise.
const ENGINE = /\[(sqlite|postgres)\]/;

/** A failure's own error (its cause's, when the runner wrapped it): the message, then where. */
function describe(error) {
  const inner = error?.cause ?? error;
  const message = String(inner?.message ?? inner)
    .split('\n')
    .slice(0, 40);
  const frames = String(inner?.stack ?? '')
    .split('\n')
    .filter((line) => line.trim().startsWith('at '))
    .slice(0, 3);
  return [`${inner?.name ?? 'Error'}: ${message[0]}`, ...message.slice(1), ...frames].join('\n');
}

export default async function* enginesReporter(source) {
  const counts = {};
  const failures = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.type === 'test:fail') {
      const error = event.data.details?.error;
      if (error?.failureType !== 'cancelledByParent') {
        failures.push({
          name: event.data.name,
          file: event.data.file,
          line: event.data.line,
          failureType: error?.failureType,
          error: describe(error),
        });
      }
    }
    const engine = ENGINE.exec(event.data.name)?.[1];
    if (!engine) continue;
    counts[engine] ??= { ran: 0, skipped: 0 };
    counts[engine][event.data.skip || event.data.todo ? 'skipped' : 'ran']++;
  }
  yield JSON.stringify({ counts, failures });
}
