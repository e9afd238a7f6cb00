// chart.js — uPlot (vendored from npm, static/vendor/uplot/) with what every panel's chart needs:
// a size that follows its container, dates in UTC, and zoom/pan helpers (buttons, Ctrl+wheel,
// Shift+drag) that stay inside the data's range.
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { timeToPeriod, timeToIndex, indexToTime } from './util.js';

export { uPlot };

export const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');

/** The x value shown in the legend: the month, "YYYY-MM". */
export const monthValue = (u, v) => (v === null || v === undefined ? '' : timeToPeriod(v));

const MONTH_SECONDS = (365.2425 * 86400) / 12;
const NICE_YEARS = [1, 2, 5, 10, 20, 25, 50, 100, 200];

/**
 * x-axis ticks on whole months (and whole, round years when uPlot's spacing is a year or more),
 * so the axis reads 1750, 1775, … rather than starting at the data's first month.
 */
export function monthSplits(u, axisIdx, min, max, incr) {
  let months = Math.max(1, Math.round(incr / MONTH_SECONDS));
  if (months >= 12) months = 12 * (NICE_YEARS.find((y) => y >= months / 12) || 200);
  else months = [1, 2, 3, 6].find((m) => m >= months) || 6;
  let i = timeToIndex(min);
  if (indexToTime(i) < min) i++;
  i = Math.ceil(i / months) * months;
  const out = [];
  for (let t = indexToTime(i); t <= max && out.length < 500; i += months, t = indexToTime(i)) out.push(t);
  return out;
}

function chartHeight(width, { ratio = 0.45, min = 240, max = 460 } = {}) {
  return Math.round(Math.max(min, Math.min(max, width * ratio)));
}

/**
 * Creates a uPlot chart in `container`, sized to it and resized with it.
 * `sizing` = { ratio, min, max } for the plotting area's height.
 */
export function createChart(container, opts, data, sizing = {}) {
  const width = Math.max(200, container.clientWidth || 600);
  const u = new uPlot({ ...opts, width, height: chartHeight(width, sizing) }, data, container);
  let last = width;
  const ro = new ResizeObserver(() => {
    const w = Math.max(200, container.clientWidth);
    if (Math.abs(w - last) < 2) return;
    last = w;
    u.setSize({ width: w, height: chartHeight(w, sizing) });
  });
  ro.observe(container);
  u.fwpDispose = () => {
    ro.disconnect();
    u.destroy();
  };
  return u;
}

/** The x extent of the chart's data: [first, last]. */
export function dataExtent(u) {
  const xs = u.data[0];
  return xs && xs.length ? [xs[0], xs[xs.length - 1]] : [0, 1];
}

/** Sets the x range, kept inside the data's extent and never narrower than `minSpan`. */
export function setXRange(u, min, max, minSpan = 0) {
  const [lo, hi] = dataExtent(u);
  let span = Math.max(max - min, minSpan);
  span = Math.min(span, hi - lo);
  let a = min;
  if (a < lo) a = lo;
  if (a + span > hi) a = hi - span;
  u.setScale('x', { min: a, max: a + span });
}

/** Zooms x by `factor` (< 1 zooms in) around `center` (default: the middle of the view). */
export function zoomX(u, factor, center, minSpan) {
  const { min, max } = u.scales.x;
  const c = center === undefined ? (min + max) / 2 : center;
  setXRange(u, c - (c - min) * factor, c + (max - c) * factor, minSpan);
}

/** Pans x by `fraction` of the visible span (negative: to the left). */
export function panX(u, fraction) {
  const { min, max } = u.scales.x;
  const d = (max - min) * fraction;
  setXRange(u, min + d, max + d);
}

export function resetX(u) {
  const [lo, hi] = dataExtent(u);
  u.setScale('x', { min: lo, max: hi });
}

/**
 * Ctrl/⌘ + wheel (and a touchpad pinch, which browsers report as Ctrl + wheel) zooms around the
 * pointer; Shift + drag pans. A plain wheel still scrolls the page.
 */
export function zoomPanPlugin({ minSpan = 0 } = {}) {
  return {
    hooks: {
      init: (u) => {
        const over = u.over;
        over.addEventListener(
          'wheel',
          (e) => {
            if (!(e.ctrlKey || e.metaKey)) return;
            e.preventDefault();
            const rect = over.getBoundingClientRect();
            const x = u.posToVal(e.clientX - rect.left, 'x');
            zoomX(u, e.deltaY < 0 ? 0.8 : 1.25, x, minSpan);
          },
          { passive: false },
        );
        u.root.addEventListener(
          'mousedown',
          (e) => {
            if (!e.shiftKey || e.button !== 0 || !over.contains(e.target)) return;
            e.stopPropagation(); // keep uPlot's drag-to-zoom out of it
            e.preventDefault();
            const x0 = e.clientX;
            const { min, max } = u.scales.x;
            const w = over.getBoundingClientRect().width || 1;
            const move = (ev) => {
              const dx = ((ev.clientX - x0) / w) * (max - min);
              setXRange(u, min - dx, max - dx);
            };
            const up = () => {
              document.removeEventListener('mousemove', move);
              document.removeEventListener('mouseup', up);
            };
            document.addEventListener('mousemove', move);
            document.addEventListener('mouseup', up);
          },
          true,
        );
      },
    },
  };
}

/** Series options for the two bounds of a band: a faint edge, no legend row, no cursor point. */
export function bandBound(label, stroke) {
  return { label, stroke, width: 0.5, class: 'band-bound', points: { show: false }, spanGaps: false };
}

/** Reads the RGBA of the canvas pixel at data (x, y); for tests and for checking a band is painted. */
export function pixelAt(u, x, y) {
  const px = Math.round(u.valToPos(x, 'x', true));
  const py = Math.round(u.valToPos(y, 'y', true));
  const d = u.ctx.getImageData(px, py, 1, 1).data;
  return [d[0], d[1], d[2], d[3]];
}
