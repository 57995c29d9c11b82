// The task page's state and server calls (TaskPage renders it; its header, vitals and terminal are
// components/training/Task*): the task record, its live progress, the trainer's log, the loss curve and the
// outputs, kept live over `task:<id>`. The page keeps what is the browser's: the clock, the GPU panel, routing.
import * as tasks from './api/tasks.js';
import { subscribe } from './ws.svelte.js';
import { t } from './i18n/index.svelte.js';
import { ACTIVE, STAGES } from './training.js';
import { deleteTask } from './trainingActions.js';

const OUTPUTS_MS = 250; // outputs refetch after a burst of sample/checkpoint events
const GAP_MS = 1500; // loss steps published before the subscription are stored about once a second
const LOG_TAIL = 512 * 1024;

// Live events that change what `progress` shows (status records carry it too).
const PROGRESS_EVENTS = new Set(['status', 'progress', 'stage', 'sampling']);

export class TaskSession {
  task = $state(null);
  missing = $state(false);
  progress = $state(null);
  outputs = $state({ checkpoints: [], samples: [], states: [], converted: [] });
  loss = $state([]);
  busy = $state(false); // an action is on its way
  term = $state.raw(null); // the Terminal component, once the page has drawn it
  #termReady = false;
  #logLoaded = false;
  #pendingLog = []; // live log chunks that came while the log file was read; null once it is drawn
  #live = { progress: null, points: [] }; // drawn at the next animation frame
  #frame = 0;
  #timers = { outputs: 0, gap: 0 };
  #off = [];
  // Which read of the task is the newest, and whether a live event changed the record or its progress since
  // the server last acknowledged the subscription (lib/ws.svelte.js): see `refresh()`.
  #readSeq = 0;
  #acks = 0;
  #liveSinceAck = { status: false, progress: false };

  constructor(id, { ondeleted = () => {} } = {}) {
    this.id = id;
    this.ondeleted = ondeleted;
  }

  /** Follow the task's events, then read it (and again each time the subscription is in place). */
  start() {
    this.#off.push(subscribe(`task:${this.id}`, (ev) => this.onEvent(ev), () => this.subscribed()));
    this.#off.push(subscribe('tasks', (ev) => {
      if (ev.type === 'deleted' && ev.data.id === this.id) this.ondeleted();
    }));
    this.load();
  }

  dispose() {
    for (const off of this.#off) off();
    this.#off = [];
    for (const timer of Object.values(this.#timers)) clearTimeout(timer);
    if (this.#frame) cancelAnimationFrame(this.#frame);
    this.#frame = 0;
  }

  /** The first read: the task, then its outputs and loss curve (the log once the terminal is drawn). */
  async load() {
    if (!(await this.refresh())) return;
    this.loadOutputs();
    this.loadLoss(true);
  }

  // Events published before the server had this page's subscription never reach it, and the task row is saved
  // about once a second: a read made before the subscription was in place can miss the last progress for good.
  // So the task is read again once it is (the server answers with the progress last published, never older).
  // Events are delivered in order from the ack on, so a live event that came after the ack is at least as new
  // as what that read returns: the read's record or progress is taken only where no such event came.
  subscribed() {
    this.#acks += 1;
    this.#liveSinceAck = { status: false, progress: false };
    const first = this.#acks === 1;
    this.refresh().then((ok) => {
      if (!ok || first) return;
      // Back after a lost connection: what was published meanwhile was never sent.
      this.loadOutputs();
      this.loadLoss();
    });
  }

  /** Read the task; true when it exists. Only the newest read is taken (see subscribed()). */
  async refresh() {
    const seq = ++this.#readSeq;
    const acks = this.#acks;
    let task;
    try {
      task = await tasks.getTask(this.id, { quiet: true });
    } catch (e) {
      if (e.status === 404) this.missing = true;
      return false;
    }
    if (seq !== this.#readSeq) return true; // a newer read is on its way
    const live = acks ? this.#liveSinceAck : { status: false, progress: false };
    if (!this.task || !live.status) this.task = task;
    if (!live.progress) {
      this.progress = task.progress;
      this.#live.progress = null; // came before the ack: older than this read
    }
    this.loadLog();
    return true;
  }

  // --- actions (trainingActions.js asks what needs asking) ----------------------------------------
  /** Run an action on the task (start, stop, resume...); its answer's record is shown. */
  async act(fn) {
    this.busy = true;
    try {
      const res = await fn(this.task);
      if (res?.task) this.task = res.task;
    } catch {
      /* in the banner */
    } finally {
      this.busy = false;
    }
  }

  /** Delete the task (deleteTask asks first); true when it is gone. */
  async remove() {
    this.busy = true;
    try {
      return await deleteTask(this.task);
    } catch {
      return false; /* in the banner */
    } finally {
      this.busy = false;
    }
  }

  // --- terminal: the latest run's log, then live chunks ------------------------------------------
  termReady() {
    this.#termReady = true;
    this.loadLog();
  }

  async loadLog() {
    if (!this.#termReady || !this.task || this.#logLoaded) return;
    this.#logLoaded = true;
    const stages = (this.task.run?.stages || []).map((s) => s.name);
    let text = '';
    for (const stage of stages.length ? stages : STAGES) {
      try {
        text += await tasks.taskLog(this.id, stage, LOG_TAIL, { quiet: true });
      } catch {
        /* no log for that stage */
      }
    }
    if (text) this.term?.write(text);
    // Chunks that arrived while the log was read: skip those the file already had.
    for (const chunk of this.#pendingLog) if (!text.includes(chunk)) this.term?.write(chunk);
    this.#pendingLog = null;
  }

  writeLog(text) {
    if (this.#pendingLog) this.#pendingLog.push(text);
    else this.term?.write(text);
  }

  // --- live events -------------------------------------------------------------------------------
  onEvent(ev) {
    const d = ev.data;
    if (PROGRESS_EVENTS.has(ev.type)) this.#liveSinceAck.progress = true;
    switch (ev.type) {
      case 'status':
        this.#liveSinceAck.status = true;
        if (this.task && d.run_no !== this.task.run_no && this.task.run_no) {
          this.writeLog(`\r\n\x1b[2m── ${t('training.detail.newRun', { n: d.run_no })} ──\x1b[0m\r\n`);
        }
        if (this.task && d.run_no !== this.task.run_no) this.loss = [];
        this.task = d;
        if (d.progress) this.progress = d.progress;
        this.loadLog();
        if (!ACTIVE.includes(d.status)) {
          this.loadOutputs();
          this.loadLoss();
        }
        break;
      case 'progress':
        this.#live.progress = d;
        this.#scheduleFrame();
        break;
      case 'loss':
        this.#live.points.push(...d.points);
        this.#scheduleFrame();
        break;
      case 'log':
        this.writeLog(d.text);
        break;
      case 'stage':
        this.progress = { ...(this.progress || {}), stage: d.stage };
        break;
      case 'sampling':
        this.progress = { ...(this.progress || {}), phase: 'sampling' };
        break;
      case 'sample':
      case 'checkpoint':
      case 'converted':
        clearTimeout(this.#timers.outputs);
        this.#timers.outputs = setTimeout(() => this.loadOutputs(), OUTPUTS_MS);
        break;
    }
  }

  // The server sends every progress change and every step's loss as it happens; drawing them is
  // coalesced here, once per animation frame, so a fast trainer never redraws the chart per event.
  #scheduleFrame() {
    if (!this.#frame) this.#frame = requestAnimationFrame(() => this.applyLive());
  }

  applyLive() {
    this.#frame = 0;
    if (this.#live.progress) this.progress = this.#live.progress;
    this.#live.progress = null;
    const points = this.#live.points;
    this.#live.points = [];
    const loss = this.loss;
    const last = loss.length ? loss[loss.length - 1].step : null;
    const fresh = points.filter((p) => last === null || p.step > last);
    if (!fresh.length) return;
    // Steps published before this page subscribed and stored after it fetched: fetch them once the
    // runner has stored them (it does about once a second).
    if (last !== null && fresh[0].step > last + 1) {
      clearTimeout(this.#timers.gap);
      this.#timers.gap = setTimeout(() => this.loadLoss(false, last), GAP_MS);
    }
    this.loss = loss.concat(fresh); // all newer than what is drawn, in step order
  }

  async loadOutputs() {
    try {
      this.outputs = await tasks.taskOutputs(this.id, { quiet: true });
    } catch {
      /* task gone */
    }
  }

  async loadLoss(all = false, from = null) {
    const since = from ?? (all || !this.loss.length ? -1 : this.loss[this.loss.length - 1].step);
    try {
      const points = await tasks.taskLoss(this.id, since, { quiet: true });
      this.loss = mergeLoss(this.loss, points); // live points that came meanwhile stay
    } catch {
      /* task gone */
    }
  }
}

/** Loss points by step, `points` winning, in step order. */
export function mergeLoss(have, points) {
  const byStep = new Map(have.map((p) => [p.step, p]));
  for (const p of points) byStep.set(p.step, p);
  return [...byStep.values()].sort((x, y) => x.step - y.step);
}
