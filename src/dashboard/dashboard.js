// The dashboard's browser code: reads an organization's usage through the public API with
// the key the user typed (kept in sessionStorage only) and draws it with Chart.js.
/* global Chart */

const STORAGE = { org: 'freddy.orgId', key: 'freddy.apiKey' };
const chf = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const integer = new Intl.NumberFormat('en-US');
const COLORS = ['#2f6fdf', '#e8833a', '#3aa776', '#c4453c', '#8a63d2', '#8c6d46', '#d46fb3', '#7f8793'];
const charts = {};

const $ = (id) => document.getElementById(id);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

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

async function api(path, key) {
  const response = await fetch(path, { headers: { 'X-API-Key': key, Accept: 'application/json' } });
  const body = await response.json().catch(() => undefined);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function showMessage(text) {
  $('message').textContent = text;
  $('message').classList.toggle('shown', Boolean(text));
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function drawChart(id, config) {
  charts[id]?.destroy();
  charts[id] = new Chart($(id), {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  });
}

function renderSummary(summary) {
  byTestId('total-cost').textContent = chf.format(summary.totalCost);
  byTestId('total-requests').textContent = integer.format(summary.totalRequests);
  byTestId('average-cost').textContent = chf.format(summary.averageCostPerRequest);
  byTestId('current-month-cost').textContent = chf.format(summary.currentMonth.cost);
  byTestId('top-model').textContent = summary.topModels[0]?.model ?? '–';
  $('time-range').textContent = `All-time figures from ${summary.timeRange.start} to ${summary.timeRange.end} (UTC).`;
  drawChart('models-chart', {
    type: 'doughnut',
    data: {
      labels: summary.topModels.map((m) => m.model),
      datasets: [{ data: summary.topModels.map((m) => m.cost), backgroundColor: COLORS }],
    },
    options: {
      plugins: {
        legend: { position: 'right' },
        tooltip: {
          callbacks: {
            label: (c) => ` ${c.label}: CHF ${chf.format(c.raw)} (${summary.topModels[c.dataIndex].percentage} %)`,
          },
        },
      },
    },
  });
}

function renderMonthly(monthly) {
  drawChart('monthly-chart', {
    type: 'bar',
    data: {
      labels: monthly.data.map((m) => `${m.month_name.slice(0, 3)} ${m.year}`),
      datasets: [{ label: 'Cost (CHF)', data: monthly.data.map((m) => m.total_cost_chf), backgroundColor: COLORS[0] }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } },
  });
}

function renderDaily(daily) {
  $('daily-title').textContent =
    `Daily usage, ${daily.summary.year}-${String(daily.summary.month).padStart(2, '0')} (UTC)`;
  drawChart('daily-chart', {
    type: 'bar',
    data: {
      labels: daily.data.map((d) => d.day_of_month),
      datasets: [
        {
          type: 'bar',
          label: 'Cost (CHF)',
          data: daily.data.map((d) => d.total_cost_chf),
          backgroundColor: COLORS[0],
          yAxisID: 'cost',
        },
        {
          type: 'line',
          label: 'Requests',
          data: daily.data.map((d) => d.total_requests),
          borderColor: COLORS[1],
          backgroundColor: COLORS[1],
          yAxisID: 'requests',
          pointRadius: 2,
        },
      ],
    },
    options: {
      scales: {
        cost: { position: 'left', beginAtZero: true, title: { display: true, text: 'CHF' } },
        requests: {
          position: 'right',
          beginAtZero: true,
          grid: { drawOnChartArea: false },
          title: { display: true, text: 'requests' },
        },
      },
    },
  });
}

/**
 * The organization's keys: the key list needs manage:keys, so a read-only key falls back to the
 * keys with a limit (usage limits) and the keys that spent this month (top keys).
 */
async function findKeyIds(org, key, now) {
  try {
    const list = await api(`/v1/organizations/${org}/api-keys?page_size=100`, key);
    return { ids: list.api_keys.map((k) => k.id), complete: list.pagination.total_pages <= 1 };
  } catch (error) {
    if (error.status !== 403) throw error;
  }
  const month = now.getUTCMonth() + 1;
  const year = now.getUTCFullYear();
  const [limits, top] = await Promise.all([
    api(`/v1/analytics/usage/limits/${org}?year=${year}&month=${month}`, key),
    api(`/v1/analytics/${org}/api-keys/top/${month}/${year}?limit=100`, key),
  ]);
  const ids = [...new Set([...limits.api_key_limits.map((k) => k.id), ...top.top_keys.map((k) => k.api_key_id)])];
  return { ids, complete: false };
}

async function renderKeys(org, key, now) {
  const { ids, complete } = await findKeyIds(org, key, now);
  const query = `month=${now.getUTCMonth() + 1}&year=${now.getUTCFullYear()}`;
  const usages = await Promise.all(ids.map((id) => api(`/v1/analytics/api-keys/usage/${org}/${id}?${query}`, key)));
  usages.sort((a, b) => b.usage.totalCost - a.usage.totalCost || a.apiKeyId.localeCompare(b.apiKeyId));
  const rows = usages.map((u) => {
    const tr = document.createElement('tr');
    tr.dataset.keyId = u.apiKeyId;
    const status = document.createElement('span');
    status.className = `status status-${u.limit.status}`;
    status.dataset.testid = `key-status-${u.apiKeyId}`;
    status.textContent = u.limit.status;
    const statusCell = document.createElement('td');
    statusCell.append(status);
    tr.append(
      cell(u.apiKeyName),
      cell(u.apiKeyId, 'muted'),
      cell(integer.format(u.usage.totalRequests), 'num'),
      cell(chf.format(u.usage.totalCost), 'num'),
      cell(u.limit.monthlyLimit === null ? '–' : chf.format(u.limit.monthlyLimit), 'num'),
      cell(u.limit.utilizationPercentage === null ? '–' : `${u.limit.utilizationPercentage.toFixed(2)} %`, 'num'),
      statusCell,
    );
    return tr;
  });
  $('keys').replaceChildren(...rows);
  $('keys-note').textContent = complete
    ? ''
    : 'Listing every key needs a key with manage:keys; shown are the keys with a limit or with usage this month.';
}

async function load(orgId, key) {
  const org = encodeURIComponent(orgId);
  document.body.dataset.state = 'loading';
  showMessage('');
  const now = new Date();
  try {
    const [summary, monthly, daily] = await Promise.all([
      api(`/v1/analytics/usage/summary/${org}`, key),
      api(`/v1/analytics/usage/monthly/${org}?months=12`, key),
      api(`/v1/analytics/usage/daily/${org}?year=${now.getUTCFullYear()}&month=${now.getUTCMonth() + 1}`, key),
    ]);
    $('intro').hidden = true;
    $('content').hidden = false;
    $('sign-out').hidden = false;
    renderSummary(summary);
    renderMonthly(monthly);
    renderDaily(daily);
    await renderKeys(org, key, now);
    document.body.dataset.state = 'ready';
  } catch (error) {
    document.body.dataset.state = 'error';
    if (error.status === 401) sessionStorage.removeItem(STORAGE.key);
    showMessage(`Could not load the dashboard: ${error.message}`);
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
  if (org && key) load(org, key);
}

start();
