"""Layouts the module type alone does not tell: channels-first LayerNorm subclasses, sequence-first attention.

Every count is checked against a brute force: the module's output captured with a plain forward
hook, its batch moved first and its neurons last by hand, thresholded with the documented rule.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import neurograph as ng
from neurograph.errors import LayerError
from neurograph.recording.plan import preview

pytestmark = pytest.mark.filterwarnings("ignore::neurograph.errors.DegenerateLayerWarning")


def _hooked(model, names, inputs):
    """{name: first output tensor} of one plain forward pass, cloned at hook time."""
    mods = dict(model.named_modules())
    outs, handles = {}, []
    for name in names:
        handles.append(mods[name].register_forward_hook(
            lambda m, i, o, name=name: outs.__setitem__(name, (o[0] if isinstance(o, tuple) else o).clone())))
    try:
        with torch.no_grad():
            model.eval()
            model(inputs)
    finally:
        for h in handles:
            h.remove()
    return outs


def _check(stats, bits: np.ndarray, labels: np.ndarray) -> None:
    b = bits.astype(np.int64)
    assert stats.n_samples == bits.shape[0]
    assert np.array_equal(stats.fire_counts, b.sum(0))
    assert np.array_equal(stats.cofire_counts, b.T @ b)
    for k, c in enumerate(stats.classes):
        assert np.array_equal(stats.class_fire_counts[k], b[labels == c].sum(0))


# ---------------------------------------------------------------------------- channels-first LayerNorm

class LayerNorm2d(nn.LayerNorm):
    """timm's idea: a LayerNorm over the channels of (N, C, H, W), by permuting to channels-last and back."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class _NormNet(nn.Module):
    def __init__(self, c=5, norm=LayerNorm2d):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, padding=1)
        self.norm = norm(c)
        self.act = nn.GELU()
        self.fc = nn.Linear(c, 3)

    def forward(self, x):
        h = self.act(self.norm(self.conv(x)))
        return self.fc(h.mean(dim=(2, 3)))


def _images(n=12, w=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 6, w, generator=g), np.arange(n) % 3


@pytest.mark.parametrize("positions", ["mean", "all"])
def test_timm_like_layernorm2d_reads_channels_brute_force(positions):
    torch.manual_seed(0)
    model = _NormNet(c=5)
    X, y = _images(w=7)
    stats = ng.record(model, (X, y), ["norm", "act"], positions=positions)
    outs = _hooked(model, ["norm", "act"], X)
    if positions == "mean":
        cols = [outs[k].mean(dim=(2, 3)) for k in ("norm", "act")]
        rows = y
    else:
        cols = [outs[k].permute(0, 2, 3, 1).reshape(-1, 5) for k in ("norm", "act")]
        rows = np.repeat(y, 6 * 7)
    bits = (torch.cat(cols, dim=1).double() > 0).numpy()
    _check(stats, bits, rows)
    table = preview(model, (X, y), ["norm", "act"]).table
    assert table["neuron_axis"].tolist() == [1, 1] and table["neurons"].tolist() == [5, 5]


def test_layernorm2d_with_width_equal_to_channels_is_checked_on_the_first_batch():
    torch.manual_seed(0)
    model = _NormNet(c=5)
    X, y = _images(w=5)  # width 5 == channels 5: the shape alone cannot tell
    stats = ng.record(model, (X, y), ["norm", "act"])
    outs = _hooked(model, ["norm", "act"], X)
    bits = (torch.cat([outs[k].mean(dim=(2, 3)) for k in ("norm", "act")], 1).double() > 0).numpy()
    _check(stats, bits, y)
    assert preview(model, (X, y), ["norm"]).table["axis_from"].iloc[0].startswith("LayerNorm2d normalises axis 1")


class RMSNorm2d(nn.RMSNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class Fp32LayerNorm(nn.LayerNorm):
    """OpenCLIP's idea: a LayerNorm computed in float32, on tokens: no permute."""

    def forward(self, x):
        return F.layer_norm(x.float(), self.normalized_shape, self.weight, self.bias, self.eps).to(x.dtype)


def _check_square_channels_first_norm(norm) -> None:
    """A channels-first norm on 5 x 5 maps of 5 channels, and the ReLU after it: counts equal brute force."""
    torch.manual_seed(0)
    model = _NormNet(c=5, norm=norm)
    X, y = _images(w=5)
    stats = ng.record(model, (X, y), ["norm", "act"], positions="all")
    outs = _hooked(model, ["norm", "act"], X)
    bits = (torch.cat([outs[k].permute(0, 2, 3, 1).reshape(-1, 5) for k in ("norm", "act")], 1).double() > 0)
    _check(stats, bits.numpy(), np.repeat(y, 30))


def test_rmsnorm2d_with_width_equal_to_channels_brute_force():
    _check_square_channels_first_norm(RMSNorm2d)


def test_layernorm_subclass_on_tokens_with_length_equal_to_width_stays_on_the_last_axis():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), Fp32LayerNorm(6), nn.ReLU())
    X, y = torch.randn(5, 6, 4), np.arange(5) % 2
    stats = ng.record(model, (X, y), ["1", "2"])
    outs = _hooked(model, ["1", "2"], X)
    bits = (torch.cat([outs[k].reshape(-1, 6) for k in ("1", "2")], 1).double() > 0).numpy()
    _check(stats, bits, np.repeat(y, 6))


class _ScaledLayerNorm2d(LayerNorm2d):
    """Normalises the channels, then doubles: no plain normalisation along one axis reproduces it."""

    def forward(self, x):
        return 2 * super().forward(x)


def test_undecidable_norm_is_refused_then_obeys_neuron_axis():
    torch.manual_seed(0)
    model = _NormNet(c=5, norm=_ScaledLayerNorm2d)
    X, y = _images(w=5)
    with pytest.raises(LayerError, match=r"'norm'.*_ScaledLayerNorm2d.*axes \[1, 3\].*neuron_axis"):
        ng.record(model, (X, y), ["norm"])
    with pytest.raises(LayerError, match=r"'act'.*neuron_axis"):  # the activation after it inherits the doubt
        ng.record(model, (X, y), ["act"])
    stats = ng.record(model, (X, y), ["norm", "act"], neuron_axis={"norm": 1, "act": 1})
    outs = _hooked(model, ["norm", "act"], X)
    bits = (torch.cat([outs[k].mean(dim=(2, 3)) for k in ("norm", "act")], 1).double() > 0).numpy()
    _check(stats, bits, y)
    stats = ng.record(_NormNet(c=5, norm=_ScaledLayerNorm2d), _images(w=7), ["norm"])  # width 7: the shape tells
    assert stats.n_neurons == 5


class _DeclaredLayerNorm(_ScaledLayerNorm2d):
    data_format = "channels_first"


def test_declared_data_format_settles_the_ambiguous_case():
    torch.manual_seed(0)
    model = _NormNet(c=5, norm=_DeclaredLayerNorm)
    X, y = _images(w=5)
    stats = ng.record(model, (X, y), ["norm", "act"])
    assert preview(model, (X, y), ["norm"]).table["axis_from"].iloc[0].endswith("(channels_first)")
    outs = _hooked(model, ["norm", "act"], X)
    bits = (torch.cat([outs[k].mean(dim=(2, 3)) for k in ("norm", "act")], 1).double() > 0).numpy()
    _check(stats, bits, y)


def test_plain_layernorm_on_tokens_stays_on_the_last_axis_when_length_equals_width():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.ReLU())
    X = torch.randn(5, 6, 4)  # 6 tokens of width 6 after the linear: nn.LayerNorm's own forward says last
    y = np.arange(5) % 2
    stats = ng.record(model, (X, y), ["1", "2"])
    outs = _hooked(model, ["1", "2"], X)
    bits = (torch.cat([outs[k].reshape(-1, 6) for k in ("1", "2")], 1).double() > 0).numpy()
    _check(stats, bits, np.repeat(y, 6))


@pytest.mark.hf
def test_hugging_face_convnext_norms_and_the_layers_after_them_brute_force():
    transformers = pytest.importorskip("transformers")  # slow to import (seconds), fast to run
    torch.manual_seed(0)
    cfg = transformers.ConvNextConfig(num_channels=3, patch_size=2, num_stages=2, hidden_sizes=[6, 10],
                                      depths=[1, 1], num_labels=3, image_size=16)
    model = transformers.ConvNextForImageClassification(cfg).eval()
    X = torch.randn(6, 3, 16, 16)
    y = np.arange(6) % 3
    layers = ["convnext.embeddings.layernorm", "convnext.encoder.stages.0.layers.0",
              "convnext.encoder.stages.1.downsampling_layer.0", "convnext.encoder.stages.1.layers.0",
              "convnext.encoder.stages.0.layers.0.layernorm", "convnext.encoder.stages.0.layers.0.act"]
    stats = ng.record(model, (X, y), layers, positions="mean")
    outs = _hooked(model, layers, X)
    channels_last = {"convnext.encoder.stages.0.layers.0.layernorm", "convnext.encoder.stages.0.layers.0.act"}
    cols = [outs[k].mean(dim=(1, 2) if k in channels_last else (2, 3)) for k in layers]
    assert [c.shape[1] for c in cols] == [6, 6, 6, 10, 6, 24]
    _check(stats, (torch.cat(cols, 1).double() > 0).numpy(), y)


# ---------------------------------------------------------------------------- sequence-first attention

class _SeqFirst(nn.Module):
    """(N, T, E) inputs run sequence-first: a TransformerEncoderLayer and an attention with batch_first=False."""

    def __init__(self, e=8):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(e, 2, 16, dropout=0.0, batch_first=False)
        self.attn = nn.MultiheadAttention(e, 2, batch_first=False)
        self.proj = nn.Linear(e, 5)  # no layout of its own: told by the shape
        self.head = nn.Linear(5, 3)

    def forward(self, x):
        h = self.enc(x.transpose(0, 1))
        a, _ = self.attn(h, h, h)
        return self.head(self.proj(a).mean(0))


_SEQ_LAYERS = ["enc.self_attn", "enc.linear1", "enc.linear2", "enc", "attn"]


@pytest.mark.parametrize("n,t", [(4, 5), (5, 5)])
def test_sequence_first_attention_reads_time_as_positions_brute_force(n, t):
    torch.manual_seed(0)
    model = _SeqFirst()
    X = torch.randn(n, t, 8)
    y = np.arange(n) % 3
    stats = ng.record(model, (X, y), _SEQ_LAYERS, rule="threshold", threshold=0.1)
    outs = _hooked(model, _SEQ_LAYERS, X)
    cols = [outs[k].transpose(0, 1).reshape(n * t, -1) for k in _SEQ_LAYERS]  # (T, N, F) -> rows of one input
    bits = (torch.cat(cols, 1).double() > 0.1).numpy()
    _check(stats, bits, np.repeat(y, t))
    assert list(stats.neurons["layer"].value_counts(sort=False)) == [8, 16, 8, 8, 8]


def test_sequence_first_last_position_is_the_last_time_step():
    torch.manual_seed(0)
    model = _SeqFirst()
    X = torch.randn(5, 5, 8)
    y = np.arange(5) % 2
    stats = ng.record(model, (X, y), ["enc", "attn"], positions="last")
    outs = _hooked(model, ["enc", "attn"], X)
    bits = (torch.cat([outs[k][-1] for k in ("enc", "attn")], 1).double() > 0).numpy()
    _check(stats, bits, y)


def test_layout_fixed_on_the_first_batch_holds_when_a_later_batch_has_length_equal_to_its_size():
    torch.manual_seed(0)
    model = _SeqFirst()
    X = torch.randn(9, 4, 8)  # batches of 5 and 4 inputs, 4 time steps: the second batch is square
    y = np.arange(9) % 3
    stats = ng.record(model, (X, y), ["proj"], batch_size=5)
    outs = _hooked(model, ["proj"], X)
    bits = (outs["proj"].transpose(0, 1).reshape(-1, 5).double() > 0).numpy()
    _check(stats, bits, np.repeat(y, 4))


def test_undeclared_layer_with_length_equal_to_batch_is_told_by_a_smaller_dry_batch():
    torch.manual_seed(0)
    model = _SeqFirst()
    X, y = torch.randn(5, 5, 8), np.arange(5) % 2
    stats = ng.record(model, (X, y), ["enc", "proj"])
    outs = _hooked(model, ["enc", "proj"], X)
    bits = (torch.cat([outs[k].transpose(0, 1).reshape(25, -1) for k in ("enc", "proj")], 1).double() > 0).numpy()
    _check(stats, bits, np.repeat(y, 5))


class _TimeFirstByHand(nn.Module):
    """FSMT's idea: no batch_first anywhere, but (N, T, E) is transposed to (T, N, E) inside."""

    def __init__(self, fixed_batch=None):
        super().__init__()
        self.fixed_batch = fixed_batch
        self.fc = nn.Linear(6, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        if self.fixed_batch is not None and x.shape[0] != self.fixed_batch:
            raise ValueError(f"this model takes batches of {self.fixed_batch}")
        h = torch.relu(self.fc(x.transpose(0, 1)))  # (T, N, 4)
        h = h - h[:1]  # positions differ from each other, so reading time as batch would be caught
        return self.head(h.mean(0))


def test_hand_transposed_time_first_with_length_equal_to_batch_brute_force():
    torch.manual_seed(0)
    model = _TimeFirstByHand()
    X, y = torch.randn(6, 6, 6), np.arange(6) % 2
    stats = ng.record(model, (X, y), ["fc"])
    outs = _hooked(model, ["fc"], X)
    _check(stats, (outs["fc"].transpose(0, 1).reshape(36, 4).double() > 0).numpy(), np.repeat(y, 6))


def test_batch_axis_that_no_dry_batch_can_tell_is_refused():
    torch.manual_seed(0)
    X, y = torch.randn(5, 5, 6), np.arange(5) % 2
    model = _TimeFirstByHand(fixed_batch=5)  # refuses the smaller batch; no batch_first anywhere
    stats = ng.record(model, (X, y), ["fc"])  # batch-first by default, as documented
    assert stats.n_samples == 25

    class _WithAttention(_TimeFirstByHand):
        def __init__(self):
            super().__init__(fixed_batch=5)
            self.attn = nn.MultiheadAttention(4, 2)  # batch_first=False: the default is no longer safe

    with pytest.raises(LayerError, match=r"batch axis of layer 'fc'.*batch of 4 did not run.*batch_size"):
        ng.record(_WithAttention(), (X, y), ["fc"])


def test_sequence_first_lstm_output_fed_to_a_linear():
    torch.manual_seed(0)

    class _Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(3, 6)  # batch_first=False
            self.fc = nn.Linear(6, 4)

        def forward(self, x):
            out, _ = self.rnn(x.transpose(0, 1))
            return self.fc(out)[-1]

    model = _Net()
    X, y = torch.randn(4, 7, 3), np.arange(4) % 2
    stats = ng.record(model, (X, y), ["rnn", "fc"])
    outs = _hooked(model, ["rnn", "fc"], X)
    bits = (torch.cat([outs[k].transpose(0, 1).reshape(28, -1) for k in ("rnn", "fc")], 1).double() > 0).numpy()
    _check(stats, bits, np.repeat(y, 7))
    X, y = torch.randn(7, 7, 3), np.arange(7) % 2  # time == batch: a smaller dry batch tells
    stats = ng.record(model, (X, y), ["fc"])
    outs = _hooked(model, ["fc"], X)
    _check(stats, (outs["fc"].transpose(0, 1).reshape(49, -1).double() > 0).numpy(), np.repeat(y, 7))


def test_nested_tensor_fast_path_is_refused_with_the_way_out():
    torch.manual_seed(0)

    class _Padded(nn.Module):
        def __init__(self, nested):
            super().__init__()
            layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
            self.enc = nn.TransformerEncoder(layer, 1, enable_nested_tensor=nested)
            self.head = nn.Linear(8, 3)

        def forward(self, x, mask):
            return self.head(self.enc(x, src_key_padding_mask=mask == 0).mean(1))

    X, mask = torch.randn(4, 5, 8), torch.ones(4, 5, dtype=torch.long)
    mask[:2, 3:] = 0
    data = [((X, mask), np.arange(4) % 2)]
    with warnings.catch_warnings(), pytest.raises(LayerError, match=r"'enc\.layers\.0\.linear1'.*nested "
                                                                    r"tensors.*enable_nested_tensor=False"):
        warnings.simplefilter("ignore")  # torch's note that nested tensors are a prototype
        ng.record(_Padded(True), data, ["enc.layers.0.linear1"])
    model = _Padded(False)
    stats = ng.record(model, data, ["enc.layers.0.linear1"])
    outs = _hooked_call(model, "enc.layers.0.linear1", (X, mask))
    _check(stats, (outs.reshape(20, 16).double() > 0).numpy(), np.repeat(np.arange(4) % 2, 5))


def _hooked_call(model, name, args):
    box = []
    h = dict(model.named_modules())[name].register_forward_hook(lambda m, i, o: box.append(o.clone()))
    try:
        with torch.no_grad():
            model.eval()
            model(*args)
    finally:
        h.remove()
    return box[0]


def test_bf16_layernorm2d_with_width_equal_to_channels_brute_force():
    torch.manual_seed(0)
    model = _NormNet(c=5).to(torch.bfloat16)
    X, y = _images(w=5)
    stats = ng.record(model, (X, y), ["norm"], rule="threshold", threshold=0.1, positions="all")
    outs = _hooked(model, ["norm"], X.to(torch.bfloat16))
    _check(stats, (outs["norm"].permute(0, 2, 3, 1).reshape(-1, 5).double() > 0.1).numpy(), np.repeat(y, 30))


def test_preview_says_sequence_first():
    torch.manual_seed(0)
    table = preview(_SeqFirst(), (torch.randn(4, 5, 8), None), ["enc.linear1", "proj"]).table
    assert table["output_shape"].tolist() == [(5, 16), (5, 5)]
    assert table["axis_from"].str.contains("sequence-first").all() and table["neuron_axis"].tolist() == [2, 2]


class _ConvNextLikeBlock(nn.Module):
    """ConvNeXt's block: channels-last MLP between two permutes, then a residual sum through an Identity."""

    def __init__(self, c):
        super().__init__()
        self.dwconv = nn.Conv2d(c, c, 3, padding=1, groups=c)
        self.pw = nn.Linear(c, c)
        self.drop_path = nn.Identity()

    def forward(self, x):
        h = self.pw(self.dwconv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return x + self.drop_path(h)


def test_identity_fed_by_a_permute_in_a_cube_shaped_map_is_refused_not_guessed():
    torch.manual_seed(0)
    model = _ConvNextLikeBlock(4)
    X = torch.randn(6, 4, 5, 3)  # channels 4, height 5, width 3: the shape tells
    y = np.arange(6) % 2
    stats = ng.record(model, (X, y), ["drop_path"])
    outs = _hooked(model, ["drop_path"], X)
    _check(stats, (outs["drop_path"].mean(dim=(2, 3)).double() > 0).numpy(), y)
    X = torch.randn(6, 4, 4, 4)  # channels == height == width: the latest same-shaped output (pw's) cannot tell
    with pytest.raises(LayerError, match=r"'drop_path'.*more than one axis.*neuron_axis"):
        ng.record(model, (X, y), ["drop_path"])
    stats = ng.record(model, (X, y), ["drop_path"], neuron_axis=1)
    outs = _hooked(model, ["drop_path"], X)
    _check(stats, (outs["drop_path"].mean(dim=(2, 3)).double() > 0).numpy(), y)


class _PlainModuleNorm(nn.Module):
    """A LayerNorm written from scratch (not an nn.LayerNorm), channels-first, declaring its format."""

    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.linspace(0.5, 1.5, c))
        self.bias = nn.Parameter(torch.linspace(-0.2, 0.2, c))
        self.normalized_shape = (c,)
        self.data_format = "channels_first"

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        return self.weight[:, None, None] * (x - u) / torch.sqrt(s + 1e-6) + self.bias[:, None, None]


def test_from_scratch_norm_with_normalized_shape_and_data_format_brute_force():
    _check_square_channels_first_norm(_PlainModuleNorm)


def test_conv1d_and_groupnorm_with_channels_length_and_batch_all_equal_brute_force():
    torch.manual_seed(0)

    class _Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(3, 6, 3, padding=1)  # (N, 6, 6) for N = 6 inputs of length 6
            self.gn = nn.GroupNorm(2, 6)
            self.attn = nn.MultiheadAttention(6, 2)  # batch_first=False somewhere in the model
            self.head = nn.Linear(6, 2)

        def forward(self, x):
            h = self.gn(self.conv(x))
            a, _ = self.attn(h.permute(2, 0, 1), h.permute(2, 0, 1), h.permute(2, 0, 1))
            return self.head(a.mean(0))

    model = _Net()
    X, y = torch.randn(6, 3, 6), np.arange(6) % 2
    stats = ng.record(model, (X, y), ["conv", "gn"], positions="all")
    outs = _hooked(model, ["conv", "gn"], X)
    bits = (torch.cat([outs[k].transpose(1, 2).reshape(36, 6) for k in ("conv", "gn")], 1).double() > 0).numpy()
    _check(stats, bits, np.repeat(y, 6))
    assert preview(model, (X, y), ["conv", "gn"]).table["neuron_axis"].tolist() == [1, 1]
