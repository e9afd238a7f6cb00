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

/**
 * Draws a dotted line at each cycle's start and its number in the middle of the cycle (for the
 * current cycle, about 5.5 years after its start), plus an optional "last observed" line.
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
          for (let i = 0; i < CYCLES.length; i++) {
            const c = CYCLES[i];
            const end = i + 1 < CYCLES.length ? CYCLES[i + 1].t : c.t + AVERAGE_CYCLE_SECONDS;
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
            if ((c.cycle - 1) % stride !== 0 && c.cycle !== CYCLES.length) continue;
            const mid = (c.t + end) / 2;
            if (mid < min || mid > max) continue;
            const mx = u.valToPos(mid, 'x', true);
            const label = spanPx > 60 ? `Cycle ${c.cycle}` : String(c.cycle);
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
