// panel-quantum.js — panel 4: one forecast through the `exact` backend and through the
// shot-based `sampler` backend (shots, a device's noise preset), drawn together. A server
// without the sampler answers 422; its message is shown and the exact forecast still drawn.
// Should the sampler answer 202 + a job, the job is followed until it has a result.
import { api, errorText } from './api.js';
import { createChart, monthSplits, monthValue, utcDate, bandBound } from './chart.js';
import { $, show, fmtNum, periodToIndex, indexToPeriod, indexToTime, fillModelSelect, modelHorizon, modelRef } from './util.js';

const CONTEXT_MONTHS = 120;

async function sampled(body) {
  const res = await api.post('/forecast', body);
  if (res.status !== 202 || !res.data || res.data.job === undefined) return res.data;
  // a queued quantum job: follow it
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    const { data: job } = await api.get(`/jobs/${res.data.job}`);
    if (job.state === 'succeeded') return job.result || job;
    if (job.state === 'failed' || job.state === 'cancelled') throw new Error(`sampler job ${job.id} ${job.state}${job.error ? `: ${job.error}` : ''}`);
  }
}

export function mount(section, ctx) {
  const form = $('#quantum-form', section);
  const runBtn = $('#quantum-run', section);
  const modelSelect = $('#quantum-model', section);
  const chartEl = $('#quantum-chart', section);
  const statusEl = $('#quantum-status', section);
  const errorEl = $('#quantum-error', section);
  const hook = (window.fwpcast.panels.quantum = { exactPoints: 0, samplerPoints: 0, samplerError: null, chart: null, runs: 0 });
  let chart = null;

  function plot(observed, exact, sampler) {
    const first = (f) => periodToIndex(f.forecast[0].period);
    const fcStart = first(exact);
    const start = observed ? observed.start : fcStart;
    const ends = [fcStart + exact.forecast.length - 1];
    if (sampler) ends.push(first(sampler) + sampler.forecast.length - 1);
    const end = Math.max(...ends);
    const n = end - start + 1;
    const col = () => new Array(n).fill(null);
    const x = Array.from({ length: n }, (_, i) => indexToTime(start + i));
    const obs = col();
    if (observed) observed.values.forEach((v, i) => (obs[i] = v));
    const put = (resp, key) => {
      const c = col();
      if (!resp) return c;
      const off = first(resp) - start;
      resp.forecast.forEach((p, i) => {
        c[off + i] = typeof p[key] === 'number' ? p[key] : null;
      });
      return c;
    };
    const data = [x, obs, put(exact, 'value'), put(exact, 'lo-80'), put(exact, 'hi-80'), put(sampler, 'value'), put(sampler, 'lo-80'), put(sampler, 'hi-80')];
    if (!chart) {
      chart = createChart(
        chartEl,
        {
          tzDate: utcDate,
          scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(20, Math.ceil((max * 1.08) / 10) * 10)] } },
          axes: [{ stroke: '#333', splits: monthSplits, grid: { stroke: 'rgba(0,0,0,0.06)' } }, { label: 'Sunspot number', stroke: '#333', size: 52, grid: { stroke: 'rgba(0,0,0,0.06)' } }],
          series: [
            { label: 'Month', value: monthValue },
            { label: 'Observed (monthly)', stroke: '#9aa3b5', width: 1, points: { show: false }, value: (u, v) => fmtNum(v) },
            { label: 'exact', stroke: '#1f6feb', width: 2.25, points: { show: false }, value: (u, v) => fmtNum(v) },
            bandBound('exact 80% low', 'rgba(31,111,235,0.4)'),
            bandBound('exact 80% high', 'rgba(31,111,235,0.4)'),
            { label: 'sampler', stroke: '#8e24aa', width: 2, dash: [6, 3], points: { show: false }, value: (u, v) => fmtNum(v) },
            bandBound('sampler 80% low', 'rgba(142,36,170,0.4)'),
            bandBound('sampler 80% high', 'rgba(142,36,170,0.4)'),
          ],
          bands: [
            { series: [4, 3], fill: 'rgba(31,111,235,0.14)' },
            { series: [7, 6], fill: 'rgba(142,36,170,0.14)' },
          ],
          cursor: { drag: { x: true, y: false } },
        },
        data,
        { ratio: 0.5, min: 200, max: 320 },
      );
      hook.chart = chart;
    } else {
      chart.setData(data, true);
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    show(errorEl, '');
    const shotsText = $('#quantum-shots', section).value.trim();
    const shots = /^\d+$/.test(shotsText) ? Number(shotsText) : shotsText; // the server says what is wrong
    const noise = $('#quantum-noise', section).value;
    const hIn = Number($('#quantum-h', section).value);
    const choice = modelSelect.value;
    const h = Math.min(Number.isInteger(hIn) && hIn > 0 ? hIn : 132, modelHorizon(ctx.models, choice));
    const base = { model: modelRef(choice), h, level: [80, 95] };
    runBtn.disabled = true;
    section.setAttribute('aria-busy', 'true');
    statusEl.textContent = `Running exact and sampler (${shots} shots, ${noise})…`;
    try {
      const [exactR, samplerR] = await Promise.allSettled([
        api.post('/forecast', { ...base, backend: 'exact' }).then((r) => r.data),
        sampled({ ...base, backend: 'sampler', shots, noise }),
      ]);
      if (exactR.status === 'rejected') throw exactR.reason;
      const exact = exactR.value;
      const sampler = samplerR.status === 'fulfilled' && samplerR.value && samplerR.value.forecast ? samplerR.value : null;
      let observed = null;
      if (exact.dataset) {
        const last = periodToIndex(exact.last_observed);
        try {
          const { data } = await api.get(`/datasets/${exact.dataset}?from=${indexToPeriod(last - CONTEXT_MONTHS + 1)}&to=${exact.last_observed}`);
          const pts = data.points || [];
          if (pts.length) observed = { start: periodToIndex(pts[0].period), values: pts.map((p) => (typeof p.value === 'number' ? p.value : null)) };
        } catch {
          observed = null; // the context is a nicety
        }
      }
      plot(observed, exact, sampler);
      hook.runs++;
      hook.exactPoints = exact.forecast.length;
      hook.samplerPoints = sampler ? sampler.forecast.length : 0;
      chartEl.dataset.exactPoints = String(hook.exactPoints);
      chartEl.dataset.samplerPoints = String(hook.samplerPoints);
      if (sampler) {
        const diffs = exact.forecast.map((p, i) => (sampler.forecast[i] ? Math.abs(sampler.forecast[i].value - p.value) : 0));
        const mean = diffs.reduce((a, b) => a + b, 0) / Math.max(1, diffs.length);
        const cost = sampler.circuits && sampler.shots_total ? `; ${fmtNum(sampler.circuits, 0)} circuits, ${fmtNum(sampler.shots_total, 0)} shots in all` : '';
        statusEl.textContent =
          `exact and sampler (${sampler.shots || shots} shots per circuit, noise ${sampler.noise || noise}), ${h} months from ${exact.forecast[0].period}: ` +
          `mean |sampler − exact| ${fmtNum(mean)}, largest ${fmtNum(Math.max(...diffs))}${cost}.`;
        hook.samplerError = null;
      } else {
        const why = samplerR.status === 'rejected' ? errorText(samplerR.reason) : 'the answer had no forecast';
        hook.samplerError = why;
        statusEl.textContent = `exact: ${h} months from ${exact.forecast[0].period}. The sampler gave no forecast.`;
        show(errorEl, `Sampler backend: ${why}`);
      }
      section.dataset.state = 'ready';
    } catch (err) {
      statusEl.textContent = '';
      show(errorEl, `Forecast failed: ${errorText(err)}`);
      section.dataset.state = 'error';
    } finally {
      runBtn.disabled = false;
      section.setAttribute('aria-busy', 'false');
    }
  });

  ctx.on('models', (models) => fillModelSelect(modelSelect, models));
}
