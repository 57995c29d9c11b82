// The form state of one or more settings keys (a SettingField's own, or a whole card's that other parts of the
// card read, e.g. the tagging card's Test button uses the values as typed, saved or not): the text each
// control shows, the server's error under each field, and the short "saved" tick. A field is saved when it is
// left (commit); a refused value stays as typed with the server's message under it.
import { settings, settingSpec, saveQuiet, toDraft, fromDraft } from './settings.svelte.js';

const SAVED_MS = 1600; // how long the tick beside a saved field's label stays

/** A setting's saved value as its control shows it. A secret never is: its control holds only a new value. */
export function draftOf(key, value) {
  return settingSpec(key)?.secret ? '' : toDraft(key, value);
}

/** A secret as the server shows a saved one ("••••••abcd"); sending it back keeps the saved value. */
export function isMasked(value) {
  return typeof value === 'string' && value.startsWith('•');
}

/**
 * A group's schema entries as the rows of a settings card: one setting, or consecutive numbers that name the
 * same `block` (an i18n key) shown side by side under that label. Each row has a `key` for keyed #each.
 */
export function settingRows(specs) {
  const rows = [];
  for (const spec of specs) {
    const last = rows.at(-1);
    if (spec.block && last?.block === spec.block) last.specs.push(spec);
    else if (spec.block) rows.push({ key: 'block:' + spec.key, block: spec.block, help: spec.block_help || '', specs: [spec] });
    else rows.push({ key: spec.key, spec });
  }
  return rows;
}

export class SettingsForm {
  draft = $state({}); // key -> the control's value (text, or true/false)
  errors = $state({}); // key -> the server's message
  saved = $state({}); // key -> true for a moment after a save
  #timers = {};

  constructor(keys = []) {
    this.keys = keys;
    for (const key of keys) this.draft[key] = draftOf(key, settings.values[key]);
  }

  /** Show a value saved elsewhere (another card, the first-run wizard, a late first load). */
  sync(key, value) {
    this.draft[key] = draftOf(key, value);
  }

  /** The value a key's control would save now (what the server takes). */
  value(key) {
    return fromDraft(key, this.draft[key]);
  }

  /** Save one field as it is typed; nothing is sent when it equals the saved value (and shows no error). */
  commit(key) {
    const value = this.value(key);
    if (settingSpec(key)?.secret) {
      if (!value) return; // an empty secret field means "keep the saved one"; clear() removes it
    } else if (JSON.stringify(value) === JSON.stringify(settings.values[key]) && !this.errors[key]) {
      return;
    }
    return this.save({ [key]: value });
  }

  /** Remove a saved secret. */
  clear(key) {
    this.draft[key] = '';
    return this.save({ [key]: '' });
  }

  /** PATCH several keys at once; true when saved, false when refused (the message under its field). */
  async save(changes) {
    return this.applySave(changes, await saveQuiet(changes));
  }

  /** The answer to a save of `changes`: `err` is null or the server's ApiError. */
  applySave(changes, err) {
    const keys = Object.keys(changes);
    for (const key of keys) this.errors[key] = '';
    if (err) {
      this.errors[this.fieldOf(err, keys)] = err.message;
      return false;
    }
    for (const key of keys) {
      if (this.keys.includes(key)) this.draft[key] = draftOf(key, settings.values[key]);
      this.flash(key);
    }
    return true;
  }

  /** The field a refusal is about: the key the server names, else the first one sent. */
  fieldOf(err, keys) {
    const field = err.details?.field;
    return field && keys.includes(field) ? field : keys[0];
  }

  flash(key) {
    this.saved[key] = true;
    clearTimeout(this.#timers[key]);
    this.#timers[key] = setTimeout(() => (this.saved[key] = false), SAVED_MS);
  }

  dispose() {
    Object.values(this.#timers).forEach(clearTimeout);
  }
}
