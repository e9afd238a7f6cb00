// panel-models.js — panel 2: models side by side, sortable. Two tables:
//  - "Comparison": GET /compare?suite=… (runs of `fwpcast compare` / `fwpcast benchmark`, per
//    model: seeds, parameters, mean ± sd over seeds of the test metrics), when the server has the
//    route and has results;
//  - "Stored models": GET /models, each stored model with its recorded test metrics and a button
//    to forecast with it in the solar panel.
// The comparison is shown first when it has rows; otherwise the stored models, with a note.
import { api, ApiError, errorText } from './api.js';
import { $, h, show, fmtNum } from './util.js';

const stat = (v) => (v && typeof v === 'object' && 'mean' in v ? v : null);

/** Columns: [key, label, get(row) → sortable value, kind ('num' | 'text' | 'stat' | 'long'), cell(row)?]. */
const MODEL_COLUMNS = [
  ['id', 'ID', (m) => m.id, 'num'],
  ['name', 'Name', (m) => m.name, 'text'],
  ['architecture', 'Architecture', (m) => m.architecture, 'text'],
  ['parameters', 'Parameters', (m) => m.parameters, 'num'],
  ['seed', 'Seed', (m) => m.seed, 'num'],
  ['protocol', 'Protocol', (m) => m.protocol || null, 'text'],
  ['cutoff', 'Cutoff', (m) => m.cutoff, 'text'],
  ['scaled_mse', 'Scaled MSE', (m) => metric(m, 'scaled_mse'), 'num'],
  ['peak_amplitude_error', 'Peak amplitude error', (m) => metric(m, 'peak_amplitude_error'), 'num'],
  ['peak_timing_error', 'Peak timing error (months)', (m) => metric(m, 'peak_timing_error'), 'num'],
  ['r2', 'R²', (m) => metric(m, 'r2'), 'num'],
  ['default', 'Default', (m) => (m.default ? 'yes' : ''), 'text'],
  ['created_at', 'Created', (m) => m.created_at, 'text'],
];

function metric(m, k) {
  return m.metrics && typeof m.metrics[k] === 'number' ? m.metrics[k] : null;
}

const LABELS = {
  model: 'Model', task: 'Task', config: 'Configuration', epochs: 'Epochs', seeds: 'Seeds', parameters: 'Parameters',
  test_windows: 'Test windows', mse: 'Test MSE', mae: 'Test MAE', r2: 'R²', scaled_mse: 'Scaled MSE',
  peak_amplitude_error: 'Peak amplitude error', peak_timing_error: 'Peak timing error (months)',
  train_seconds: 'Training (s)', architecture: 'Architecture', rmse: 'RMSE', mase: 'MASE', smape: 'sMAPE (%)',
};
const HIDDEN = new Set(['suite']);

function prettify(key) {
  if (LABELS[key]) return LABELS[key];
  const s = key.split('.').pop().replace(/[_-]+/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Rows of a /compare answer: its `models` (or, for another shape, the first array of objects). */
function compareRows(data) {
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object') {
    if (Array.isArray(data.models)) return data.models;
    const arr = Object.values(data).find((v) => Array.isArray(v) && v.length && typeof v[0] === 'object');
    if (arr) return arr;
  }
  return [];
}

/**
 * Columns for the comparison rows, from their keys: {mean, sd} members become one "mean ± sd"
 * column sorted by the mean, other objects are flattened one level, long strings wrap.
 */
function compareColumns(rows) {
  const cols = [];
  const seen = new Set();
  const get = (path) => (r) => path.reduce((o, p) => (o && typeof o === 'object' ? o[p] : undefined), r);
  for (const r of rows) {
    for (const [k, v] of Object.entries(r)) {
      if (HIDDEN.has(k) || Array.isArray(v)) continue;
      if (stat(v)) {
        if (!seen.has(k)) cols.push([k, prettify(k), (row) => (stat(row[k]) ? stat(row[k]).mean : null), 'stat', (row) => stat(row[k])]);
      } else if (v && typeof v === 'object') {
        for (const k2 of Object.keys(v)) {
          const key = `${k}.${k2}`;
          if (!seen.has(key)) {
            seen.add(key);
            cols.push([key, prettify(key), get([k, k2]), typeof v[k2] === 'number' ? 'num' : 'text']);
          }
        }
        continue;
      } else if (!seen.has(k)) {
        const kind = typeof v === 'number' ? 'num' : typeof v === 'string' && (k === 'config' || v.length > 40) ? 'long' : 'text';
        cols.push([k, prettify(k), get([k]), kind]);
      }
      seen.add(k);
    }
  }
  const ORDER = ['model', 'task', 'parameters', 'mse', 'peak_amplitude_error', 'peak_timing_error', 'r2', 'mae', 'seeds', 'epochs', 'test_windows', 'train_seconds', 'config'];
  const rank = (k) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length - 1);
  return cols.map((c, i) => [c, i]).sort((a, b) => rank(a[0][0]) - rank(b[0][0]) || a[1] - b[1]).map(([c]) => c);
}

function cellText(kind, key, value, raw) {
  if (kind === 'stat') {
    if (!raw || raw.mean === null || raw.mean === undefined) return '—';
    return raw.sd === null || raw.sd === undefined ? fmtNum(raw.mean, 4) : `${fmtNum(raw.mean, 4)} ± ${fmtNum(raw.sd, 4)}`;
  }
  if (kind === 'num') return fmtNum(value, ['parameters', 'id', 'seed', 'epochs', 'seeds', 'test_windows'].includes(key) ? 0 : 4);
  return value === null || value === undefined || value === '' ? '—' : String(value);
}

export function mount(section, ctx) {
  const table = $('#models-table', section);
  const thead = table.tHead;
  const tbody = table.tBodies[0];
  const statusEl = $('#models-status', section);
  const errorEl = $('#models-error', section);
  const sourceEl = $('#models-source', section);
  const suiteSelect = $('#models-suite', section);
  const viewButtons = [...section.querySelectorAll('button[data-view]')];
  const sorts = { compare: { key: 'mse', dir: 1 }, models: { key: 'scaled_mse', dir: 1 } };
  const data = { compare: null, compareError: null, compareAvailable: true, models: [] };
  let view = 'models';
  let chosenByUser = false;
  const hook = (window.fwpcast.panels.models = { source: null, rows: 0, compareRows: 0 });

  function current() {
    if (view === 'compare') {
      const rows = data.compare || [];
      return { rows, columns: compareColumns(rows) };
    }
    return { rows: data.models, columns: MODEL_COLUMNS };
  }

  function sortedRows(rows, columns) {
    const sort = sorts[view];
    const col = columns.find((c) => c[0] === sort.key);
    if (!col) return rows;
    const [, , get, kind] = col;
    return [...rows].sort((a, b) => {
      const va = get(a);
      const vb = get(b);
      const na = va === null || va === undefined || va === '';
      const nb = vb === null || vb === undefined || vb === '';
      if (na || nb) return na === nb ? 0 : na ? 1 : -1; // blanks last, whatever the direction
      if (kind === 'num' || kind === 'stat') return (va - vb) * sort.dir;
      return String(va).localeCompare(String(vb), 'en', { numeric: true }) * sort.dir;
    });
  }

  function describe() {
    if (view === 'compare') {
      sourceEl.textContent = `Models compared on the ${suiteSelect.value} suite (GET /compare): mean ± sample sd over seeds of the test metrics. Select a column header to sort.`;
    } else {
      const why = !data.compareAvailable
        ? ' This server has no comparison yet (GET /compare).'
        : data.compare && !data.compare.length
          ? ` No comparison runs in the ${suiteSelect.value} suite yet (fwpcast compare).`
          : '';
      sourceEl.textContent = `Stored models with their test metrics (GET /models; “—”: none recorded, as for the bundled and imported models).${why} Select a column header to sort.`;
    }
    for (const b of viewButtons) {
      b.setAttribute('aria-pressed', String(b.dataset.view === view));
      if (b.dataset.view === 'compare') b.disabled = !data.compareAvailable;
    }
    suiteSelect.disabled = !data.compareAvailable;
  }

  function render() {
    const { rows, columns } = current();
    const sort = sorts[view];
    const head = h('tr');
    for (const [key, label, , kind] of columns) {
      const active = sort.key === key;
      const numeric = kind === 'num' || kind === 'stat';
      head.append(
        h('th', { scope: 'col', 'aria-sort': active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none', class: numeric ? 'num' : '' },
          h('button', { type: 'button', class: 'sort', dataset: { key } },
            label, h('span', { class: 'sort-mark', 'aria-hidden': 'true', text: active ? (sort.dir > 0 ? ' ▲' : ' ▼') : '' }))),
      );
    }
    if (view === 'models') head.append(h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Actions' })));
    thead.replaceChildren(head);

    const sorted = sortedRows(rows, columns);
    const rowHeader = Math.max(0, columns.findIndex((c) => c[0] === 'name' || c[0] === 'model'));
    tbody.replaceChildren(
      ...sorted.map((r) => {
        const tr = h('tr', view === 'models' && r.default ? { class: 'is-default' } : {});
        columns.forEach(([key, , get, kind, raw], i) => {
          const text = cellText(kind, key, get(r), raw ? raw(r) : null);
          const cls = kind === 'num' || kind === 'stat' ? 'num' : kind === 'long' ? 'wrap' : '';
          tr.append(h(i === rowHeader ? 'th' : 'td', { class: cls, ...(i === rowHeader ? { scope: 'row' } : {}), text }));
        });
        if (view === 'models') {
          tr.append(
            h('td', {},
              h('button', { type: 'button', class: 'secondary small', dataset: { forecast: String(r.id) }, 'aria-label': `Forecast with model ${r.id} ${r.name}` }, 'Forecast')),
          );
        }
        return tr;
      }),
    );
    if (!sorted.length) {
      tbody.append(h('tr', {}, h('td', { colspan: String(Math.max(1, columns.length + 1)), text: view === 'compare' ? 'No comparison runs yet.' : 'No models stored yet.' })));
    }
    describe();
    hook.rows = sorted.length;
    hook.source = view;
    hook.compareRows = data.compare ? data.compare.length : 0;
    statusEl.textContent = `${sorted.length} ${sorted.length === 1 ? 'row' : 'rows'} from GET /${view === 'compare' ? `compare?suite=${suiteSelect.value}` : 'models'}.`;
  }

  async function loadCompare() {
    try {
      const { data: d } = await api.get(`/compare?suite=${encodeURIComponent(suiteSelect.value)}`);
      data.compare = compareRows(d);
      data.compareAvailable = true;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501)) {
        data.compareAvailable = false;
        data.compare = null;
      } else {
        throw e;
      }
    }
  }

  async function load() {
    show(errorEl, '');
    section.setAttribute('aria-busy', 'true');
    try {
      const [, models] = await Promise.all([loadCompare(), ctx.modelsReady.then(() => ctx.models)]);
      data.models = models;
      if (!chosenByUser) view = data.compare && data.compare.length ? 'compare' : 'models';
      if (view === 'compare' && !data.compareAvailable) view = 'models';
      render();
      section.dataset.state = 'ready';
    } catch (e) {
      show(errorEl, `Could not load the models: ${errorText(e)}`);
      section.dataset.state = 'error';
    } finally {
      section.setAttribute('aria-busy', 'false');
    }
  }

  thead.addEventListener('click', (e) => {
    const btn = e.target.closest('button.sort');
    if (!btn) return;
    const key = btn.dataset.key;
    const sort = sorts[view];
    if (sort.key === key) sort.dir = -sort.dir;
    else {
      sort.key = key;
      sort.dir = 1;
    }
    render();
    const again = thead.querySelector(`button.sort[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  });
  tbody.addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-forecast]');
    if (btn) ctx.emit('select-model', Number(btn.dataset.forecast));
  });
  for (const b of viewButtons) {
    b.addEventListener('click', () => {
      chosenByUser = true;
      view = b.dataset.view;
      render();
    });
  }
  suiteSelect.addEventListener('change', async () => {
    try {
      await loadCompare();
      render();
    } catch (e) {
      show(errorEl, `Could not load the comparison: ${errorText(e)}`);
    }
  });
  $('#models-refresh', section).addEventListener('click', async () => {
    show(errorEl, '');
    try {
      await Promise.all([ctx.refreshModels(), loadCompare()]);
      render();
    } catch (e) {
      show(errorEl, `Could not load the models: ${errorText(e)}`);
    }
  });
  ctx.on('models', (models) => {
    data.models = models;
    if (section.dataset.state !== 'loading') render();
  });
  load();
}
