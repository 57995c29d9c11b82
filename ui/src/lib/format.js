// Numbers as people read them, shared by every page. Missing values show as an en dash.

/** Seconds -> "m:ss" or "h:mm:ss". */
export function formatDuration(seconds) {
  if (seconds == null || !isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** Bytes -> "812 KB", "1.4 GB" (one decimal below 10 of a unit). */
export function formatBytes(bytes) {
  if (bytes == null || !isFinite(bytes)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let n = bytes;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}
