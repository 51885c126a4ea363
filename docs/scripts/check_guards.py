"""Issue 19, section 4: break each guarded property in the source, run the test meant to catch it, expect it
to fail, restore the file. Run from the repository root: `.venv/bin/python docs/scripts/check_guards.py`
(about 10 minutes on 2 busy cores). Do not edit or commit while it runs: it rewrites source files in place."""

import subprocess
from pathlib import Path

# (file, original text, broken text, the test that must fail)
M = [
 ("src/genvision/diffusion/model.py",
  "t = torch.randint(0, self.schedule.num_timesteps",
  "t = torch.randint(1, self.schedule.num_timesteps",
  "tests/diffusion/test_diffusion_guarded.py::test_loss_draws_every_timestep_uniformly_t0_included"),
 ("src/genvision/diffusion/model.py",
  "        return self.num_classes\n",
  "        return self.num_classes - 1\n",
  "tests/diffusion/test_diffusion_model.py::test_label_dropout_uses_the_null_class"),
 ("src/genvision/diffusion/model.py",
  "        return self.num_classes\n",
  "        return self.num_classes - 1\n",
  "tests/diffusion/test_diffusion_guarded.py::test_null_label_is_the_extra_index_num_classes"),
 ("src/genvision/diffusion/model.py",
  "        out, _ = self._forward(x_t, t, labels)\n",
  "        out, _ = self._forward(x_t, t, labels * 0)\n",
  "tests/diffusion/test_diffusion_guarded.py::test_labels_and_guidance_change_the_samples_of_a_perturbed_model"),
 ("src/genvision/train/ema.py",
  "torch._foreach_lerp_(ema_params, params, 1.0 - d)",
  "torch._foreach_lerp_(ema_params, params, d)",
  "tests/train/test_trainer.py::test_one_ema_update_moves_by_one_minus_decay"),
 ("src/genvision/train/trainer.py",
  "        self.ema.model.load_state_dict(match_state_dict(state.ema, self.ema.model.state_dict(), where=where))\n",
  "",
  "tests/train/test_trainer.py::test_kill_and_resume_equals_uninterrupted_run"),
 ("src/genvision/train/trainer.py",
  "        self.ema.num_updates = int(state.extra.get(\"ema_updates\", state.step))\n",
  "",
  "tests/train/test_trainer.py::test_kill_and_resume_equals_uninterrupted_run"),
 ("src/genvision/train/checkpoint.py",
  "    kept, older = files[-keep:], files[:-keep]",
  "    kept, older = files[-keep - 1:], files[:-keep - 1]",
  "tests/train/test_checkpoint_integrity.py::test_prune_keeps_exactly_the_newest_n"),
 ("src/genvision/train/checkpoint.py",
  "    if not any(_is_valid(p) for p in reversed(kept)):",
  "    if False:",
  "tests/train/test_checkpoint_integrity.py::test_prune_never_deletes_the_newest_valid_checkpoint"),
 ("src/genvision/eval/clustering.py",
  "    if table.shape[1] <= table.shape[0]:",
  "    if False:",
  "tests/eval/test_eval_cluster_matching.py"),
 ("src/genvision/dvae/mixture.py",
  "recon, kl = self._relaxed(x01, feats, q_logits, tau)",
  "recon, kl = self._relaxed(x01, feats, q_logits, self.config.tau0)",
  "tests/dvae/test_dvae_schedules.py::test_mixture_relaxed_estimator_uses_the_annealed_temperature_it_reports"),
 ("src/genvision/dvae/token_grid.py",
  "        if self.training:\n            self.step += 1",
  "        if True:\n            self.step += 1",
  "tests/dvae/test_dvae_schedules.py::test_token_dvae_schedule_steps_only_in_training_mode"),
 ("src/genvision/vqvae/model.py",
  "self.recon_var.lerp_(recon.detach(), 1.0 - self.config.decay)",
  "self.recon_var.lerp_(recon.detach(), self.config.decay)",
  "tests/vqvae/test_vqvae_recon_var.py"),
 ("src/genvision/vqvae/model.py",
  "            if self.training:\n                with torch.no_grad():",
  "            if True:\n                with torch.no_grad():",
  "tests/vqvae/test_vqvae_recon_var.py"),
 ("src/genvision/autoregressive/model.py",
  "(exists when p_uncond > 0).\"\"\"\n        return self.config.num_classes\n",
  "(exists when p_uncond > 0).\"\"\"\n        return 0\n",
  "tests/autoregressive/test_ar_null_label_and_input.py::test_null_label_is_the_extra_embedding_row"),
 ("src/genvision/autoregressive/sampling.py",
  "= to_input(v[:, :, i : i + 1, j : j + 1])",
  "= v[:, :, i : i + 1, j : j + 1]",
  "tests/autoregressive/test_ar_null_label_and_input.py::test_sampler_feeds_pixels_back_through_the_input_transform"),
 ("src/genvision/train/checkpoint.py",
  "    bad = first_non_finite(tensors)\n    if bad is not None:\n        raise NonFiniteWeights",
  "    bad = None\n    if bad is not None:\n        raise NonFiniteWeights",
  "tests/train/test_checkpoint_integrity.py::test_diverging_run_stops_and_keeps_its_last_good_checkpoint"),
 ("src/genvision/train/trainer.py",
  "            for orphan in ckpt.clean_orphans(self.run_dir):",
  "            for orphan in []:",
  "tests/train/test_kill_during_write.py::test_kill_between_write_and_rename_leaves_an_orphan_the_next_run_removes"),
 ("src/genvision/train/checkpoint.py",
  "    found = newest_valid_checkpoint(run_dir, warn=warn)\n    if found is None:\n"
  "        raise GenvisionError(f\"run folder",
  "    found = (list_checkpoints(run_dir)[-1], load_checkpoint(list_checkpoints(run_dir)[-1]))\n"
  "    if found is None:\n        raise GenvisionError(f\"run folder",
  "tests/train/test_checkpoint_integrity.py::test_run_folder_falls_back_to_newest_valid_with_a_named_warning"),
 ("src/genvision/train/checkpoint.py",
  "    check_family(found[0], found[1], run_dir)\n    return found",
  "    return found",
  "tests/train/test_checkpoint_integrity.py::test_checkpoint_of_another_family_in_a_run_is_an_error"),
 ("src/genvision/data/idx.py",
  "    if h < 1 or w < 1:",
  "    if False:",
  "tests/train/test_fuzz_files.py::test_idx_with_zero_by_zero_images_is_refused"),
]
results = []
for path, old, new, test in M:
    p = Path(path)
    src = p.read_text()
    assert src.count(old) == 1, (path, old)
    p.write_text(src.replace(old, new))
    try:
        r = subprocess.run([".venv/bin/python", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", test],
                           capture_output=True, text=True, timeout=300)
    finally:
        p.write_text(src)
    status = "CAUGHT" if r.returncode == 1 else f"MISSED(rc={r.returncode})"
    results.append(status)
    print(f"{status:10s} {path}: {old.strip()[:60]!r} -> {new.strip()[:40]!r} | {test}", flush=True)
print(f"{results.count('CAUGHT')}/{len(results)} mutations caught")
