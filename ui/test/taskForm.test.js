// TaskForm (lib/taskForm.svelte.js), the create-task form's state, against the real task-type table:
// form <-> config, VRAM presets, variants, the field groups and the validation state. No server calls:
// every method used here works on the form alone.
import { beforeAll, describe, expect, test } from 'vitest';
import { TaskForm, PICKERS, SHOWN_WHILE } from '../src/lib/taskForm.svelte.js';
import { t } from '../src/lib/i18n/index.svelte.js';
import { loadTable } from './taskTypes.js';

let table;
beforeAll(() => {
  table = loadTable();
});

const DATASETS = [
  { id: 'img', name: 'Images', type: 'image', item_count: 3 },
  { id: 'vid', name: 'Clips', type: 'video', item_count: 2 },
  { id: 'ctl', name: 'Pairs', type: 'control', item_count: 2 },
];

function formFor(typeId, variant) {
  const tf = new TaskForm();
  tf.setup(table, { datasets: DATASETS });
  if (typeId) tf.changeType(typeId);
  if (variant) tf.changeVariant(variant);
  return tf;
}

const field = (tf, key) => tf.ttype.fields.find((f) => f.key === key);

describe('form <-> config', () => {
  test('a fresh form sends only what differs from its defaults', () => {
    const tf = formFor();
    const cfg = tf.config();
    expect(cfg.task_type).toBe(table.task_types[0].id);
    expect(cfg.vram_preset).toBe('medium');
    expect(cfg.training).toEqual({});
    expect(cfg.dataset).toEqual({});
    expect(cfg.models).toEqual({});
    expect(cfg.gpus).toEqual([0]);
  });

  test('every task type: a config loaded into a new form gives the same config back', () => {
    for (const ttype of table.task_types) {
      const tf = formFor(ttype.id, ttype.variants.at(-1).key);
      const form = tf.form;
      form.name = ' my lora ';
      form.dataset_id = tf.accepted[0]?.id || '';
      form.models[tf.models[0].key] = '/models/a file.safetensors';
      form.training.learning_rate = 0.0003;
      tf.choosePreset('low');
      form.samples.prompts = [{ prompt: 'a cat', seed: 7 }];
      form.extra = '--max_timestep 900';
      const cfg = tf.config();
      expect(cfg.name).toBe('my lora');
      expect(cfg.training.learning_rate).toBe(0.0003);
      expect(cfg.extra_args).toEqual(['--max_timestep', '900']);

      const again = formFor();
      again.applyConfig(cfg);
      expect(again.form.task_type).toBe(ttype.id);
      expect(again.config(), ttype.id).toEqual(cfg);
    }
  });

  test('starting from a preset keeps the name and, where the new variant takes it, the dataset', () => {
    const tf = formFor();
    tf.form.name = 'mine';
    tf.form.dataset_id = 'img';
    const video = table.task_types.find((x) => x.variants.every((v) => !v.dataset_types.includes('image')));
    const cfg = formFor(video.id).config();
    tf.userPresets = [{ name: 'video', config: { ...cfg, name: 'other' } }];
    tf.errors = { name: 'old error' };
    tf.draftId = 'draft';
    return tf.loadFrom('preset:video').then(() => {
      expect(tf.form.task_type).toBe(video.id);
      expect(tf.form.name).toBe('mine');
      expect(tf.form.dataset_id).toBe(''); // an image dataset does not fit a video-only type
      expect(tf.presetName).toBe('video');
      expect(tf.loadedFrom).toBe('preset:video');
      expect(tf.errors).toEqual({});
      expect(tf.draftId).toBe(null); // a new config is a new task, not the refused draft
    });
  });
});

describe('VRAM presets', () => {
  test('choosing a preset sets the training fields it controls', () => {
    const tf = formFor();
    for (const p of ['low', 'high', 'medium']) {
      tf.choosePreset(p);
      expect(tf.form.vram_preset).toBe(p);
      for (const [k, v] of Object.entries(tf.variant.presets[p])) {
        if (k in tf.form.training) expect(tf.form.training[k], `${p}.${k}`).toEqual(v);
      }
      // at the preset's own values nothing it controls is sent
      for (const k of Object.keys(tf.variant.presets[p])) expect(tf.config().training).not.toHaveProperty(k);
    }
  });

  test('editing a field a preset controls makes it custom; other fields do not', () => {
    const tf = formFor();
    tf.choosePreset('low');
    tf.edited(field(tf, 'learning_rate'));
    expect(tf.form.vram_preset).toBe('low');
    const controlled = [...tf.pKeys][0];
    tf.form.training[controlled] = !tf.form.training[controlled];
    tf.edited(field(tf, controlled));
    expect(tf.form.vram_preset).toBe('custom');
    expect(tf.config().vram_preset).toBe('custom');
    // custom keeps the values as they are
    const before = JSON.stringify(tf.form.training);
    tf.choosePreset('custom');
    expect(JSON.stringify(tf.form.training)).toBe(before);
  });

  test('the fields a preset controls are the task group, shown beside the preset', () => {
    for (const ttype of table.task_types) {
      const tf = formFor(ttype.id);
      expect(tf.groups.task.map((f) => f.key).sort(), ttype.id).toEqual(
        tf.applicable.filter((f) => f.section === 'training' && tf.pKeys.has(f.key)).map((f) => f.key).sort());
      expect(tf.groups.task.length).toBeGreaterThan(0);
    }
  });
});

describe('task type and variant', () => {
  test('a variant change moves sample defaults the user left alone, and keeps those changed', () => {
    const flux = table.task_types.find((x) => x.variants.some((v) => v.sample_defaults?.steps === 4));
    const distilled = flux.variants.find((v) => v.sample_defaults?.steps === 4);
    const other = flux.variants.find((v) => v.sample_defaults?.steps !== 4);
    const tf = formFor(flux.id, other.key);
    tf.form.samples.guidance = 9; // the user's own
    tf.changeVariant(distilled.key);
    expect(tf.form.samples.steps).toBe(4);
    expect(tf.form.samples.guidance).toBe(9);
  });

  test('changing the type keeps name, GPUs and prompts, drops errors and a dataset it cannot train on', () => {
    const tf = formFor();
    tf.form.name = 'n';
    tf.form.gpus = [1];
    tf.form.dataset_id = 'img';
    tf.form.samples.prompts = [{ prompt: 'p', seed: 3, image: 'x.png' }];
    tf.errors = { name: 'e' };
    const video = table.task_types.find((x) => x.variants[0].dataset_types.every((d) => d !== 'image'));
    tf.changeType(video.id);
    expect(tf.form.task_type).toBe(video.id);
    expect(tf.form.name).toBe('n');
    expect(tf.form.gpus).toEqual([1]);
    expect(tf.form.dataset_id).toBe('');
    expect(tf.form.samples.prompts).toEqual([{ prompt: 'p', seed: 3 }]);
    expect(tf.errors).toEqual({});
    expect(tf.accepted.every((d) => tf.variant.dataset_types.includes(d.type))).toBe(true);
  });

  test('the served groups hold every field of every type exactly once', () => {
    const count = {};
    for (const g of table.form_groups) for (const k of g.fields) count[k] = (count[k] || 0) + 1;
    for (const ttype of table.task_types) {
      for (const f of ttype.fields) expect(count[f.key], `${ttype.id}: ${f.key}`).toBe(1);
    }
  });

  test('every applicable field is drawn in exactly one place, in the served order', () => {
    for (const ttype of table.task_types) {
      const tf = formFor(ttype.id);
      tf.form.dataset.enable_bucket = true; // what SHOWN_WHILE hides is shown
      const drawn = [];
      for (const [key, fields] of Object.entries(tf.groups)) {
        const order = table.form_groups.find((g) => g.key === key).fields;
        expect(fields.map((f) => order.indexOf(f.key)), `${ttype.id} ${key}`).toEqual(
          fields.map((f) => order.indexOf(f.key)).sort((a, b) => a - b));
        for (const f of fields) {
          const how = tf.drawAs(f);
          if (how === 'field') drawn.push(f.key);
          else if (how) drawn.push(...PICKERS[how]);
        }
      }
      expect(drawn.sort(), ttype.id).toEqual(tf.applicable.map((f) => f.key).sort());
    }
  });

  test('a picker stands for its pair; a field shows only while the one it goes with is on', () => {
    const tf = formFor();
    const [first, second] = PICKERS.duration;
    expect(tf.drawAs(tf.byKey[first])).toBe('duration');
    expect(tf.drawAs(tf.byKey[second])).toBe(null);
    const [sub, boss] = Object.entries(SHOWN_WHILE)[0];
    tf.form.dataset[boss] = false;
    expect(tf.drawAs(tf.byKey[sub])).toBe(null);
    tf.form.dataset[boss] = true;
    expect(tf.drawAs(tf.byKey[sub])).toBe('field');
  });
});

describe('pickers', () => {
  test('duration and saving are epochs or steps, never both', () => {
    const tf = formFor();
    tf.setDuration('steps');
    expect(tf.durationMode).toBe('steps');
    expect(tf.form.training.max_train_epochs).toBe(null);
    expect(tf.form.training.max_train_steps).toBeGreaterThan(0);
    tf.setDuration('epochs');
    expect(tf.durationMode).toBe('epochs');
    expect(tf.form.training.max_train_steps).toBe(null);
    tf.setSave('steps');
    expect(tf.saveMode).toBe('steps');
    expect(tf.form.training.save_every_n_epochs).toBe(null);
  });

  test('GPUs stay sorted and the last one cannot be removed', () => {
    const tf = formFor();
    tf.toggleGpu(2, true);
    tf.toggleGpu(1, true);
    expect(tf.form.gpus).toEqual([0, 1, 2]);
    tf.toggleGpu(0, false);
    tf.toggleGpu(1, false);
    tf.toggleGpu(2, false);
    expect(tf.form.gpus).toEqual([2]);
  });
});

describe('validation state', () => {
  test('the local check names the first missing thing, at its field', () => {
    const tf = formFor();
    expect(tf.localCheck()).toMatchObject({ message: t('training.form.needName'), details: { field: 'name' } });
    tf.form.name = 'x';
    expect(tf.localCheck()).toMatchObject({ message: t('training.form.needDataset'), details: { field: 'dataset_id' } });
    tf.form.dataset_id = 'img';
    expect(tf.localCheck()).toBe(null);
  });

  test("a model file the library calls broken stops the start at that model's field", () => {
    const tf = formFor();
    Object.assign(tf.form, { name: 'x', dataset_id: 'img' });
    const role = tf.models[0].key;
    tf.form.models[role] = ' /m/dit.safetensors ';
    tf.verdicts = { [`${tf.form.task_type}|${role}|/m/dit.safetensors`]: { status: 'warning', problems: [{ code: 'w', severity: 'warning', message: 'meh' }] } };
    expect(tf.localCheck()).toBe(null);
    tf.verdicts = { [`${tf.form.task_type}|${role}|/m/dit.safetensors`]: { status: 'error', problems: [{ code: 'not_safetensors', severity: 'error', message: 'bad header' }] } };
    expect(tf.localCheck()).toMatchObject({ code: 'model_file_error', details: { field: 'models.' + role } });
  });

  test('create refuses before any request while the local check fails, and is not left busy', async () => {
    const tf = formFor();
    const asked = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = (url) => { asked.push(url); return Promise.reject(new Error('no server in this test')); };
    try {
      await expect(tf.create()).rejects.toMatchObject({ details: { field: 'name' } });
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(asked).toEqual([]);
    expect(tf.busy).toBe(false);
    expect(tf.draftId).toBe(null);
  });

  test('errors clear per field; editing a field clears its own', () => {
    const tf = formFor();
    tf.errors = { name: 'a', 'training.learning_rate': 'b' };
    tf.clearError('name');
    expect(tf.errors).toEqual({ 'training.learning_rate': 'b' });
    tf.edited(field(tf, 'learning_rate'));
    expect(tf.errors).toEqual({});
  });
});
