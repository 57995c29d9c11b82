// Client for the trainer environment's endpoints (server/api/runtime.py) as its settings section uses them.
import { api } from '../api.js';

/** What is known now without running anything (the last probe, the setup plan, the job in progress). */
export const getRuntime = (opts) => api.get('/api/runtime', opts);
/** Run the detection probe (the environment's python) and answer the full picture. */
export const detectRuntime = (opts) => api.post('/api/runtime/detect', {}, opts);
/** Start setup / update / repair ({action, replace?}); answers {job}. */
export const startSetup = (body, opts = { quiet: true }) => api.post('/api/runtime/setup', body, opts);
