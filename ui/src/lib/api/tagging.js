// Client for the auto-tagging endpoints (server/api/tagging.py) and the job look-ups the tagging UI makes.
// Each function is one request; the tagging UI shows its own failures, so callers pass {quiet: true}.
import { api } from '../api.js';

/** {backends, presets, modes, wd14: {known_repos, downloaded, providers}} */
export const backends = (opts) => api.get('/api/tagging/backends', opts);
/** Download a WD14 model: the job (progress in bytes). */
export const downloadModel = (repo, opts) => api.post('/api/tagging/models/download', { repo }, opts).then((r) => r.job);
/** Caption a sample with a backend and option overrides (unsaved form values): the job. */
export const testBackend = (backend, options, opts) => api.post('/api/tagging/test', { backend, options }, opts).then((r) => r.job);
/** Auto-tag a dataset (body as the dialog builds it, see TaggingRun.body): the job. */
export const autotag = (datasetId, body, opts) =>
  api.post(`/api/datasets/${datasetId}/autotag`, body, opts).then((r) => r.job);

/** One job, e.g. the one a 409 job_busy names. */
export const getJob = (id, opts) => api.get(`/api/jobs/${id}`, opts).then((r) => r.job);
/** The auto-tag job running on a dataset, or null. */
export const activeAutotag = (datasetId, opts) =>
  api.get(`/api/jobs?owner=${encodeURIComponent('dataset:' + datasetId)}&active=1`, opts)
    .then((r) => r.jobs.find((j) => j.kind === 'autotag') || null);
