// panel-training.js — panel 3: start a training job (POST /models), follow it by polling
// GET /jobs/{id} every second (state, progress, ETA, loss curve), cancel it (DELETE /jobs/{id}).
// The job being followed is kept in sessionStorage, so a reload picks it up again.
import { api, errorText } from './api.js';
import { createChart } from './chart.js';
import { $, h, show, fmtNum, fmtSeconds } from './util.js';

const JOB_KEY = 'fwpcast.trainingJob';
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const POLL_MS = 1000;

function oneTwoFive(v) {
  if (!(v > 0)) return false;
  const m = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  return [1, 2, 5].some((x) => Math.abs(m - x) < 1e-6);
}

export function mount(section, ctx) {
  const form = $('#train-form', section);
  const startBtn = $('#train-start', section);
  const cancelBtn = $('#train-cancel', section);
  const jobBox = $('#train-job', section);
  const titleEl = $('#train-job-title', section);
  const stateEl = $('#train-state', section);
  const progress = $('#train-progress', section);
  const progressText = $('#train-progress-text', section);
  const chartEl = $('#train-chart', section);
  const errorEl = $('#train-error', section);
  const archList = $('#train-arch-list', section);
  const datasetSelect = $('#train-dataset', section);

  const hook = (window.fwpcast.panels.training = { job: null, state: null, epoch: 0, lossPoints: 0, chart: null, polls: 0 });
  let chart = null;
  let jobId = null;
  let timer = null;

  function readForm() {
    const v = (id) => $(id, section).value.trim();
    const int = (id, name) => {
      const s = v(id);
      if (s === '') return undefined;
      const n = Number(s);
      if (!Number.isInteger(n)) throw new Error(`${name} must be a whole number`);
      return n;
    };
    const body = { dataset: Number(datasetSelect.value) || 1 };
    const arch = v('#train-arch');
    if (arch) body.architecture = arch;
    const epochs = int('#train-epochs', 'Epochs');
    if (epochs !== undefined) body.epochs = epochs;
    const seed = int('#train-seed', 'Seed');
    if (seed !== undefined) body.seed = seed;
    const cutoff = v('#train-cutoff');
    if (cutoff) body.cutoff = cutoff;
    const window_ = int('#train-window', 'Window');
    if (window_ !== undefined) body.window = window_;
    const horizon = int('#train-horizon', 'Horizon');
    if (horizon !== undefined) body.horizon = horizon;
    const name = v('#train-name');
    if (name) body.name = name;
    const config = v('#train-config');
    if (config) {
      let parsed;
      try {
        parsed = JSON.parse(config);
      } catch (e) {
        throw new Error(`Config is not valid JSON: ${e.message}`);
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('Config must be a JSON object, e.g. {"hidden": 8}');
      body.config = parsed;
    }
    if ($('#train-default', section).checked) body.default = true;
    return body;
  }

  function ensureChart() {
    if (chart) return chart;
    chart = createChart(
      chartEl,
      {
        scales: { x: { time: false }, y: { distr: 3 } },
        axes: [
          { label: 'Epoch', stroke: '#333', grid: { stroke: 'rgba(0,0,0,0.06)' } },
          {
            label: 'Loss (log)',
            stroke: '#333',
            size: 60,
            grid: { stroke: 'rgba(0,0,0,0.06)' },
            // 1-2-5 steps per decade only: uPlot's log axis would mark every integer multiple
            filter: (u, splits) => splits.map((v) => (oneTwoFive(v) ? v : null)),
            values: (u, vals) => vals.map((v) => (v === null ? '' : fmtNum(v, 3))),
          },
        ],
        series: [
          { label: 'Epoch' },
          { label: 'Training loss', stroke: '#1f6feb', width: 2, value: (u, v) => fmtNum(v, 5) },
          { label: 'Validation loss', stroke: '#e36209', width: 2, value: (u, v) => fmtNum(v, 5) },
        ],
        cursor: { drag: { x: true, y: false } },
      },
      [[], [], []],
      { ratio: 0.5, min: 180, max: 300 },
    );
    hook.chart = chart;
    return chart;
  }

  function render(job) {
    jobBox.hidden = false;
    titleEl.textContent = `Job ${job.id}${job.request && job.request.name ? ` (${job.request.name})` : ''}`;
    stateEl.textContent = job.state;
    stateEl.dataset.state = job.state;
    const p = typeof job.progress === 'number' ? job.progress : 0;
    progress.value = p;
    const bits = [`epoch ${job.epoch} of ${job.epochs}`, `${(p * 100).toFixed(1)}%`];
    if (!FINAL.has(job.state)) bits.push(`about ${fmtSeconds(job.eta_seconds)} left`);
    const curve = job.loss_curve || [];
    if (curve.length) {
      const last = curve[curve.length - 1];
      bits.push(`training loss ${fmtNum(last.train_loss, 5)}, validation loss ${fmtNum(last.val_loss, 5)}`);
    }
    if (job.state === 'succeeded' && job.model) bits.push(`model #${job.model} stored`);
    if (job.state === 'failed' && job.error) bits.push(`failed: ${job.error}`);
    if (job.state === 'cancelled') bits.push('cancelled');
    if (job.state === 'interrupted') bits.push('interrupted by a server restart (resume it with POST /jobs/{id}/resume)');
    progressText.textContent = `${bits.join(' · ')}.`;
    const u = ensureChart();
    const pos = (v) => (typeof v === 'number' && v > 0 ? v : null);
    u.setData([curve.map((c) => c.epoch), curve.map((c) => pos(c.train_loss)), curve.map((c) => pos(c.val_loss))]);
    const active = !FINAL.has(job.state);
    cancelBtn.disabled = !active;
    startBtn.disabled = active;
    section.dataset.state = job.state;
    Object.assign(hook, { job: job.id, state: job.state, epoch: job.epoch, lossPoints: curve.length });
  }

  function stopPolling() {
    if (timer) clearTimeout(timer);
    timer = null;
  }

  async function poll() {
    timer = null;
    if (jobId === null) return;
    const id = jobId;
    try {
      const { data } = await api.get(`/jobs/${id}`);
      if (id !== jobId) return;
      hook.polls++;
      render(data);
      if (FINAL.has(data.state)) {
        jobId = null;
        sessionStorage.removeItem(JOB_KEY);
        if (data.state === 'succeeded') ctx.refreshModels().catch(() => {});
        return;
      }
    } catch (e) {
      show(errorEl, `Could not read job ${id}: ${errorText(e)}`);
      if (e.status === 404) {
        jobId = null;
        sessionStorage.removeItem(JOB_KEY);
        startBtn.disabled = false;
        cancelBtn.disabled = true;
        return;
      }
    }
    timer = setTimeout(poll, POLL_MS);
  }

  function follow(id) {
    stopPolling();
    jobId = id;
    try {
      sessionStorage.setItem(JOB_KEY, String(id));
    } catch {
      /* not kept across reloads then */
    }
    poll();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    show(errorEl, '');
    let body;
    try {
      body = readForm();
    } catch (err) {
      show(errorEl, err.message);
      return;
    }
    startBtn.disabled = true;
    try {
      const { data } = await api.post('/models', body);
      progressText.textContent = `Job ${data.job} queued: ${fmtNum(data.parameters, 0)} parameters, ${data.epochs} epochs.`;
      if (chart) chart.setData([[], [], []]);
      follow(data.job);
    } catch (err) {
      startBtn.disabled = false;
      show(errorEl, `Could not start training: ${errorText(err)}`);
    }
  });

  cancelBtn.addEventListener('click', async () => {
    if (jobId === null) return;
    const id = jobId;
    cancelBtn.disabled = true;
    show(errorEl, '');
    try {
      const { data } = await api.del(`/jobs/${id}`);
      render(data);
      stopPolling();
      jobId = null;
      sessionStorage.removeItem(JOB_KEY);
    } catch (err) {
      cancelBtn.disabled = false;
      show(errorEl, `Could not cancel job ${id}: ${errorText(err)}`);
    }
  });

  // architectures known from the stored models, as suggestions
  ctx.on('models', (models) => {
    const known = new Set([...archList.options].map((o) => o.value));
    for (const m of models) {
      if (m.architecture && !known.has(m.architecture)) {
        known.add(m.architecture);
        archList.append(h('option', { value: m.architecture }));
      }
    }
  });

  // monthly datasets to train on
  api
    .get('/datasets')
    .then(({ data }) => {
      const monthly = (data.datasets || []).filter((d) => d.frequency === 'month');
      if (!monthly.length) return;
      const keep = datasetSelect.value;
      datasetSelect.replaceChildren(...monthly.map((d) => h('option', { value: String(d.id), text: `#${d.id} ${d.name}`, title: `${d.name}: ${d.first_period} to ${d.last_period}, ${d.rows} months` })));
      const preferred = monthly.find((d) => d.name === 'silso-monthly');
      datasetSelect.value = monthly.some((d) => String(d.id) === keep) ? keep : String((preferred || monthly[0]).id);
    })
    .catch((e) => show(errorEl, `Could not list the datasets: ${errorText(e)}`));

  let saved = null;
  try {
    saved = sessionStorage.getItem(JOB_KEY);
  } catch {
    saved = null;
  }
  if (saved && /^\d+$/.test(saved)) follow(Number(saved));
}
