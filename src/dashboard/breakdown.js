// The dashboard's breakdown of a month: its top end users or the top values of one tag, with
// the input read from the prompt cache apart, as GET /v1/analytics/usage/breakdown answers them.
import { drawBreakdown } from './charts.js';
import { addMonths, chf, integer, monthText } from './format.js';

const $ = (id) => document.getElementById(id);

/** The month's top 10 groups by `by` (`end_user` or `tag:<key>`), the rest as one "other" row. */
export function fetchBreakdown(api, orgId, month, by) {
  const org = encodeURIComponent(orgId);
  const range = `from=${monthText(month)}-01&to=${monthText(addMonths(month, 1))}-01`;
  return api(`/v1/analytics/usage/breakdown/${org}?window=month&${range}&group_by=${encodeURIComponent(by)}&limit=10`);
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

export function renderBreakdown(month, breakdown) {
  const by = breakdown.group_by[0];
  const tag = by.startsWith('tag:') ? by.slice(4) : undefined;
  const label = monthText(month);
  $('breakdown-title').textContent = tag ? `Top values of tag ${tag}, ${label}` : `Top end users, ${label}`;
  $('breakdown-head').textContent = tag ? `Tag ${tag}` : 'End user';
  const none = tag ? `(without ${tag})` : '(no end user)';
  const names = breakdown.rows.map((row) => (row.other ? '(other)' : (row.group[by] ?? none)));
  $('breakdown-rows').replaceChildren(
    ...breakdown.rows.map((row, i) => {
      const tr = document.createElement('tr');
      tr.dataset.group = names[i];
      tr.append(
        cell(names[i]),
        cell(integer(row.requests), 'num wide'),
        cell(integer(row.neurons), 'num wide'),
        cell(integer(row.cached_neurons), 'num'),
        cell(chf(row.cost), 'num'),
      );
      return tr;
    }),
  );
  const totals = breakdown.totals;
  $('breakdown-note').textContent =
    breakdown.rows.length === 0
      ? `No usage in ${label}.`
      : `CHF ${chf(totals.cost)} in ${integer(totals.requests)} requests; ${integer(totals.cached_neurons)} of ${integer(totals.neurons)} input neurons read from the prompt cache.`;
  drawBreakdown(names, breakdown.rows);
}
