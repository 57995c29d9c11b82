// The in-page folder browser (FileBrowserHost in App.svelte) over the server's files, for a plain
// browser and server mode, where no native dialog exists: `await browseServer(kind, initial)` resolves
// to the chosen absolute path, or null when cancelled. kind: 'model' | 'folder' | 'python' | 'any'.
export const pickerState = $state({ open: false, kind: 'any', initial: '', resolve: null });

export function browseServer(kind = 'any', initial = '') {
  return new Promise((resolve) => {
    pickerState.resolve?.(null); // a second call replaces the first, which counts as cancelled
    Object.assign(pickerState, { open: true, kind, initial: initial || '', resolve });
  });
}

export function finishPick(path) {
  const resolve = pickerState.resolve;
  pickerState.open = false;
  pickerState.resolve = null;
  resolve?.(path ?? null);
}
