// `await confirmDialog({ title, message, confirmLabel, danger, choices })` shows the app's one
// confirmation dialog (ConfirmHost in App.svelte) and resolves to true/false, or to the chosen
// choice's value when `choices` are given (e.g. "stop and delete" vs "delete, keep files").
export const confirmState = $state({ open: false, title: '', message: '', confirmLabel: '', danger: false, choices: null, resolve: null });

export function confirmDialog({ title, message, confirmLabel = '', danger = false, choices = null }) {
  return new Promise((resolve) => {
    Object.assign(confirmState, { open: true, title, message, confirmLabel, danger, choices, resolve });
  });
}

export function answer(value) {
  const resolve = confirmState.resolve;
  confirmState.open = false;
  confirmState.resolve = null;
  resolve?.(value);
}
