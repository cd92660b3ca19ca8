"""A PyTorch twin of ``segmentation_models.Unet('resnet34', classes=6)``, layer for layer.

Why it exists: the GPU machines we can borrow carry PyTorch, not TensorFlow, and a TensorFlow wheel
is far too large to bring along. The twin reproduces the Keras graph exactly (the classification_models
pre-activation ResNet34 with its ``bn_data`` input normalisation, explicit zero padding, the
UpSampling2D + two Conv-BN-ReLU decoder blocks), and names every weight after its Keras layer, so
trained weights drop into the Keras model unchanged (``export.py`` checks that both give the same
output). This module imports torch; the app never imports it.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ENCODER_EPS = 2e-5      # classification_models get_bn_params
DECODER_EPS = 1e-3      # Keras BatchNormalization default (segmentation_models Conv2dBn)


class _Named(nn.Module):
    """Keeps (keras_layer_name, module, kind) for every weight-carrying layer, in creation order."""

    def __init__(self) -> None:
        super().__init__()
        self.keras_layers: list[tuple[str, nn.Module, str]] = []

    def conv(self, name: str, cin: int, cout: int, k: int, stride: int = 1, padding: int = 0, bias: bool = False):
        m = nn.Conv2d(cin, cout, k, stride, padding, bias=bias)
        nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
        self.add_module(name, m)
        self.keras_layers.append((name, m, "conv"))
        return m

    def bn(self, name: str, c: int, eps: float, scale: bool = True):
        m = nn.BatchNorm2d(c, eps=eps, momentum=0.05)
        if not scale:
            m.weight.requires_grad_(False)   # Keras scale=False: gamma fixed at 1
        self.add_module(name, m)
        self.keras_layers.append((name, m, "bn" if scale else "bn_noscale"))
        return m


class UnetResNet34(_Named):
    def __init__(self, classes: int = 6) -> None:
        super().__init__()
        self.bn_data = self.bn("bn_data", 3, ENCODER_EPS, scale=False)
        self.conv0 = self.conv("conv0", 3, 64, 7, 2, 3)
        self.bn0 = self.bn("bn0", 64, ENCODER_EPS)
        self.blocks: list[tuple[str, int, int, int, bool]] = []
        cin = 64
        for stage, reps in enumerate((3, 4, 6, 3)):
            cout = 64 * 2 ** stage
            for unit in range(reps):
                base = f"stage{stage + 1}_unit{unit + 1}_"
                stride = 2 if (unit == 0 and stage > 0) else 1
                post = unit == 0
                self.bn(base + "bn1", cin, ENCODER_EPS)
                self.conv(base + "conv1", cin, cout, 3, stride, 1)
                self.bn(base + "bn2", cout, ENCODER_EPS)
                self.conv(base + "conv2", cout, cout, 3, 1, 1)
                if post:
                    self.conv(base + "sc", cin, cout, 1, stride, 0)
                self.blocks.append((base, cin, cout, stride, post))
                cin = cout
        self.bn(  "bn1", 512, ENCODER_EPS)
        skip_channels = (256, 128, 64, 64, 0)
        cin = 512
        for i, filters in enumerate((256, 128, 64, 32, 16)):
            self.conv(f"decoder_stage{i}a_conv", cin + skip_channels[i], filters, 3, 1, 1)
            self.bn(f"decoder_stage{i}a_bn", filters, DECODER_EPS)
            self.conv(f"decoder_stage{i}b_conv", filters, filters, 3, 1, 1)
            self.bn(f"decoder_stage{i}b_bn", filters, DECODER_EPS)
            cin = filters
        self.final_conv = self.conv("final_conv", 16, classes, 3, 1, 1, bias=True)
        nn.init.xavier_uniform_(self.final_conv.weight)
        nn.init.zeros_(self.final_conv.bias)

    def _m(self, name: str) -> nn.Module:
        return getattr(self, name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: float (B, 3, H, W) with raw 0-255 RGB values. Returns logits (B, classes, H, W)."""
        x = self.bn_data(x)
        x = F.relu(self.bn0(self.conv0(x)))
        skips = {"relu0": x}
        x = F.max_pool2d(x, 3, 2, 1)   # zero vs -inf padding is the same after ReLU
        for base, _cin, _cout, _stride, post in self.blocks:
            y = F.relu(self._m(base + "bn1")(x))
            if post:
                skips[base + "relu1"] = y
                shortcut = self._m(base + "sc")(y)
            else:
                shortcut = x
            z = self._m(base + "conv1")(y)
            z = F.relu(self._m(base + "bn2")(z))
            z = self._m(base + "conv2")(z)
            x = z + shortcut
        x = F.relu(self._m("bn1")(x))
        order = ("stage4_unit1_relu1", "stage3_unit1_relu1", "stage2_unit1_relu1", "relu0", None)
        for i, skip in enumerate(order):
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            if skip is not None:
                x = torch.cat([x, skips[skip]], dim=1)
            x = F.relu(self._m(f"decoder_stage{i}a_bn")(self._m(f"decoder_stage{i}a_conv")(x)))
            x = F.relu(self._m(f"decoder_stage{i}b_bn")(self._m(f"decoder_stage{i}b_conv")(x)))
        return self.final_conv(x)


def keras_weight_arrays(model: UnetResNet34) -> dict[str, np.ndarray]:
    """Weights keyed "<keras layer>/<index in layer.get_weights()>", in Keras layouts.
    Conv kernels are float16 (what we ship); biases and batch-norm statistics stay float32."""
    out: dict[str, np.ndarray] = {}
    for name, m, kind in model.keras_layers:
        if kind == "conv":
            out[f"{name}/0"] = m.weight.detach().float().permute(2, 3, 1, 0).cpu().numpy().astype(np.float16)
            if m.bias is not None:
                out[f"{name}/1"] = m.bias.detach().float().cpu().numpy()
        else:
            arrays = [m.bias, m.running_mean, m.running_var]
            if kind == "bn":
                arrays = [m.weight] + arrays
            for j, a in enumerate(arrays):
                out[f"{name}/{j}"] = a.detach().float().cpu().numpy()
    return out


def load_keras_weight_arrays(model: UnetResNet34, arrays: dict[str, np.ndarray]) -> None:
    """The inverse of :func:`keras_weight_arrays`: starts the twin from shipped weights (a ``.npz`` as
    ``models/skin_unet_resnet34.npz``). Every array must be there and of the right shape."""
    with torch.no_grad():
        for name, m, kind in model.keras_layers:
            if kind == "conv":
                targets = [(m.weight, lambda a: a.transpose(3, 2, 0, 1))]
                if m.bias is not None:
                    targets.append((m.bias, lambda a: a))
            else:
                targets = [(t, lambda a: a) for t in (m.bias, m.running_mean, m.running_var)]
                if kind == "bn":
                    targets.insert(0, (m.weight, lambda a: a))
            for j, (tensor, layout) in enumerate(targets):
                key = f"{name}/{j}"
                if key not in arrays:
                    raise KeyError(f"{key} is missing from the weights")
                a = np.ascontiguousarray(layout(np.asarray(arrays[key], np.float32)))
                if tuple(a.shape) != tuple(tensor.shape):
                    raise ValueError(f"{key}: shape {a.shape}, the twin expects {tuple(tensor.shape)}")
                tensor.copy_(torch.from_numpy(a))
