// panel-solar.js — panel 1: the sunspot record since 1749 (monthly mean and 13-month smoothed),
// the solar-cycle numbers, the forecast of the chosen model with its 80/95% bands — monthly
// (thin) and 13-month smoothed (thick), with the predicted next minimum and maximum marked with
// their ranges and the next cycle labelled — and an optional hindcast from a past cutoff drawn
// over what happened.
import { api, errorText } from './api.js';
import { createChart, monthSplits, monthValue, utcDate, zoomPanPlugin, bandBound, zoomX, panX, resetX, setXRange } from './chart.js';
import { CYCLES, cycleMarkersPlugin, extremesPlugin } from './cycles.js';
import {
  $, h, show, fmtNum, periodToIndex, indexToPeriod, indexToTime, fillModelSelect, modelHorizon, modelRef,
} from './util.js';

const MONTH = 30.44 * 86400;
const S = {
  monthly: 1, smoothed: 2, fc: 3, fcLo95: 4, fcHi95: 5, fcLo80: 6, fcHi80: 7, hc: 8, hcLo80: 9, hcHi80: 10,
  fcSmooth: 11, fcSmoothLo80: 12, fcSmoothHi80: 13,
};
const N_SERIES = 14;

/** Points of a dataset → { start (month index), values: [number|null] } (contiguous by the API's contract). */
function toSeries(points) {
  if (!points.length) return { start: 0, values: [] };
  const start = periodToIndex(points[0].period);
  const values = new Array(points.length).fill(null);
  for (const p of points) {
    const i = periodToIndex(p.period) - start;
    if (i >= 0 && i < values.length) values[i] = typeof p.value === 'number' ? p.value : null;
  }
  return { start, values };
}

/** A forecast response → { start, value, lo80, hi80, lo95, hi95, smooth: { start, value, lo80, hi80 }, cycle, raw }. */
function toForecast(resp) {
  const f = resp.forecast || [];
  const sm = resp.smoothed || [];
  const start = f.length ? periodToIndex(f[0].period) : 0;
  const col = (rows, k) => rows.map((p) => (typeof p[k] === 'number' ? p[k] : null));
  return {
    start,
    value: col(f, 'value'),
    lo80: col(f, 'lo-80'),
    hi80: col(f, 'hi-80'),
    lo95: col(f, 'lo-95'),
    hi95: col(f, 'hi-95'),
    smooth: {
      start: sm.length ? periodToIndex(sm[0].period) : start,
      value: col(sm, 'value'),
      lo80: col(sm, 'lo-80'),
      hi80: col(sm, 'hi-80'),
    },
    cycle: resp.cycle || null,
    raw: resp,
  };
}

function peak(values, start) {
  let best = -Infinity;
  let at = -1;
  values.forEach((v, i) => {
    if (v !== null && v > best) {
      best = v;
      at = i;
    }
  });
  return at < 0 ? null : { value: best, period: indexToPeriod(start + at), index: start + at };
}

export function mount(section, ctx) {
  const form = $('#solar-form', section);
  const modelSelect = $('#solar-model', section);
  const cutoffInput = $('#hindcast-cutoff', section);
  const hindcastBtn = $('#hindcast-run', section);
  const clearBtn = $('#hindcast-clear', section);
  const statusEl = $('#solar-status', section);
  const errorEl = $('#solar-error', section);
  const summaryEl = $('#solar-summary', section);
  const chartEl = $('#solar-chart', section);

  const marks = { show: true, lastObserved: null, drawn: 0, next: null };
  const extremes = { cycle: null, drawn: 0 };
  const state = { monthly: null, smoothed: null, monthlyId: 1, forecast: null, hindcast: null, hindcastCutoff: null };
  const stats = {
    monthlyPoints: 0, smoothedPoints: 0, totalPoints: 0, forecastPoints: 0, forecastBandPoints: 0,
    forecastSmoothedPoints: 0, hindcastPoints: 0, lastObserved: null, ready: false,
  };
  const hook = (window.fwpcast.panels.solar = { stats, marks, extremes, chart: null, cycles: CYCLES });

  // cutoff suggestions: the cycle minima
  const list = $('#cycle-minima');
  if (list && !list.children.length) {
    for (const c of CYCLES) list.append(h('option', { value: c.start, label: `start of cycle ${c.cycle}` }));
  }

  let u = null;

  function buildData() {
    const parts = [state.monthly, state.smoothed, state.forecast, state.hindcast].filter(Boolean);
    const start = Math.min(...parts.map((p) => p.start));
    const end = Math.max(...parts.map((p) => p.start + (p.values || p.value).length - 1));
    const n = end - start + 1;
    const x = new Array(n);
    for (let i = 0; i < n; i++) x[i] = indexToTime(start + i);
    const cols = Array.from({ length: N_SERIES }, (_, k) => (k === 0 ? x : new Array(n).fill(null)));
    const put = (col, series, values) => {
      if (!series) return;
      const off = series.start - start;
      values.forEach((v, i) => {
        cols[col][off + i] = v;
      });
    };
    put(S.monthly, state.monthly, state.monthly ? state.monthly.values : []);
    put(S.smoothed, state.smoothed, state.smoothed ? state.smoothed.values : []);
    const fc = state.forecast;
    if (fc) {
      // join the forecast to the last observation so the line does not start in mid-air
      const lastIdx = fc.start - 1 - start;
      const lastObs = state.monthly && lastIdx >= 0 ? cols[S.monthly][lastIdx] : null;
      put(S.fc, fc, fc.value);
      if (lastObs !== null && lastIdx >= 0) cols[S.fc][lastIdx] = lastObs;
      put(S.fcLo95, fc, fc.lo95);
      put(S.fcHi95, fc, fc.hi95);
      put(S.fcLo80, fc, fc.lo80);
      put(S.fcHi80, fc, fc.hi80);
      put(S.fcSmooth, fc.smooth, fc.smooth.value);
      put(S.fcSmoothLo80, fc.smooth, fc.smooth.lo80);
      put(S.fcSmoothHi80, fc.smooth, fc.smooth.hi80);
    }
    const hc = state.hindcast;
    if (hc) {
      put(S.hc, hc, hc.value);
      put(S.hcLo80, hc, hc.lo80);
      put(S.hcHi80, hc, hc.hi80);
    }
    return cols;
  }

  function updateStats(data) {
    const count = (a) => a.reduce((n, v) => n + (v !== null ? 1 : 0), 0);
    stats.totalPoints = data[0].length;
    stats.monthlyPoints = count(data[S.monthly]);
    stats.smoothedPoints = count(data[S.smoothed]);
    stats.forecastPoints = state.forecast ? state.forecast.value.filter((v) => v !== null).length : 0;
    stats.forecastBandPoints = state.forecast
      ? state.forecast.lo95.filter((v, i) => v !== null && state.forecast.hi95[i] !== null).length
      : 0;
    stats.forecastSmoothedPoints = state.forecast ? count(data[S.fcSmooth]) : 0;
    stats.hindcastPoints = state.hindcast ? state.hindcast.value.filter((v) => v !== null).length : 0;
    chartEl.dataset.points = String(stats.monthlyPoints + stats.smoothedPoints);
    chartEl.dataset.forecastPoints = String(stats.forecastPoints);
    chartEl.dataset.hindcastPoints = String(stats.hindcastPoints);
  }

  function makeChart(data) {
    const fcColor = '#c62828';
    const hcColor = '#d97706';
    const opts = {
      tzDate: utcDate,
      cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 6 } },
      scales: {
        x: { time: true },
        y: { range: (self, min, max) => [0, Math.max(20, Math.ceil((max * 1.08) / 10) * 10)] },
      },
      axes: [
        { stroke: '#333', splits: monthSplits, grid: { stroke: 'rgba(0,0,0,0.06)' }, ticks: { stroke: 'rgba(0,0,0,0.2)' } },
        { label: 'Sunspot number', stroke: '#333', grid: { stroke: 'rgba(0,0,0,0.07)' }, ticks: { stroke: 'rgba(0,0,0,0.2)' }, size: 52 },
      ],
      series: [
        { label: 'Month', value: monthValue },
        { label: 'Monthly mean', stroke: '#9aa3b5', width: 1, points: { show: false }, value: (s, v) => fmtNum(v) },
        { label: '13-month smoothed', stroke: '#5b2a86', width: 2.75, points: { show: false }, value: (s, v) => fmtNum(v) },
        { label: 'Forecast (monthly)', stroke: fcColor, width: 1.25, points: { show: false }, value: (s, v) => fmtNum(v) },
        bandBound('Monthly 95% band, low', 'rgba(198,40,40,0.35)'),
        bandBound('Monthly 95% band, high', 'rgba(198,40,40,0.35)'),
        bandBound('Monthly 80% band, low', 'rgba(198,40,40,0.5)'),
        bandBound('Monthly 80% band, high', 'rgba(198,40,40,0.5)'),
        { label: 'Hindcast', stroke: hcColor, width: 2, dash: [8, 4], points: { show: false }, value: (s, v) => fmtNum(v) },
        bandBound('hindcast 80% low', 'rgba(217,119,6,0.45)'),
        bandBound('hindcast 80% high', 'rgba(217,119,6,0.45)'),
        { label: 'Forecast (13-month smoothed)', stroke: '#8e0000', width: 3.25, points: { show: false }, value: (s, v) => fmtNum(v) },
        bandBound('Smoothed 80% band, low', 'rgba(142,0,0,0.6)'),
        bandBound('Smoothed 80% band, high', 'rgba(142,0,0,0.6)'),
      ],
      bands: [
        { series: [S.fcHi95, S.fcLo95], fill: 'rgba(198,40,40,0.13)' },
        { series: [S.fcHi80, S.fcLo80], fill: 'rgba(198,40,40,0.20)' },
        { series: [S.hcHi80, S.hcLo80], fill: 'rgba(217,119,6,0.18)' },
      ],
      legend: { live: true },
      plugins: [cycleMarkersPlugin(marks), extremesPlugin(extremes), zoomPanPlugin({ minSpan: 24 * MONTH })],
      hooks: {
        setSeries: [
          (self, i) => {
            if (i === S.monthly) $('#show-monthly', section).checked = self.series[i].show;
            if (i === S.smoothed) $('#show-smoothed', section).checked = self.series[i].show;
          },
        ],
        draw: [
          () => {
            stats.cyclesDrawn = marks.drawn;
          },
        ],
      },
    };
    return createChart(chartEl, opts, data, { ratio: 0.42, min: 300, max: 480 });
  }

  function redraw({ keepZoom = true } = {}) {
    const data = buildData();
    updateStats(data);
    if (!u) {
      u = makeChart(data);
      hook.chart = u;
      return;
    }
    const keep = keepZoom ? { min: u.scales.x.min, max: u.scales.x.max } : null;
    u.setData(data, true);
    if (keep && keep.min !== null) setXRange(u, keep.min, keep.max);
  }

  function renderSummary() {
    const rows = [];
    const add = (term, desc) => rows.push(h('div', {}, h('dt', { text: term }), h('dd', { text: desc })));
    if (state.monthly) {
      const n = state.monthly.values.length;
      const last = state.monthly.values[n - 1];
      add('Last observed month', `${indexToPeriod(state.monthly.start + n - 1)}: ${fmtNum(last)}`);
    }
    if (state.smoothed) {
      const v = state.smoothed.values;
      let i = v.length - 1;
      while (i >= 0 && v[i] === null) i--;
      if (i >= 0) add('Last smoothed value', `${indexToPeriod(state.smoothed.start + i)}: ${fmtNum(v[i])} (smoothing lags 6 months)`);
    }
    const fc = state.forecast;
    if (fc && fc.cycle) {
      const describe = (e) =>
        `${fmtNum(e.value)} in ${e.period} (smoothed; 80%: ${fmtNum(e['lo-80'])}–${fmtNum(e['hi-80'])}, ` +
        `months ${e.earliest === e.latest ? e.earliest : `${e.earliest}–${e.latest}`})`;
      const n = fc.cycle.number;
      if (fc.cycle.next_minimum) add(`Next minimum${n ? ` (start of cycle ${n})` : ''}`, describe(fc.cycle.next_minimum));
      if (fc.cycle.next_maximum) add(`Next maximum${n ? ` (cycle ${n})` : ''}`, describe(fc.cycle.next_maximum));
    }
    if (fc && fc.raw.in_sample) add('In sample', fc.raw.warning || 'the model saw these months in training');
    if (fc) {
      const p = peak(fc.value, fc.start);
      const r = fc.raw;
      if (p) {
        const k = p.index - fc.start;
        add(
          'Forecast peak',
          `${fmtNum(p.value)} in ${p.period} (80%: ${fmtNum(fc.lo80[k])}–${fmtNum(fc.hi80[k])}), model #${r.model} ${r.architecture}, ` +
            `${fc.value.length} months from ${indexToPeriod(fc.start)}${r.intervals_guaranteed === false ? '; bands without coverage guarantee' : ''}`,
        );
      }
    }
    const hc = state.hindcast;
    if (hc && state.monthly) {
      let sum = 0;
      let n = 0;
      hc.value.forEach((v, i) => {
        const j = hc.start + i - state.monthly.start;
        const a = state.monthly.values[j];
        if (v !== null && a !== null && a !== undefined) {
          sum += Math.abs(v - a);
          n++;
        }
      });
      const p = peak(hc.value, hc.start);
      const smooth = state.smoothed;
      let obs = null;
      if (smooth) {
        const off = hc.start - smooth.start;
        obs = peak(smooth.values.slice(off, off + hc.value.length), hc.start);
      }
      const used = ctx.models.find((m) => m.id === hc.raw.model);
      const seen = used && (!used.cutoff || used.cutoff > state.hindcastCutoff);
      const caveat = seen
        ? ` (in-sample: model #${used.id} was trained on data up to ${used.cutoff || 'the end of the series'}; train one with cutoff ${state.hindcastCutoff} for a fair test)`
        : '';
      add(
        `Hindcast from ${state.hindcastCutoff}`,
        `mean absolute error ${n ? fmtNum(sum / n) : '—'} over ${n} observed months; peak ${p ? `${fmtNum(p.value)} in ${p.period}` : '—'}` +
          (obs ? ` vs observed smoothed ${fmtNum(obs.value)} in ${obs.period}` : '') +
          caveat,
      );
    }
    summaryEl.replaceChildren(...rows);
    summaryEl.hidden = rows.length === 0;
  }

  function setBusy(busy) {
    section.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  async function loadData() {
    const { data } = await api.get('/datasets');
    const sets = data.datasets || [];
    const byName = (n) => sets.find((d) => d.name === n);
    const monthlyMeta = byName('silso-monthly') || sets.find((d) => d.id === 1);
    const smoothedMeta = byName('silso-smoothed') || sets.find((d) => d.id === 2);
    if (!monthlyMeta) throw new Error('the server has no silso-monthly dataset (import data/SN_m_tot_V2.0.csv)');
    state.monthlyId = monthlyMeta.id;
    const [m, s] = await Promise.all([
      api.get(`/datasets/${monthlyMeta.id}`),
      smoothedMeta ? api.get(`/datasets/${smoothedMeta.id}`) : Promise.resolve(null),
    ]);
    state.monthly = toSeries(m.data.points || []);
    state.smoothed = s ? toSeries(s.data.points || []) : null;
    const lastIdx = state.monthly.start + state.monthly.values.length - 1;
    marks.lastObserved = indexToTime(lastIdx);
    stats.lastObserved = indexToPeriod(lastIdx);
  }

  function forecastRequest(extra) {
    const choice = modelSelect.value;
    const h = Math.min(132, modelHorizon(ctx.models, choice));
    return { model: modelRef(choice), dataset: state.monthlyId, h, level: [80, 95], ...extra };
  }

  /** first: the page's first forecast, shown whole (the view widens to the forecast's months). */
  async function runForecast({ first = false } = {}) {
    show(errorEl, '');
    setBusy(true);
    statusEl.textContent = 'Forecasting…';
    try {
      const { data } = await api.post('/forecast', forecastRequest({}));
      state.forecast = toForecast(data);
      extremes.cycle = state.forecast.cycle;
      marks.next = state.forecast.cycle;
      redraw({ keepZoom: !first });
      renderSummary();
      statusEl.textContent = `Forecast of ${data.forecast.length} months from ${data.forecast[0].period} by model #${data.model} (${data.architecture}).`;
    } catch (e) {
      state.forecast = null;
      extremes.cycle = null;
      marks.next = null;
      redraw();
      renderSummary();
      statusEl.textContent = '';
      show(errorEl, `Forecast failed: ${errorText(e)}`);
    } finally {
      setBusy(false);
      stats.ready = true;
      section.dataset.state = 'ready';
    }
  }

  async function runHindcast() {
    const cutoff = cutoffInput.value.trim();
    show(errorEl, '');
    if (!cutoff) {
      show(errorEl, 'Hindcast: enter a cutoff month, for example 2008-12 (the start of cycle 24).');
      cutoffInput.focus();
      return;
    }
    setBusy(true);
    hindcastBtn.disabled = true;
    statusEl.textContent = `Hindcast from ${cutoff}…`;
    try {
      const { data } = await api.post('/forecast', forecastRequest({ cutoff }));
      state.hindcast = toForecast(data);
      state.hindcastCutoff = data.last_observed || cutoff;
      clearBtn.disabled = false;
      redraw({ keepZoom: false });
      const c = periodToIndex(state.hindcastCutoff);
      setXRange(u, indexToTime(c - 72), indexToTime(c + data.forecast.length + 36));
      renderSummary();
      statusEl.textContent = `Hindcast of ${data.forecast.length} months from data up to ${state.hindcastCutoff}, drawn over what happened.`;
    } catch (e) {
      statusEl.textContent = '';
      show(errorEl, `Hindcast failed: ${errorText(e)}`);
    } finally {
      hindcastBtn.disabled = false;
      setBusy(false);
    }
  }

  /** Cycles 23 to 25 and whatever follows (the forecast). */
  function showRecent() {
    setXRange(u, CYCLES[22].t - 24 * MONTH, u.data[0][u.data[0].length - 1]);
  }

  function clearHindcast() {
    show(errorEl, '');
    state.hindcast = null;
    state.hindcastCutoff = null;
    clearBtn.disabled = true;
    redraw();
    renderSummary();
    statusEl.textContent = 'Hindcast cleared.';
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    runForecast();
  });
  modelSelect.addEventListener('change', () => runForecast());
  hindcastBtn.addEventListener('click', runHindcast);
  cutoffInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      runHindcast();
    }
  });
  clearBtn.addEventListener('click', clearHindcast);

  section.querySelector('.chart-toolbar').addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-zoom]');
    if (!btn || !u) return;
    const action = btn.dataset.zoom;
    if (action === 'in') zoomX(u, 0.5, undefined, 24 * MONTH);
    else if (action === 'out') zoomX(u, 2);
    else if (action === 'left') panX(u, -0.25);
    else if (action === 'right') panX(u, 0.25);
    else if (action === 'reset') resetX(u);
    else if (action === 'recent') showRecent();
  });
  $('#show-monthly', section).addEventListener('change', (e) => u && u.setSeries(S.monthly, { show: e.target.checked }));
  $('#show-smoothed', section).addEventListener('change', (e) => u && u.setSeries(S.smoothed, { show: e.target.checked }));
  $('#show-cycles', section).addEventListener('change', (e) => {
    marks.show = e.target.checked;
    if (u) u.redraw(false);
  });

  ctx.on('models', (models) => fillModelSelect(modelSelect, models));
  ctx.on('select-model', (id) => {
    modelSelect.value = String(id);
    if (modelSelect.value !== String(id)) modelSelect.value = 'default';
    section.scrollIntoView({ behavior: 'smooth', block: 'start' });
    runForecast();
  });

  (async () => {
    try {
      await loadData();
      redraw({ keepZoom: false });
      // on a phone 277 years are a blur: start at the last cycles and the forecast there
      if (chartEl.clientWidth < 560) showRecent();
      renderSummary();
      statusEl.textContent = `${stats.monthlyPoints} monthly and ${stats.smoothedPoints} smoothed values, ${indexToPeriod(state.monthly.start)} to ${stats.lastObserved}.`;
      await ctx.modelsReady;
      await runForecast({ first: true });
      if (chartEl.clientWidth < 560) showRecent(); // now with the forecast
    } catch (e) {
      statusEl.textContent = '';
      show(errorEl, `Could not load the sunspot series: ${errorText(e)}`);
      section.dataset.state = 'error';
      stats.ready = true;
    }
  })();
}
