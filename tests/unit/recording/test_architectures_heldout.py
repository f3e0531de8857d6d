"""Held-out architectures: Hugging Face ConvNeXt / Swin (channels-last maps inside blocks), GPT-2 with
left and right padding, torch's sequence-first recurrent and decoder layers, and sequence-first inputs.

Counts are checked against a brute force: outputs captured with a plain forward hook (or recomputed),
batch moved first and neurons last by hand, thresholded with the documented rule in float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import neurograph as ng
from neurograph.errors import LayerError
from neurograph.recording.plan import preview

pytestmark = pytest.mark.filterwarnings("ignore::neurograph.errors.DegenerateLayerWarning")
transformers = pytest.importorskip("transformers")


def _hooked(model, names, call):
    mods = dict(model.named_modules())
    outs, handles = {}, []
    for name in names:
        handles.append(mods[name].register_forward_hook(
            lambda m, i, o, name=name: outs.__setitem__(name, (o[0] if isinstance(o, tuple) else o).clone())))
    try:
        with torch.no_grad():
            model.eval()
            call()
    finally:
        for h in handles:
            h.remove()
    return outs


def _check(stats, bits: np.ndarray, labels=None) -> None:
    b = np.asarray(bits).astype(np.int64)
    assert stats.n_samples == b.shape[0]
    assert np.array_equal(stats.fire_counts, b.sum(0))
    assert np.array_equal(stats.cofire_counts, b.T @ b)
    if labels is not None:
        for k, c in enumerate(stats.classes):
            assert np.array_equal(stats.class_fire_counts[k], b[np.asarray(labels) == c].sum(0))


def _mean_bits(outs, layout):
    """Per-input means over positions, neurons on ``layout[name]``, thresholded at 0 in float64."""
    cols = []
    for name, ax in layout.items():
        o = outs[name].double().movedim(ax, -1)
        cols.append(o.reshape(o.shape[0], -1, o.shape[-1]).mean(1))
    return (torch.cat(cols, 1) > 0).numpy()


def test_hf_convnext_reads_channels_last_block_internals_on_the_last_axis():
    torch.manual_seed(0)
    cfg = transformers.ConvNextConfig(num_channels=3, hidden_sizes=[8, 16], depths=[1, 1], num_stages=2,
                                      num_labels=3, image_size=16)
    model = transformers.ConvNextForImageClassification(cfg).eval()
    X, y = torch.randn(6, 3, 16, 16), np.arange(6) % 3
    blk = "convnext.encoder.stages.0.layers.0"
    # inside a block: dwconv (N, C, H, W); layernorm / pwconv1 (Linear) / act / pwconv2 on (N, H, W, C)
    layout = {f"{blk}.dwconv": 1, f"{blk}.layernorm": 3, f"{blk}.pwconv1": 3, f"{blk}.act": 3,
              f"{blk}.pwconv2": 3, blk: 1, "convnext.embeddings.layernorm": 1}
    stats = ng.record(model, (X, y), list(layout), positions="mean")
    _check(stats, _mean_bits(_hooked(model, list(layout), lambda: model(X)), layout), y)
    table = preview(model, (X, y), list(layout)).table
    assert table["neurons"].tolist() == [8, 8, 32, 32, 8, 8, 8]


def test_hf_swin_reads_tokens_and_patch_merging_on_the_last_axis():
    torch.manual_seed(0)
    cfg = transformers.SwinConfig(image_size=16, patch_size=4, num_channels=3, embed_dim=8, depths=[1, 1],
                                  num_heads=[1, 2], window_size=2, num_labels=3)
    model = transformers.SwinForImageClassification(cfg).eval()
    X, y = torch.randn(5, 3, 16, 16), np.array([0, 1, 2, 2, 1])
    blk = "swin.encoder.layers.0.blocks.0"
    layout = {"swin.embeddings.patch_embeddings.projection": 1, "swin.embeddings.norm": -1,
              f"{blk}.mlp.fc1": -1, f"{blk}.mlp.activation_fn": -1, blk: -1,
              "swin.encoder.layers.0.downsample.reduction": -1, "swin.layernorm": -1}
    stats = ng.record(model, (X, y), list(layout), positions="mean")
    _check(stats, _mean_bits(_hooked(model, list(layout), lambda: model(X)), layout), y)
    # windowed attention runs on (batch x windows, ...): refused, never read as a batch
    with pytest.raises(LayerError, match=f"{blk}.attention"):
        ng.record(model, (X, y), f"{blk}.attention")


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("positions", ["all", "mean", "max", "first", "last"])
def test_hf_gpt2_padding_on_either_side_brute_force(side, positions):
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=40, n_positions=16, n_embd=8, n_layer=1, n_head=2, num_labels=2,
                                  pad_token_id=0)
    model = transformers.GPT2ForSequenceClassification(cfg).eval()
    ids = torch.randint(3, 40, (5, 7), generator=torch.Generator().manual_seed(1))
    lens = torch.tensor([7, 3, 5, 1, 6])
    mask = (torch.arange(7)[None] < lens[:, None]).long()
    mask = mask.flip(1) if side == "left" else mask
    inputs, y = {"input_ids": ids, "attention_mask": mask}, np.array([0, 1, 1, 0, 1])
    layers = ["transformer.h.0.mlp.c_fc", "transformer.h.0.mlp.act", "transformer.h.0.attn", "transformer.ln_f"]
    stats = ng.record(model, (inputs, y), layers, positions=positions)
    outs = _hooked(model, layers, lambda: model(**inputs))
    rows, labels = [], []
    for i in range(5):
        keep = torch.nonzero(mask[i]).flatten()
        v = torch.cat([outs[n][i, keep].double() for n in layers], 1)
        v = {"all": v, "mean": v.mean(0, keepdim=True), "max": v.amax(0, keepdim=True), "first": v[:1],
             "last": v[-1:]}[positions]
        rows.append(v)
        labels += [y[i]] * v.shape[0]
    _check(stats, (torch.cat(rows) > 0).numpy(), np.array(labels))


class _SeqFirstRNN(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(3, 4, num_layers=2, bidirectional=True)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.rnn(x)[0][-1])


@pytest.mark.parametrize("cell", [nn.GRU, nn.LSTM])
@pytest.mark.parametrize("positions", ["all", "mean", "last"])
def test_sequence_first_bidirectional_rnn_with_time_equal_to_batch(cell, positions):
    torch.manual_seed(0)
    model = _SeqFirstRNN(cell).eval()
    X, y = torch.randn(5, 5, 3), np.array([0, 1, 1, 0, 2])  # (T, B, F) with T == B: labels per batch column
    stats = ng.record(model, (X, y), "rnn", positions=positions)
    with torch.no_grad():
        o, h = model.rnn(X)
    o = o.double().transpose(0, 1)  # (B, T, 8)
    hn = h[0] if isinstance(h, tuple) else h
    v = {"all": o.reshape(-1, 8), "mean": o.mean(1),
         "last": torch.cat([hn[-2], hn[-1]], 1).double()}[positions]
    _check(stats, (v > 0).numpy(), np.repeat(y, 5) if positions == "all" else y)


def test_torch_decoder_layer_sequence_first_brute_force():
    torch.manual_seed(0)
    dec = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.dec = dec

        def forward(self, tgt, mem):
            return self.dec(tgt, mem)

    model = Net().eval()
    tgt, mem = torch.randn(7, 4, 8), torch.randn(5, 4, 8)
    layers = ["dec", "dec.linear1", "dec.norm3"]
    stats = ng.record(model, [((tgt, mem), None)], layers, positions="all")
    outs = _hooked(model, layers, lambda: model(tgt, mem))
    v = torch.cat([outs[n].transpose(0, 1).reshape(28, -1) for n in layers], 1).double()
    _check(stats, (v > 0).numpy())


class _Head(nn.Module):  # declares no layout
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 4)

    def forward(self, x):
        return self.lin(x)


class _SeqFirstInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(3, 3)
        self.head = _Head()

    def forward(self, x):
        return self.head(self.rnn(x)[0])


@pytest.mark.parametrize("t", [6, 5])
def test_sequence_first_inputs_are_refused_for_layers_that_declare_no_layout(t):
    # before: inputs (T, B, F) made the "batch" T; the head's (T, B, 4) output was read with time steps
    # as samples and the batch averaged away, in silence (T == B too, where the dry pass was fooled)
    torch.manual_seed(0)
    model = _SeqFirstInputs().eval()
    X = torch.randn(t, 5, 3)
    for layer in ("head", "head.lin"):
        with pytest.raises(LayerError, match=rf"'{layer}'.*'rnn'.*sequence-first"):
            ng.record(model, [X], layer, positions="mean")
    # the GRU itself declares its layout and is read right
    stats = ng.record(model, [X], "rnn", positions="mean")
    with torch.no_grad():
        o = model.rnn(X)[0]
    _check(stats, (o.double().mean(0) > 0).numpy())


# ---------------------------------------------------------------------------- reshaping parameter-free modules

def test_unflatten_of_linear_features_is_refused_not_read_as_channels():
    # before: Unflatten(1, (3, 4)) of a Linear's 12 features (and the ReLU after it) were read as 3
    # "channels" with 4 positions each, averaging unrelated features, in silence
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 12), nn.Unflatten(1, (3, 4)), nn.ReLU(), nn.Flatten(), nn.Tanh())
    X = torch.randn(6, 12)
    for layer in ("1", "2"):
        with pytest.raises(LayerError, match=rf"layer '{layer}'.*neuron_axis"):
            ng.record(model, (X, None), layer)
    # an explicit axis reads it; Flatten's (batch, units) output needs none
    stats = ng.record(model, (X, None), ["2", "4"], neuron_axis={"2": -1}, positions="mean")
    outs = _hooked(model, ["2", "4"], lambda: model(X))
    v = torch.cat([outs["2"].double().mean(1), outs["4"].double()], 1)
    _check(stats, (v > 0).numpy())


def test_shape_changing_modules_that_keep_the_channel_axis_still_follow_it():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Upsample(scale_factor=2), nn.Flatten(2), nn.GELU())
    X = torch.randn(4, 2, 5, 5)
    stats = ng.record(model, (X, None), ["1", "2", "3"], positions="mean")
    outs = _hooked(model, ["1", "2", "3"], lambda: model(X))
    v = torch.cat([outs[k].double().reshape(4, 3, -1).mean(2) for k in ("1", "2", "3")], 1)
    _check(stats, (v > 0).numpy())


def test_hf_bert_dataloader_of_dict_rows_with_labels_equals_the_pair_form():
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=16, num_labels=3, max_position_embeddings=16)
    model = transformers.BertForSequenceClassification(cfg).eval()
    ids = torch.randint(3, 50, (9, 6), generator=torch.Generator().manual_seed(2))
    lens = torch.tensor([6, 2, 4, 1, 3, 6, 5, 2, 3])
    am = (torch.arange(6)[None] < lens[:, None]).long()
    tt = (torch.arange(6)[None] >= 3).long().expand(9, -1).contiguous()
    y = np.array([0, 2, 1, 1, 0, 2, 2, 0, 1])
    rows = [{"input_ids": ids[i], "attention_mask": am[i], "token_type_ids": tt[i], "labels": torch.tensor(y[i])}
            for i in range(9)]
    layer = "bert.encoder.layer.0.output"
    loader = ng.record(model, torch.utils.data.DataLoader(rows, batch_size=4), layer, positions="mean")
    inputs = {"input_ids": ids, "attention_mask": am, "token_type_ids": tt}
    outs = _hooked(model, [layer], lambda: model(**inputs))
    v = torch.stack([outs[layer][i, :int(lens[i])].double().mean(0) for i in range(9)])
    _check(loader, (v > 0).numpy(), y)
    assert loader == ng.record(model, (inputs, y), layer, positions="mean")


class _PermutedMaps(nn.Module):
    """A functional op on a channels-last view: no module produced the GELU's input."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 5, 1)  # (N, 5, 3, 7)
        self.b = nn.Conv2d(3, 7, 1)  # (N, 7, 5, 3), permuted to (N, 5, 3, 7): 7 channels last
        self.act = nn.GELU()

    def forward(self, x, y):
        ha = self.a(x)
        h = torch.nn.functional.gelu(self.b(y).permute(0, 2, 3, 1))
        return self.act(h).mean((1, 2)) + ha.mean((2, 3)).sum(1, keepdim=True)


def test_a_channels_last_functional_map_is_not_read_by_an_older_same_shaped_output():
    # before: the GELU's input (channels last, 7) was read on axis 1 (5 "neurons") because conv 'a'
    # had once output that shape, in silence
    torch.manual_seed(0)
    model = _PermutedMaps().eval()
    x, y = torch.randn(4, 3, 3, 7), torch.randn(4, 3, 5, 3)
    with pytest.raises(LayerError, match=r"'act'.*'a''s.*'b''s"):
        ng.record(model, [((x, y), None)], "act")
    stats = ng.record(model, [((x, y), None)], "act", neuron_axis=-1, positions="mean")
    outs = _hooked(model, ["act"], lambda: model(x, y))
    _check(stats, (outs["act"].double().mean((1, 2)) > 0).numpy())


def test_a_permuted_back_residual_with_the_same_channels_still_reads_them():
    # ConvNeXt-style: conv (N, C, H, W) -> Linear on (N, H, W, C) -> permuted back and added: axis 1
    torch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4)
            self.pw = nn.Linear(4, 4)
            self.drop = nn.Identity()

        def forward(self, x):
            return x + self.drop(self.pw(self.dw(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2))

    model = nn.Sequential(nn.Conv2d(3, 4, 1), Block(), nn.ReLU()).eval()
    X = torch.randn(3, 3, 6, 5)
    stats = ng.record(model, (X, None), ["1.drop", "1", "2"], positions="mean")
    outs = _hooked(model, ["1.drop", "1", "2"], lambda: model(X))
    _check(stats, (torch.cat([outs[k].double().mean((2, 3)) for k in ("1.drop", "1", "2")], 1) > 0).numpy())
