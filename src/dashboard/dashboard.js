// The dashboard's browser code: reads an organization's usage through the public API with the
// key the user typed (kept in sessionStorage only) and draws it. It asks GET /v1/me first, so
// that it only requests what the key may read. The month shown is kept in the URL (?month=).
import { fetchBreakdown, renderBreakdown } from './breakdown.js';
import { drawDaily, drawHourly, drawModels, drawMonthly } from './charts.js';
import { addMonths, chf, integer, monthQuery, monthText, parseMonth, percent } from './format.js';

const STORAGE = { org: 'freddy.orgId', key: 'freddy.apiKey' };
const $ = (id) => document.getElementById(id);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

/**
 * What the page is showing; `month` and `today` come from the server's clock. `loads` counts
 * loads begun, so that only the latest one draws.
 */
const view = {
  org: '',
  key: '',
  canListKeys: false,
  today: '',
  month: undefined,
  monthly: undefined,
  day: '',
  /** What the breakdown groups the month by: `end_user` or `tag:<key>`. */
  breakdownBy: 'end_user',
  loads: 0,
  dayLoads: 0,
};

class ApiError extends Error {
  constructor(status, body) {
    const error = body?.error;
    super(
      error
        ? `${error.message || error.code} (${error.code}${error.system_message ? `: ${error.system_message}` : ''})`
        : `HTTP ${status}`,
    );
    this.status = status;
  }
}

async function api(path) {
  const response = await fetch(path, { headers: { 'X-API-Key': view.key, Accept: 'application/json' } });
  const body = await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function showMessage(text) {
  $('message').textContent = text;
  $('message').classList.toggle('shown', Boolean(text));
}

function setState(state) {
  document.body.dataset.state = state;
  if (view.month) document.body.dataset.month = monthText(view.month);
}

function cell(content, className) {
  const td = document.createElement('td');
  td.append(...[content].flat());
  if (className) td.className = className;
  return td;
}

function span(text, className) {
  const element = document.createElement('span');
  element.textContent = text;
  element.className = className;
  return element;
}

/** Why the page cannot show this organization with this key, before asking anything else. */
function refusal(me, org) {
  if (me.kind !== 'api_key') return undefined;
  if (me.organization_id !== org) return `This key belongs to organization ${me.organization_id}, not ${org}.`;
  if (!me.scopes.includes('read:usage')) return 'This key cannot read usage: it needs the read:usage scope.';
  return undefined;
}

function renderSummary(summary) {
  byTestId('total-cost').textContent = chf(summary.totalCost);
  byTestId('total-requests').textContent = integer(summary.totalRequests);
  // Finer than the API's 2 decimals, from the same exact total.
  byTestId('average-cost').textContent = chf(summary.totalRequests ? summary.totalCost / summary.totalRequests : 0);
  byTestId('current-month-cost').textContent = chf(summary.currentMonth.cost);
  byTestId('top-model').textContent = summary.topModels[0]?.model ?? '–';
  $('time-range').textContent = `All-time figures from ${summary.timeRange.start} to ${summary.timeRange.end} (UTC).`;
  drawModels(summary);
}

/**
 * The keys to show for the month: with manage:keys every key of the organization, otherwise
 * those with a limit; in both cases also those that spent in the month (deleted ones included).
 */
async function findKeyIds(org, month) {
  const top = api(`/v1/analytics/${org}/api-keys/top/${month.month}/${month.year}?limit=100`);
  if (view.canListKeys) {
    const [list, spent] = await Promise.all([api(`/v1/organizations/${org}/api-keys?page_size=100`), top]);
    const ids = [...list.api_keys.map((k) => k.id), ...spent.top_keys.map((k) => k.api_key_id)];
    return { ids: [...new Set(ids)], complete: list.pagination.total_pages <= 1 };
  }
  const [limits, spent] = await Promise.all([api(`/v1/analytics/usage/limits/${org}?${monthQuery(month)}`), top]);
  const ids = [...limits.api_key_limits.map((k) => k.id), ...spent.top_keys.map((k) => k.api_key_id)];
  return { ids: [...new Set(ids)], complete: false };
}

function keyRow(u) {
  const tr = document.createElement('tr');
  tr.dataset.keyId = u.apiKeyId;
  const status = span(u.limit.status, `status status-${u.limit.status}`);
  status.dataset.testid = `key-status-${u.apiKeyId}`;
  const limit = u.limit;
  tr.append(
    cell([span(u.apiKeyName, 'key-name'), document.createElement('br'), span(u.apiKeyId, 'key-id muted')], 'key'),
    cell(integer(u.usage.totalRequests), 'num wide'),
    cell(chf(u.usage.totalCost), 'num'),
    cell(limit.monthlyLimit === null ? '–' : chf(limit.monthlyLimit), 'num wide'),
    cell(limit.utilizationPercentage === null ? '–' : percent(limit.utilizationPercentage, u.usage.totalCost), 'num'),
    cell(status),
  );
  for (const [i, name] of ['key', 'requests', 'cost', 'limit', 'used', 'status'].entries()) {
    tr.children[i].dataset.col = name;
  }
  return tr;
}

async function loadKeys(org, month) {
  const { ids, complete } = await findKeyIds(org, month);
  const query = monthQuery(month);
  const usages = await Promise.all(ids.map((id) => api(`/v1/analytics/api-keys/usage/${org}/${id}?${query}`)));
  usages.sort((a, b) => b.usage.totalCost - a.usage.totalCost || a.apiKeyId.localeCompare(b.apiKeyId));
  return { rows: usages.map(keyRow), complete };
}

/** The chosen month's daily series, key budgets and breakdown; `daily` when already fetched. */
async function fetchMonth(month, daily) {
  const org = encodeURIComponent(view.org);
  const [day, keys, breakdown] = await Promise.all([
    daily ?? api(`/v1/analytics/usage/daily/${org}?${monthQuery(month)}`),
    loadKeys(org, month),
    fetchBreakdown(api, view.org, month, view.breakdownBy),
  ]);
  return { day, keys, breakdown };
}

async function chooseBreakdown() {
  const tag = $('breakdown-tag');
  const byTag = $('breakdown-by').value === 'tag';
  tag.hidden = !byTag;
  if (byTag && (!tag.value || !tag.checkValidity())) return;
  view.breakdownBy = byTag ? `tag:${tag.value}` : 'end_user';
  if (!view.today || !view.month) return;
  const ticket = ++view.loads;
  const month = view.month;
  setState('loading');
  try {
    const breakdown = await fetchBreakdown(api, view.org, month, view.breakdownBy);
    if (ticket !== view.loads) return;
    renderBreakdown(month, breakdown);
    setState('ready');
  } catch (error) {
    if (ticket === view.loads) fail(error);
  }
}

function renderMonth(month, { day, keys, breakdown }) {
  const label = monthText(month);
  $('daily-title').textContent = `Daily usage, ${label} (UTC)`;
  $('daily-totals').textContent = `CHF ${chf(day.totalCost)} in ${integer(day.totalRequests)} requests`;
  drawDaily(day, view.today);
  $('keys-title').textContent = `API key budgets, ${label}`;
  $('keys').replaceChildren(...keys.rows);
  $('keys-note').textContent = keys.complete
    ? ''
    : view.canListKeys
      ? 'Shown are the first 100 keys and the keys with usage in this month.'
      : `Listing every key needs a key with manage:keys; shown are the keys with a limit or with usage in ${label}.`;
  drawMonthly(view.monthly, month);
  renderBreakdown(month, breakdown);
  setPicker(month);
}

function renderHourly(hourly) {
  const peak = hourly.summary.peak_hour;
  $('hourly-title').textContent = `Hourly usage, ${hourly.summary.date} (UTC)`;
  $('hourly-totals').textContent =
    `CHF ${chf(hourly.totalCost)} in ${integer(hourly.totalRequests)} requests` +
    (peak === null ? '' : `; peak hour ${hourly.data[peak].hour_display}`);
  $('day').max = view.today;
  $('day').value = hourly.summary.date;
  drawHourly(hourly);
}

/** Weekday × hour as a table, each cell shaded by its share of the highest cell. */
function renderHeatmap(heatmap) {
  // In the hours' order: an object parsed from JSON lists "10"…"23" (integer keys) before "00"…"09".
  const hours = Array.from({ length: 24 }, (_, hour) => String(hour).padStart(2, '0'));
  $('heatmap-hours').replaceChildren(
    document.createElement('th'),
    ...hours.map((hour) => {
      const th = document.createElement('th');
      th.textContent = hour;
      return th;
    }),
  );
  const max = Math.max(0, ...Object.values(heatmap.heatmap_data).flatMap((cells) => Object.values(cells)));
  $('heatmap-days').replaceChildren(
    ...Object.entries(heatmap.heatmap_data).map(([day, cells]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = day.slice(0, 3);
      tr.append(th);
      for (const hour of hours) {
        const td = document.createElement('td');
        const value = cells[hour];
        td.dataset.day = day;
        td.dataset.hour = hour;
        td.dataset.value = String(value);
        td.title = `${day} ${hour}:00 UTC: ${integer(value)}`;
        // Set through the CSSOM, which the page's content security policy allows.
        td.style.backgroundColor =
          max > 0 && value > 0 ? `rgba(47, 111, 223, ${0.12 + (0.88 * value) / max})` : '#f2f4f8';
        tr.append(td);
      }
      return tr;
    }),
  );
  const { peak_day: day, peak_hour: hour, low_activity_days: quiet } = heatmap.patterns;
  $('heatmap-note').textContent =
    day === null
      ? 'No usage in the last 30 days.'
      : `Busiest weekday: ${day}; busiest hour: ${String(hour).padStart(2, '0')}:00 UTC` +
        (quiet.length ? `; quiet: ${quiet.join(', ')}.` : '.');
}

async function chooseDay(day) {
  if (!view.today || !day) return;
  const ticket = ++view.dayLoads;
  view.day = day;
  try {
    const hourly = await api(`/v1/analytics/usage/hourly/${encodeURIComponent(view.org)}?date=${day}`);
    if (ticket === view.dayLoads) renderHourly(hourly);
  } catch (error) {
    if (ticket === view.dayLoads) fail(error);
  }
}

function setPicker(month) {
  const current = view.today.slice(0, 7);
  $('month').max = current;
  $('month').value = monthText(month);
  $('month-next').disabled = monthText(month) >= current;
  $('month-prev').disabled = monthText(month) <= $('month').min;
}

async function chooseMonth(month) {
  if (!view.today) return;
  if (!month) return setPicker(view.month);
  const ticket = ++view.loads;
  view.month = month;
  const url = new URL(window.location.href);
  url.searchParams.set('month', monthText(month));
  window.history.replaceState(null, '', url);
  setState('loading');
  showMessage('');
  try {
    const shown = await fetchMonth(month);
    // A later choice is on its way: this one is not drawn.
    if (ticket !== view.loads) return;
    renderMonth(month, shown);
    setState('ready');
  } catch (error) {
    if (ticket === view.loads) fail(error);
  }
}

/** The month in the URL, if it is one the API serves (from 2000). */
function monthFromUrl() {
  const month = parseMonth(new URL(window.location.href).searchParams.get('month'));
  return month && month.year >= 2000 ? month : undefined;
}

function fail(error) {
  setState('error');
  if (error.status === 401) sessionStorage.removeItem(STORAGE.key);
  showMessage(`Could not load the dashboard: ${error.message}`);
}

async function load(orgId, key) {
  const ticket = ++view.loads;
  Object.assign(view, { org: orgId, key, month: monthFromUrl() });
  const org = encodeURIComponent(orgId);
  setState('loading');
  showMessage('');
  try {
    const me = await api('/v1/me');
    const refused = refusal(me, orgId);
    if (ticket !== view.loads) return;
    if (refused) {
      setState('error');
      showMessage(refused);
      return;
    }
    view.canListKeys = me.kind === 'admin' || me.scopes.includes('manage:keys');
    // Without a chosen month the server's current one, as it answers the daily series.
    const [summary, monthly, daily] = await Promise.all([
      api(`/v1/analytics/usage/summary/${org}`),
      api(`/v1/analytics/usage/monthly/${org}?months=12`),
      api(`/v1/analytics/usage/daily/${org}${view.month ? `?${monthQuery(view.month)}` : ''}`),
    ]);
    view.today = summary.timeRange.end;
    view.day = view.today;
    const [hourly, heatmap] = await Promise.all([
      api(`/v1/analytics/usage/hourly/${org}?date=${view.day}`),
      api(`/v1/analytics/usage/heatmap/${org}?days=30`),
    ]);
    if (ticket !== view.loads) return;
    view.monthly = monthly;
    view.month = { year: daily.summary.year, month: daily.summary.month };
    $('intro').hidden = true;
    $('content').hidden = false;
    $('sign-out').hidden = false;
    renderSummary(summary);
    renderHourly(hourly);
    renderHeatmap(heatmap);
    const shown = await fetchMonth(view.month, daily);
    if (ticket !== view.loads) return;
    renderMonth(view.month, shown);
    setState('ready');
  } catch (error) {
    if (ticket === view.loads) fail(error);
  }
}

function start() {
  const form = $('connect');
  const org = sessionStorage.getItem(STORAGE.org);
  const key = sessionStorage.getItem(STORAGE.key);
  if (org) $('org-id').value = org;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const orgId = $('org-id').value.trim();
    const apiKey = $('api-key').value.trim();
    sessionStorage.setItem(STORAGE.org, orgId);
    sessionStorage.setItem(STORAGE.key, apiKey);
    $('api-key').value = '';
    load(orgId, apiKey);
  });
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(STORAGE.key);
    window.location.reload();
  });
  $('day').addEventListener('change', () => chooseDay($('day').value));
  $('breakdown-by').addEventListener('change', () => chooseBreakdown());
  $('breakdown-tag').addEventListener('change', () => chooseBreakdown());
  $('breakdown-form').addEventListener('submit', (event) => {
    event.preventDefault();
    chooseBreakdown();
  });
  $('month').addEventListener('change', () => chooseMonth(parseMonth($('month').value)));
  $('month-prev').addEventListener('click', () => chooseMonth(addMonths(view.month, -1)));
  $('month-next').addEventListener('click', () => chooseMonth(addMonths(view.month, 1)));
  if (org && key) load(org, key);
}

start();
