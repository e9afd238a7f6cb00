// main.js — starts the dashboard: a small shared context, then one module per panel.
//
// Adding a panel: a <section id="NAME" class="panel"> in index.html, a js/panel-NAME.js that
// exports mount(section, ctx), and one line in PANELS below.
import { api, askToken, getToken, errorText } from './api.js';
import * as solar from './panel-solar.js';
import * as models from './panel-models.js';
import * as training from './panel-training.js';
import * as quantum from './panel-quantum.js';

const PANELS = [
  ['solar', solar],
  ['models', models],
  ['training', training],
  ['quantum', quantum],
];

// A hook for tests and for the curious: each panel publishes its chart and counts here.
window.fwpcast = { panels: {}, errors: [] };

/** The context every panel gets: the model list, and events between panels. */
function createContext() {
  const bus = new EventTarget();
  const ctx = {
    models: [],
    on(name, fn) {
      bus.addEventListener(name, (e) => fn(e.detail));
    },
    emit(name, detail) {
      bus.dispatchEvent(new CustomEvent(name, { detail }));
    },
    /** Reloads GET /models and tells every panel ('models' event). */
    async refreshModels() {
      const { data } = await api.get('/models');
      ctx.models = data.models || [];
      ctx.emit('models', ctx.models);
      return ctx.models;
    },
  };
  ctx.modelsReady = ctx.refreshModels().catch((e) => {
    window.fwpcast.errors.push(errorText(e));
    return [];
  });
  return ctx;
}

function setupToken() {
  const button = document.getElementById('token-button');
  const state = document.getElementById('token-state');
  const render = () => {
    const set = !!getToken();
    button.textContent = set ? 'API token: set' : 'Set API token';
    state.textContent = set ? 'An API token is kept for this tab.' : 'No API token is set for this tab.';
  };
  button.addEventListener('click', () => askToken('Enter the server’s API token (kept in this tab only), or forget the one kept.'));
  document.addEventListener('fwpcast:token', render);
  render();
}

function start() {
  setupToken();
  const ctx = createContext();
  for (const [id, panel] of PANELS) {
    const section = document.getElementById(id);
    if (!section) continue;
    try {
      panel.mount(section, ctx);
    } catch (e) {
      section.dataset.state = 'error';
      const msg = document.createElement('p');
      msg.className = 'error';
      msg.setAttribute('role', 'alert');
      msg.textContent = `This panel could not start: ${errorText(e)}`;
      section.append(msg);
    }
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
