// cycles.js — the solar-cycle numbering, and a uPlot plugin that marks it on a time axis.
//
// Start months (minima of the 13-month smoothed total sunspot number) of cycles 1..25, as listed
// by WDC-SILSO / SIDC (Royal Observatory of Belgium). The e2e test checks that each is the
// smallest smoothed value within ±30 months in the bundled data.
import { periodToIndex, indexToTime } from './util.js';

export const CYCLE_STARTS = [
  '1755-02', '1766-06', '1775-06', '1784-09', '1798-04', '1810-08', '1823-05', '1833-11', '1843-07',
  '1855-12', '1867-03', '1878-12', '1890-03', '1902-01', '1913-07', '1923-08', '1933-09', '1944-02',
  '1954-04', '1964-10', '1976-03', '1986-09', '1996-08', '2008-12', '2019-12',
];

/** [{ cycle, start: 'YYYY-MM', t: seconds }] */
export const CYCLES = CYCLE_STARTS.map((start, i) => ({ cycle: i + 1, start, t: indexToTime(periodToIndex(start)) }));

const AVERAGE_CYCLE_SECONDS = 11 * 365.25 * 86400;

/** The observed cycles, then the one a forecast's predicted next minimum starts (`next`: the
 * forecast's `cycle` member), marked as predicted. */
function cyclesWith(next) {
  const min = next && next.next_minimum;
  if (!min || !next.number || next.number <= CYCLES.length) return CYCLES;
  return [...CYCLES, { cycle: next.number, start: min.period, t: indexToTime(periodToIndex(min.period)), predicted: true }];
}

/**
 * Draws a dotted line at each cycle's start and its number in the middle of the cycle (for the
 * current cycle, about 5.5 years after its start), plus an optional "last observed" line. A
 * forecast's next cycle (`state.next`) is labelled too, "(forecast)", from its predicted minimum.
 * `state.show` switches the cycle marks; `state.lastObserved` (seconds) draws the latter.
 * Sets `state.drawn` to the number of cycle labels drawn (for tests).
 */
export function cycleMarkersPlugin(state) {
  return {
    hooks: {
      draw: (u) => {
        const { ctx } = u;
        const { left, top, width, height } = u.bbox;
        const { min, max } = u.scales.x;
        const px = devicePixelRatio || 1;
        let drawn = 0;
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, height);
        ctx.clip();
        if (state.show) {
          ctx.font = `${Math.round(11 * px)}px system-ui, sans-serif`;
          ctx.textAlign = 'center';
          ctx.textBaseline = 'top';
          // a label needs ~18 css px; skip every other one when the cycles are too close
          const spanPx = (AVERAGE_CYCLE_SECONDS / (max - min)) * (width / px);
          const stride = spanPx < 16 ? 4 : spanPx < 26 ? 2 : 1;
          const cycles = cyclesWith(state.next);
          for (let i = 0; i < cycles.length; i++) {
            const c = cycles[i];
            const end = i + 1 < cycles.length ? cycles[i + 1].t : c.t + AVERAGE_CYCLE_SECONDS;
            if (end < min || c.t > max) continue;
            const x = u.valToPos(c.t, 'x', true);
            if (c.t >= min) {
              ctx.strokeStyle = 'rgba(60, 60, 80, 0.35)';
              ctx.lineWidth = px;
              ctx.setLineDash([3 * px, 4 * px]);
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + height);
              ctx.stroke();
            }
            if ((c.cycle - 1) % stride !== 0 && c.cycle < CYCLES.length) continue;
            const mid = (c.t + end) / 2;
            if (mid < min || mid > max) continue;
            const mx = u.valToPos(mid, 'x', true);
            const name = spanPx > 60 ? `Cycle ${c.cycle}` : String(c.cycle);
            const label = c.predicted && spanPx > 60 ? `${name} (forecast)` : name;
            ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
            const tw = ctx.measureText(label).width + 6 * px;
            ctx.fillRect(mx - tw / 2, top + 3 * px, tw, 15 * px);
            ctx.fillStyle = '#3b3b52';
            ctx.fillText(label, mx, top + 5 * px);
            drawn++;
          }
        }
        if (state.lastObserved && state.lastObserved >= min && state.lastObserved <= max) {
          const x = u.valToPos(state.lastObserved, 'x', true);
          ctx.strokeStyle = 'rgba(198, 40, 40, 0.6)';
          ctx.lineWidth = px;
          ctx.setLineDash([6 * px, 3 * px]);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
        }
        ctx.restore();
        state.drawn = drawn;
      },
    },
  };
}

/**
 * Marks a forecast's predicted next minimum and maximum of the smoothed series (`state.cycle`, the
 * forecast's `cycle` member): a dot at the month and value, a vertical bar over the value's 80%
 * band and a horizontal bar over the range of months, with a short label. Sets `state.drawn` to
 * the number of extremes drawn (for tests).
 */
export function extremesPlugin(state) {
  const mark = (u, e, label, px) => {
    const { ctx } = u;
    const x = u.valToPos(indexToTime(periodToIndex(e.period)), 'x', true);
    const y = u.valToPos(e.value, 'y', true);
    const x0 = u.valToPos(indexToTime(periodToIndex(e.earliest)), 'x', true);
    const x1 = u.valToPos(indexToTime(periodToIndex(e.latest)), 'x', true);
    ctx.strokeStyle = '#4a0000';
    ctx.lineWidth = 2 * px;
    ctx.setLineDash([]);
    ctx.beginPath();
    if (typeof e['lo-80'] === 'number' && typeof e['hi-80'] === 'number') {
      ctx.moveTo(x, u.valToPos(e['lo-80'], 'y', true));
      ctx.lineTo(x, u.valToPos(e['hi-80'], 'y', true));
    }
    ctx.moveTo(Math.min(x0, x) - 3 * px, y);
    ctx.lineTo(Math.max(x1, x) + 3 * px, y);
    ctx.stroke();
    ctx.fillStyle = '#fff';
    ctx.beginPath();
    ctx.arc(x, y, 4.5 * px, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.font = `${Math.round(11 * px)}px system-ui, sans-serif`;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    ctx.fillStyle = '#4a0000';
    ctx.fillText(label, x + 7 * px, y - 5 * px);
  };
  return {
    hooks: {
      draw: (u) => {
        const c = state.cycle;
        let drawn = 0;
        if (c) {
          const px = devicePixelRatio || 1;
          const { left, top, width, height } = u.bbox;
          u.ctx.save();
          u.ctx.beginPath();
          u.ctx.rect(left, top, width, height);
          u.ctx.clip();
          const n = c.number ? ` ${c.number}` : '';
          if (c.next_minimum) mark(u, c.next_minimum, `min${n ? ` (start of${n})` : ''} ${c.next_minimum.period}`, px), drawn++;
          if (c.next_maximum) mark(u, c.next_maximum, `max${n} ${c.next_maximum.period}`, px), drawn++;
          u.ctx.restore();
        }
        state.drawn = drawn;
      },
    },
  };
}
