// Facts the server owns (GET /api/meta): the media extensions datasets accept and the websocket events
// each topic carries ({topic family: {type: [payload keys]}}, server/events.py EVENTS). Loaded once at start
// (main.js); readers get empty lists until it answers, and re-render when it does.
import { api } from './api.js';

export const meta = $state({ media: { image: [], video: [] }, events: {} });

let loading = null;

export function loadMeta() {
  loading ??= api.get('/api/meta', { quiet: true })
    .then((m) => Object.assign(meta, m))
    .catch(() => { loading = null; }); // tried again by the next caller
  return loading;
}

/** The extensions (no dot) of one media kind: 'image' | 'video'. */
export const mediaExts = (kind) => meta.media[kind] || [];

/** The file picker's accept list: every media file, captions and zips. */
export const mediaAccept = () => [...mediaExts('image'), ...mediaExts('video'), 'txt', 'zip'].map((e) => '.' + e).join(',');
