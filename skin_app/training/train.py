"""Trains the six-channel UNet-ResNet34 on a pack made by ``pack.py`` (PyTorch; GPU if present).

    python -m skin_app.training.train --pack packs/train_384.npz --out runs/r1 --minutes 7
    python -m skin_app.training.train --pack packs/train_384.npz --out runs/r1 --minutes 7 --resume

Loss, per channel and per sample, only where that sample's dataset labels the channel:
  * code 0/1 pixels: weighted binary cross-entropy + soft Dice (thin, rare targets need Dice);
  * code 2 pixels (inside a detection box: "the target is somewhere in here"): multiple-instance
    loss: the top ``WEAK_FRACTION[channel]`` share of the box's pixels should be positive, the rest
    of the box is left free;
  * code 255: ignored.
Batches mix the datasets with fixed shares (``DATASET_SHARE``), so small sets are seen often.
Augmentation runs on the GPU and keeps labels aligned: flips (our six channels have no left/right
variants, so a flip needs no channel swap), rotation, scale, shift, colour, white balance, gamma,
blur and noise. Training stops after ``--minutes``; checkpoints every 90 s; ``--resume`` continues.
Tone augmentation (``--tone-aug P``, on the CPU before the rest): with probability P a sample's skin
is moved to a random ITA (-45 to 60 deg) inside its labelled face-skin mask, or the whole photo's
lightness is scaled where the set labels no skin (``tone_aug.random_tone``); lesion labels stay.
Packs made with ``pack --hard-negatives`` add acne / dark-spot negatives on hair, brows, background.
Re-shot consistency (``--consistency W``): every augmented photo also goes through as a simulated
re-shot of itself (``reshoot_jitter``: exposure x0.85-1.15, white balance R x(1+t) B x(1-t) with
|t| <= 0.10, sometimes a JPEG-like softening and sensor noise; the same pixels, so the same labels),
both are supervised, and W x the mean absolute difference of the two concern probability maps is
added (``consistency_loss``): the display scores of the same face must not move between re-shots
(bench/noise_band.py measures it; the shipped model moves acne by 6.7 points at p95).

Where it trains: CUDA when present, else the CPU (``--threads``). For a CPU fine-tune start from the
shipped weights (``--init models/skin_unet_resnet34.npz``), train on random ``--crop`` px windows of
the packed photos (lesions keep their size) and keep batch-norm statistics fixed (``--freeze-bn``:
batches of a few photos give poor statistics).
Outputs: ``ckpt.pt`` (resumable), ``weights_part*.npz`` (Keras-layout arrays for ``export.py``),
``log.jsonl`` and ``val_torch.json`` (a quick GPU-side check; the real metrics come from evaluate.py).
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from skin_app.concerns import CHANNELS, CONCERNS
from skin_app.training import recipe
from skin_app.training.pack import load_pack_arrays
from skin_app.training.tone_aug import random_tone
from skin_app.training.torch_unet import UnetResNet34, keras_weight_arrays, load_keras_weight_arrays

POS_WEIGHT = torch.tensor(recipe.POS_WEIGHT)
CHANNEL_WEIGHT = torch.tensor(recipe.CHANNEL_WEIGHT)
WEAK_FRACTION = torch.tensor(recipe.WEAK_FRACTION)


def load_pack_tensors(path: Path, split: str | None):
    images, codes, datasets, names = load_pack_arrays(path, split)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(codes), datasets, names


def sampling_weights(datasets: list[str]) -> torch.Tensor:
    return torch.from_numpy(recipe.sampling_weights(datasets))


def augment(img: torch.Tensor, codes: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """img uint8 (B,3,S,S), codes uint8 (B,6,S,S) on the device -> float image 0-255, uint8 codes."""
    b, _, s, _ = img.shape
    dev = img.device
    r = lambda *shape: torch.rand(*shape, generator=gen, device=dev)  # noqa: E731
    angle = (r(b) - 0.5) * 2 * math.radians(18)
    scale = torch.exp((r(b) - 0.5) * 2 * math.log(1.3))
    flip = torch.where(r(b) < 0.5, -1.0, 1.0)
    tx, ty = (r(b) - 0.5) * 0.16, (r(b) - 0.5) * 0.16
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, [b, 3, s, s], align_corners=False)
    x = F.grid_sample(img.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    c = F.grid_sample(codes.float() + 1, grid, mode="nearest", padding_mode="zeros", align_corners=False) - 1
    c = torch.where(c < 0, torch.full_like(c, 255), c).to(torch.uint8)
    # Photometric: brightness, contrast, saturation, white balance, gamma.
    x = x / 255.0
    gray = x.mean(1, keepdim=True)
    sat = (0.6 + 0.8 * r(b)).view(b, 1, 1, 1)
    x = gray + (x - gray) * sat
    mean = x.mean((1, 2, 3), keepdim=True)
    x = mean + (x - mean) * (0.7 + 0.6 * r(b)).view(b, 1, 1, 1)
    x = x * (0.6 + 0.8 * r(b)).view(b, 1, 1, 1) * (0.9 + 0.2 * r(b, 3)).view(b, 3, 1, 1)
    x = x.clamp(0, 1) ** torch.exp((r(b) - 0.5) * 0.5).view(b, 1, 1, 1)
    blur = (r(b) < 0.15).view(b, 1, 1, 1)
    x = torch.where(blur, F.avg_pool2d(x, 3, 1, 1), x)
    noisy = (r(b) < 0.3).view(b, 1, 1, 1)
    x = torch.where(noisy, x + torch.randn(x.shape, generator=gen, device=dev) * 0.02 * r(b).view(b, 1, 1, 1), x)
    return (x.clamp(0, 1) * 255.0), c


def reshoot_jitter(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """float 0-255 (B,3,S,S) -> the same photos as a re-shot would give them: the photometric part of
    bench/noise_band.py's re-shots (exposure, white balance, JPEG 70 approximated by a light blur and
    noise). Geometry is untouched, so the labels of ``x`` hold."""
    b = x.shape[0]
    dev = x.device
    r = lambda *shape: torch.rand(*shape, generator=gen, device=dev)  # noqa: E731
    exposure = (1 - recipe.RESHOT_EXPOSURE + 2 * recipe.RESHOT_EXPOSURE * r(b)).view(b, 1, 1, 1)
    t = (r(b) - 0.5) * 2 * recipe.RESHOT_WHITE_BALANCE
    balance = torch.stack([1 + t, torch.ones_like(t), 1 - t], 1).view(b, 3, 1, 1)
    y = x * exposure * balance
    soft = (r(b) < 0.5).view(b, 1, 1, 1)
    y = torch.where(soft, 0.5 * y + 0.5 * F.avg_pool2d(y, 3, 1, 1), y)
    y = y + torch.randn(y.shape, generator=gen, device=dev) * 2.0 * r(b).view(b, 1, 1, 1)
    return y.clamp(0, 255)


CONCERN_CHANNELS = [CHANNELS.index(c) for c in CONCERNS]


def consistency_loss(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the concern probabilities of a photo and its re-shot (face skin
    and eye are left to the supervised loss: the scores are computed from the concern channels)."""
    ch = CONCERN_CHANNELS
    return (torch.sigmoid(logits_a[:, ch].float()) - torch.sigmoid(logits_b[:, ch].float())).abs().mean()


def masked_loss(logits: torch.Tensor, codes: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    logits = logits.float()
    dev = logits.device
    pos = codes == 1
    neg = codes == 0
    weak = codes == 2
    lab = (pos | neg).float()
    target = pos.float()
    pw = POS_WEIGHT.to(dev).view(1, -1, 1, 1)
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    w = lab * torch.where(pos, pw, torch.ones_like(pw))
    per_ch_bce = (w * bce).sum((0, 2, 3)) / lab.sum((0, 2, 3)).clamp_min(1.0)
    p = torch.sigmoid(logits)
    inter = (p * target * lab).sum((0, 2, 3))
    denom = (p * lab).sum((0, 2, 3)) + target.sum((0, 2, 3))
    # Dice only where the batch holds positives of that channel (otherwise it only pushes to zero).
    has_pos = target.sum((0, 2, 3)) > 0
    dice = torch.where(has_pos, 1 - (2 * inter + 1) / (denom + 1), torch.zeros_like(inter))
    labelled = lab.sum((0, 2, 3)) > 0
    cw = CHANNEL_WEIGHT.to(dev)
    loss = ((per_ch_bce + dice) * cw * labelled).sum()
    # Multiple-instance loss inside boxes.
    mil_terms = []
    wf = WEAK_FRACTION.to(dev)
    counts = weak.sum((2, 3))
    for bi, ci in torch.nonzero(counts > 0).tolist():
        n = int(counts[bi, ci])
        k = max(1, int(n * float(wf[ci])))
        vals = logits[bi, ci][weak[bi, ci]]
        top = torch.topk(vals, k).values
        mil_terms.append(F.binary_cross_entropy_with_logits(top, torch.ones_like(top)))
    mil = torch.stack(mil_terms).mean() if mil_terms else logits.sum() * 0
    loss = loss + recipe.MIL_WEIGHT * mil
    stats = {"bce": per_ch_bce.detach(), "dice": dice.detach(), "labelled": labelled, "has_pos": has_pos,
             "mil": mil.detach()}
    return loss, stats


def stats_record(stats: dict) -> dict[str, float]:
    rec = {f"bce_{CHANNELS[i]}": round(float(stats["bce"][i]), 4) for i in range(6) if stats["labelled"][i]}
    rec.update({f"dice_{CHANNELS[i]}": round(float(stats["dice"][i]), 4) for i in range(6) if stats["has_pos"][i]})
    rec["mil"] = round(float(stats["mil"]), 4)
    if "consistency" in stats:
        rec["consistency"] = round(float(stats["consistency"]), 5)
    return rec


@torch.no_grad()
def quick_validation(model, images, codes, datasets, device, batch: int = 16) -> list[dict]:
    """IoU on labelled pixels per dataset and channel (threshold 0.5). A GPU-side sanity check only."""
    model.eval()
    acc: dict[tuple[str, str], list[float]] = {}
    for i in range(0, len(images), batch):
        x = images[i:i + batch].to(device).float()
        c = codes[i:i + batch].to(device)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            pred = torch.sigmoid(model(x).float()) > 0.5
        for j in range(x.shape[0]):
            for ch in range(6):
                lab = (c[j, ch] == 0) | (c[j, ch] == 1)
                if not lab.any():
                    continue
                t = (c[j, ch] == 1) & lab
                pr = pred[j, ch] & lab
                key = (datasets[i + j], CHANNELS[ch])
                a = acc.setdefault(key, [0.0, 0.0])
                a[0] += float((t & pr).sum())
                a[1] += float((t | pr).sum())
    model.train()
    return [{"dataset": d, "target": ch, "iou": v[0] / max(v[1], 1.0)} for (d, ch), v in sorted(acc.items())]


def save_keras_weights(model: UnetResNet34, out: Path, parts: int = 4) -> None:
    arrays = keras_weight_arrays(model)
    keys = list(arrays)
    for p in range(parts):
        np.savez(out / f"weights_part{p}.npz", **{k: arrays[k] for k in keys[p::parts]})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True)
    ap.add_argument("--val-pack", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=7.0)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: time only)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--ckpt-dir", type=Path, help="where ckpt.pt goes (default: --out)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", type=Path, help="start from these Keras-layout weights (e.g. the shipped .npz)")
    ap.add_argument("--tone-aug", type=float, default=0.0, help="share of samples whose skin tone is changed")
    ap.add_argument("--crop", type=int, default=0, help="train on random windows of this size (0: whole photos)")
    ap.add_argument("--freeze-bn", action="store_true", help="keep batch-norm statistics (small batches)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    ap.add_argument("--warmup", type=int, default=200, help="warm-up steps")
    ap.add_argument("--ckpt-every", type=float, default=90.0, help="seconds between checkpoints")
    ap.add_argument("--consistency", type=float, default=0.0,
                    help="weight of the re-shot consistency term (0: off); doubles each step's images")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    a.out.mkdir(parents=True, exist_ok=True)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    t_load = time.time()
    images, codes, datasets, _ = load_pack_tensors(a.pack, "train")
    weights = sampling_weights(datasets)
    images, codes = images.to(device), codes.to(device)
    print(f"loaded {len(datasets)} training samples in {time.time() - t_load:.1f}s on {device}", flush=True)

    torch.manual_seed(a.seed)
    model = UnetResNet34()
    if a.init:
        with np.load(a.init) as z:
            load_keras_weight_arrays(model, {k: z[k] for k in z.files})
        print(f"started from {a.init}", flush=True)
    model = model.to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=a.lr, weight_decay=1e-4)
    step, elapsed = 0, 0.0
    ckpt_dir = a.ckpt_dir or a.out
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = ckpt_dir / "ckpt.pt"
    if a.resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, map_location=device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, elapsed = ck["step"], ck["elapsed"]
        print(f"resumed at step {step}, {elapsed:.0f}s trained", flush=True)
    budget = a.minutes * 60
    gen = torch.Generator(device=device)
    gen.manual_seed(a.seed + step)
    log = open(a.out / "log.jsonl", "a")
    start = time.time() - elapsed
    last_ckpt = time.time()
    set_train_mode(model, a.freeze_bn)
    rng = np.random.default_rng(a.seed + step)
    while True:
        elapsed = time.time() - start
        if elapsed >= budget or (a.max_steps and step >= a.max_steps):
            break
        progress = elapsed / budget
        lr = a.lr * min(1.0, (step + 1) / max(a.warmup, 1)) * 0.5 * (1 + math.cos(math.pi * progress))
        for g in opt.param_groups:
            g["lr"] = lr
        idx = torch.multinomial(weights, a.batch, replacement=True).to(device)
        batch_images = images[idx]
        if a.tone_aug > 0:
            batch_images = tone_augment(batch_images, codes[idx], a.tone_aug, rng)
        x, c = augment(batch_images, codes[idx], gen)
        if a.crop:
            x, c = random_window(x, c, a.crop, rng)
        if a.consistency > 0:
            x, c = torch.cat([x, reshoot_jitter(x, gen)]), torch.cat([c, c])
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(x)
        loss, stats = masked_loss(logits, c)
        if a.consistency > 0:
            half = logits.shape[0] // 2
            term = consistency_loss(logits[:half], logits[half:])
            stats["consistency"] = term.detach()
            loss = loss + a.consistency * term
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        if step % 50 == 0 or step == 1:
            rec = {"step": step, "elapsed": round(elapsed, 1), "lr": lr, "loss": float(loss.detach()), **stats_record(stats)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
        if time.time() - last_ckpt > a.ckpt_every:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                        "elapsed": time.time() - start}, ckpt_path)
            save_keras_weights(model, a.out)   # usable weights even if the run is cut off
            last_ckpt = time.time()
    # Re-estimate batch-norm statistics on clean (unaugmented) batches: training ran on augmented
    # colours, and the running means lag behind the last weights.
    if not a.freeze_bn:
        bn_recalibrate(model, images, weights, device)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": elapsed}, ckpt_path)
    save_keras_weights(model, a.out)
    summary = {"steps": step, "seconds": round(elapsed, 1), "samples_seen": step * a.batch}
    if a.val_pack and a.val_pack.exists():
        vi, vc, vd, _ = load_pack_tensors(a.val_pack, "val")
        summary["val_torch"] = quick_validation(model, vi, vc, vd, device)
    (a.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary), flush=True)


def set_train_mode(model: torch.nn.Module, freeze_bn: bool) -> None:
    model.train()
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.eval()


def tone_augment(images: torch.Tensor, codes: torch.Tensor, share: float, rng: np.random.Generator) -> torch.Tensor:
    """uint8 (B,3,S,S) -> the same with the skin tone of about ``share`` of the photos changed."""
    out = images.clone()
    skin_ch = CHANNELS.index("face_skin")
    for i in range(images.shape[0]):
        if rng.random() >= share:
            continue
        rgb = images[i].permute(1, 2, 0).cpu().numpy()
        skin = (codes[i, skin_ch] == 1).cpu().numpy()
        new = random_tone(np.ascontiguousarray(rgb), skin if skin.any() else None, rng)
        out[i] = torch.from_numpy(new).permute(2, 0, 1).to(images.device)
    return out


def random_window(x: torch.Tensor, c: torch.Tensor, size: int, rng: np.random.Generator):
    """One random size x size window of the whole batch (same place for every photo: cheap, and the
    batch still mixes datasets)."""
    s = x.shape[-1]
    if size >= s:
        return x, c
    top, left = (int(v) for v in rng.integers(0, s - size + 1, 2))
    return x[..., top:top + size, left:left + size].contiguous(), c[..., top:top + size, left:left + size].contiguous()


@torch.no_grad()
def bn_recalibrate(model, images, weights, device, batches: int = 40, batch: int = 32) -> None:
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None     # cumulative average over the recalibration batches
    model.train()
    gen = torch.Generator().manual_seed(1)
    for _ in range(batches):
        idx = torch.multinomial(weights, batch, replacement=True, generator=gen).to(device)
        x = images[idx].float().contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            model(x)
    model.eval()


if __name__ == "__main__":
    main()
