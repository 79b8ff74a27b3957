// The dashboard's charts (Chart.js, loaded before this module as a global). Axes and tooltips
// write CHF as the rest of the page does; Chart.js's own number format would print 9.00000E-5.
/* global Chart */
import { chf, integer, monthText, percent } from './format.js';

const COLORS = ['#2f6fdf', '#e8833a', '#3aa776', '#c4453c', '#8a63d2', '#8c6d46', '#d46fb3', '#7f8793'];
const FADED = '#b3c8ef';
const charts = {};

function draw(id, config) {
  charts[id]?.destroy();
  charts[id] = new Chart(document.getElementById(id), {
    ...config,
    options: { responsive: true, maintainAspectRatio: false, animation: false, ...config.options },
  });
}

/** A CHF axis: steps of at least the API's 6 decimals, labels as the page writes CHF. */
const chfAxis = (extra = {}) => ({
  beginAtZero: true,
  ticks: { precision: 6, callback: (value) => chf(value) },
  ...extra,
});
const countAxis = (extra = {}) => ({
  beginAtZero: true,
  ticks: { precision: 0, callback: (value) => integer(value) },
  ...extra,
});
const chfTooltip = (label) => ({ callbacks: { label: (c) => ` ${label(c)}CHF ${chf(c.raw)}` } });

export function drawModels(summary) {
  const narrow = window.matchMedia('(max-width: 640px)').matches;
  draw('models-chart', {
    type: 'doughnut',
    data: {
      labels: summary.topModels.map((m) => m.model),
      datasets: [{ data: summary.topModels.map((m) => m.cost), backgroundColor: COLORS }],
    },
    options: {
      plugins: {
        legend: { position: narrow ? 'bottom' : 'right' },
        tooltip: {
          callbacks: {
            label: (c) => {
              const model = summary.topModels[c.dataIndex];
              return ` ${c.label}: CHF ${chf(c.raw)} (${percent(model.percentage, model.cost)})`;
            },
          },
        },
      },
    },
  });
}

/** The last months' costs; the month the page shows is drawn in full colour. */
export function drawMonthly(monthly, chosen) {
  const chosenText = monthText(chosen);
  draw('monthly-chart', {
    type: 'bar',
    data: {
      labels: monthly.data.map((m) => `${m.month_name.slice(0, 3)} ${m.year}`),
      datasets: [
        {
          label: 'Cost (CHF)',
          data: monthly.data.map((m) => m.total_cost_chf),
          backgroundColor: monthly.data.map((m) => (monthText(m) === chosenText ? COLORS[0] : FADED)),
        },
      ],
    },
    options: {
      plugins: { legend: { display: false }, tooltip: chfTooltip(() => '') },
      scales: { y: chfAxis() },
    },
  });
}

/** Cost as bars and requests as a line over the same labels, on two axes. */
function drawCostAndRequests(id, labels, costs, requests) {
  draw(id, {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { type: 'bar', label: 'Cost (CHF)', data: costs, backgroundColor: COLORS[0], yAxisID: 'cost', order: 1 },
        {
          type: 'line',
          label: 'Requests',
          data: requests,
          borderColor: COLORS[1],
          backgroundColor: COLORS[1],
          yAxisID: 'requests',
          pointRadius: 2,
          // Drawn over the bars.
          order: 0,
        },
      ],
    },
    options: {
      plugins: {
        // In the datasets' order, not their drawing order.
        legend: { labels: { sort: (a, b) => a.datasetIndex - b.datasetIndex } },
        tooltip: {
          callbacks: {
            label: (c) => (c.dataset.yAxisID === 'cost' ? ` Cost: CHF ${chf(c.raw)}` : ` Requests: ${integer(c.raw)}`),
          },
        },
      },
      scales: {
        cost: chfAxis({ position: 'left', title: { display: true, text: 'CHF' } }),
        requests: countAxis({
          position: 'right',
          grid: { drawOnChartArea: false },
          title: { display: true, text: 'requests' },
        }),
      },
    },
  });
}

/** One month by day. Days after `today` (UTC, YYYY-MM-DD) have not happened: they are not drawn. */
export function drawDaily(daily, today) {
  const upToToday = (day, value) => (day.date > today ? null : value);
  drawCostAndRequests(
    'daily-chart',
    daily.data.map((d) => d.day_of_month),
    daily.data.map((d) => upToToday(d, d.total_cost_chf)),
    daily.data.map((d) => upToToday(d, d.total_requests)),
  );
}

/** One UTC day by hour: cost as bars, requests as a line. */
export function drawHourly(hourly) {
  drawCostAndRequests(
    'hourly-chart',
    hourly.data.map((h) => h.hour_display),
    hourly.data.map((h) => h.total_cost_chf),
    hourly.data.map((h) => h.total_requests),
  );
}

/** Per group of the breakdown, input read from the prompt cache and the rest, stacked. */
export function drawBreakdown(labels, rows) {
  draw('breakdown-chart', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label: 'Cached input (neurons)', data: rows.map((r) => r.cached_neurons), backgroundColor: COLORS[2] },
        {
          label: 'Uncached input (neurons)',
          data: rows.map((r) => r.neurons - r.cached_neurons),
          backgroundColor: COLORS[0],
        },
      ],
    },
    options: {
      indexAxis: 'y',
      plugins: { tooltip: { callbacks: { label: (c) => ` ${c.dataset.label}: ${integer(c.raw)}` } } },
      scales: { x: countAxis({ stacked: true }), y: { stacked: true } },
    },
  });
}
