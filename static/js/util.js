// util.js — months, numbers and small DOM helpers shared by the panels.

/** "YYYY-MM" → months since year 0 (y*12 + m-1), or NaN. */
export function periodToIndex(period) {
  const m = /^(\d{4})-(\d{2})$/.exec(period || '');
  if (!m) return NaN;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return NaN;
  return Number(m[1]) * 12 + month - 1;
}

export function indexToPeriod(index) {
  const y = Math.floor(index / 12);
  const m = index - y * 12 + 1;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`;
}

/** Month index → Unix seconds at 00:00 UTC on the month's first day (uPlot's time axis). */
export function indexToTime(index) {
  const y = Math.floor(index / 12);
  return Date.UTC(y, index - y * 12, 1) / 1000;
}

/** Unix seconds → the month index it falls in. */
export function timeToIndex(t) {
  const d = new Date(t * 1000);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

export function timeToPeriod(t) {
  return indexToPeriod(timeToIndex(t));
}

export function fmtNum(v, digits = 1) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (typeof v !== 'number') return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v.toLocaleString('en-US', { maximumFractionDigits: a < 1 ? 4 : digits, minimumFractionDigits: 0 });
}

export function fmtSeconds(s) {
  if (s === null || s === undefined || !Number.isFinite(s)) return 'unknown';
  if (s < 1) return 'under a second';
  if (s < 90) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 90) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** $('#id') within a root (document by default). */
export function $(sel, root = document) {
  return root.querySelector(sel);
}

/** Creates an element with properties and children (strings become text nodes). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Shows a message in an element (hidden when empty). */
export function show(el, text) {
  if (!el) return;
  el.textContent = text || '';
  el.hidden = !text;
}

/** A label for a model in a <select>. */
export function modelLabel(m) {
  const bits = [`#${m.id} ${m.name}`];
  const arch = m.architecture && m.architecture !== m.name ? m.architecture : '';
  const extra = [arch, m.cutoff ? `cutoff ${m.cutoff}` : '', m.default ? 'default' : ''].filter(Boolean);
  if (extra.length) bits.push(`(${extra.join(', ')})`);
  return bits.join(' ');
}

/**
 * Fills a <select> with the models, keeping the current choice when it still exists.
 * The first option is always "default" (whatever model the server uses by default).
 */
export function fillModelSelect(select, models) {
  const keep = select.value;
  select.replaceChildren(h('option', { value: 'default', text: 'default model' }));
  for (const m of models) select.append(h('option', { value: String(m.id), text: modelLabel(m) }));
  select.value = [...select.options].some((o) => o.value === keep) ? keep : 'default';
}

/** The horizon a model forecasts at most (its config's horizon, else 132). */
export function modelHorizon(models, choice) {
  const m = choice === 'default' ? models.find((x) => x.default) : models.find((x) => String(x.id) === String(choice));
  const hz = m && m.config && Number(m.config.horizon);
  return Number.isFinite(hz) && hz > 0 ? hz : 132;
}

/** Lower-level helper: the value for the API's "model" member from a <select> value. */
export function modelRef(value) {
  return value === 'default' || value === '' ? 'default' : Number(value);
}
