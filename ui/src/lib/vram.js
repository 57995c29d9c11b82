// The VRAM estimate of server/training/vram.py in the browser (the form updates it on every change).
// tests/training/test_vram_js.py checks that both give the same figures for every type, variant and preset.

// Video VAEs compress time 4x: 81 frames are 21 latent frames.
const TEMPORAL_COMPRESSION = 4;

/** Estimated training VRAM (GB) for a create-form state; see vram.py for the model. */
export function estimateGb(ttype, form, datasetType) {
  const v = ttype.variants.find((x) => x.key === form.variant) || ttype.variants[0];
  const model = v.vram_model || ttype.vram_model;
  const t = form.training;
  const d = form.dataset;
  const maxSwap = v.max_blocks_to_swap ?? ttype.max_blocks_to_swap;
  const fp8 = !!t.fp8_base;
  let weights = fp8 ? model.weights_fp8_gb : model.weights_bf16_gb;
  const blockFp8 = model.block_gb_fp8 || model.weights_fp8_gb / (maxSwap + 1);
  const block = fp8 ? blockFp8 : (blockFp8 * model.weights_bf16_gb) / model.weights_fp8_gb;
  let swapped = Math.min(Number(t.blocks_to_swap) || 0, maxSwap) * block;
  // Wan 2.2 with both experts: both are on the GPU, each less its swapped blocks, unless the inactive
  // one is offloaded (only possible without block swap).
  const experts = ttype.fields.some((f) => f.key === 'experts');
  const onGpu = experts && t.experts === 'both' && !t.offload_inactive_dit ? 2 : 1;
  weights *= onGpu;
  swapped *= onGpu;
  const [w, h] = Array.isArray(d.resolution) ? d.resolution : [1024, 1024];
  const kind = datasetType || (ttype.video && v.dataset_types.includes('video') ? 'video' : 'image');
  let frames = 1;
  if (ttype.video && kind === 'video' && model.latent_frames) {
    frames = model.latent_frames; // FramePack: one section of latent frames per step, whatever the clip length
  } else if (ttype.video && kind === 'video') {
    const most = Math.max(1, ...(Array.isArray(d.target_frames) ? d.target_frames : [1]));
    frames = Math.floor((most - 1) / TEMPORAL_COMPRESSION) + 1;
  }
  const mpix = ((w * h) / 1e6) * (Number(d.batch_size) || 1) * frames;
  let activations = model.activation_gb_per_mpix * mpix;
  if (!t.gradient_checkpointing) activations *= model.no_checkpointing_factor;
  const total = Math.max(weights - swapped, block * 2 * onGpu) + activations + model.overhead_gb;
  return Math.round(total * 10) / 10;
}
