// The trainer environment section's state and server calls (TrainerEnvironment renders it; its facts, problems
// and setup actions are components/settings/Runtime*): what detection found, the set up / update / repair job
// with its live log, why an action cannot run now, and what setup would install.
import { getRuntime, detectRuntime, startSetup } from './api/runtime.js';
import { saveSetting } from './settings.svelte.js';
import { followJob, FINAL } from './jobs.svelte.js';
import { confirmDialog } from './confirm.svelte.js';
import { t } from './i18n/index.svelte.js';

export const ACTIONS = ['setup', 'update', 'repair'];
const CONFIRM = { setup: 'rt.confirm.setup', update: 'rt.confirm.update', repair: 'rt.confirm.repair' };

export class TrainerEnv {
  info = $state(null); // GET /api/runtime, then the full detection
  checking = $state(false);
  job = $state(null); // the setup job this section follows
  actionError = $state('');
  term = $state.raw(null); // the job's Terminal, once drawn
  #pending = []; // log text that came before the terminal was drawn
  #stopFollow = null;
  // Saving the folder and then the interpreter starts two detections; only the newest may show,
  // or a slow first answer (old interpreter) would overwrite the right one.
  #checkSeq = 0;

  running = $derived(!!this.job && !FINAL.includes(this.job.status));

  // Why a button cannot be used now (rt.blocked.<code>): the server's reason per action, or the job this section
  // follows. Buttons with the same reason share one line, which is also their tooltip and accessible description.
  blocked = $derived(Object.fromEntries(ACTIONS.map((a) => [a, this.running ? 'setup_running' : this.info?.setup.blocked?.[a] ?? null])));
  reasons = $derived.by(() => {
    const groups = [];
    for (const a of ACTIONS) {
      const code = this.blocked[a];
      if (!code) continue;
      const g = groups.find((x) => x.code === code);
      if (g) g.actions.push(a);
      else groups.push({ code, actions: [a] });
    }
    return groups.map((g) => ({
      ...g,
      id: `rt-why-${g.code}`,
      text: t('rt.blocked.line', { actions: g.actions.map((a) => t(`rt.${a}`)).join(t('rt.blocked.sep')), why: t(`rt.blocked.${g.code}`) }),
    }));
  });

  reasonOf(action) {
    return this.reasons.find((r) => r.actions.includes(action));
  }

  /** What setup installs (server/runtime/driver.py torch_build), said before the click. */
  build = $derived(this.info?.setup.build ?? null);
  buildWhat = $derived(this.build
    ? (this.build.kind === 'cuda' ? t('rt.build.cuda', { cuda: this.build.cuda, extra: this.build.extra }) : t(`rt.build.${this.build.kind}`))
    : '');

  /** The quick answer, the job in progress if any, then the full check. */
  async start() {
    this.info = await getRuntime();
    if (this.info.setup.job) this.follow(this.info.setup.job.id);
    this.check();
  }

  dispose() {
    this.#stopFollow?.();
    this.#stopFollow = null;
  }

  async check() {
    const seq = ++this.#checkSeq;
    this.checking = true;
    try {
      const result = await detectRuntime();
      if (seq === this.#checkSeq) this.info = result;
    } finally {
      if (seq === this.#checkSeq) this.checking = false;
    }
  }

  /** A new torch build was saved: the quick answer states what setup will install now, the full check follows. */
  async buildChanged() {
    const seq = ++this.#checkSeq;
    const quick = await getRuntime();
    if (seq === this.#checkSeq) this.info = quick;
    this.check();
  }

  // --- the job and its log ------------------------------------------------------------------------
  write(text) {
    if (this.term) this.term.write(text);
    else this.#pending.push(text);
  }

  termReady() {
    for (const text of this.#pending) this.term.write(text);
    this.#pending = [];
  }

  follow(id) {
    this.#stopFollow?.();
    this.#stopFollow = followJob(id, (j) => {
      this.job = j;
      if (FINAL.includes(j.status)) this.check();
    }, (ev) => {
      if (ev.type === 'log') this.write(ev.data.text);
    });
  }

  /** Set up, update or repair, after asking; a folder in the way is replaced only when the user says so. */
  async run(action) {
    this.actionError = '';
    const setup = this.info.setup;
    const ok = await confirmDialog({ title: t(`rt.${action}`), message: t(CONFIRM[action], { dir: setup.target_dir, extra: setup.extra || '?' }), confirmLabel: t(`rt.${action}`) });
    if (!ok) return;
    let body = { action };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const res = await startSetup(body);
        this.term?.clear();
        this.#pending = [];
        this.job = res.job;
        this.follow(res.job.id);
        return;
      } catch (e) {
        if ((e.code === 'musubi_dir_exists' || e.code === 'musubi_dirty') && !body.replace) {
          const sure = await confirmDialog({ title: t('rt.confirm.replaceTitle'), message: t(`rt.confirm.${e.code}`, { dir: e.details?.path || setup.target_dir }), confirmLabel: t('rt.confirm.replace'), danger: true });
          if (!sure) return;
          body = { ...body, replace: true };
          continue;
        }
        this.actionError = e.message;
        return;
      }
    }
  }

  // --- the user's own environment ----------------------------------------------------------------
  /** A Python detection found (a problem's candidate) becomes the trainer's interpreter. */
  async useCandidate(path) {
    await saveSetting('musubi_python', path);
    this.check();
  }

  /** Back to the app-managed environment. */
  async resetOwn() {
    await saveSetting('musubi_dir', '');
    await saveSetting('musubi_python', '');
    this.check();
  }
}
