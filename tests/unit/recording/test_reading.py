"""Reading a layer: neuron axis, positions, masks, per-call sites, in-place safety, mode restoration.

Every count is checked against a brute force from plain forward hooks on the same model.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import neurograph as ng
from neurograph.errors import DataError, DegenerateLayerWarning, LayerError, MemoryBudgetError, OptionError


def _hooked(model, name, inputs, call=None):
    """Every output of module ``name`` on one forward pass (cloned at hook time), by brute force."""
    module = dict(model.named_modules())[name]
    outs = []
    h = module.register_forward_hook(lambda m, i, o: outs.append((o[0] if isinstance(o, tuple) else o).clone()))
    try:
        with torch.no_grad():
            model.eval()
            call(model, inputs) if call else (model(**inputs) if isinstance(inputs, dict) else model(inputs))
    finally:
        h.remove()
    return outs


def _gram(b: np.ndarray) -> np.ndarray:
    b = b.astype(np.int64)
    return b.T @ b


def _check_counts(stats, bits: np.ndarray, labels=None):
    assert stats.n_samples == bits.shape[0]
    assert np.array_equal(stats.cofire_counts, _gram(bits))
    assert np.array_equal(stats.fire_counts, bits.sum(0))
    if labels is not None:
        for k, c in enumerate(stats.classes):
            assert np.array_equal(stats.class_fire_counts[k], bits[labels == c].sum(0))


# ---------------------------------------------------------------------------- positions, brute force

class _Tokens(nn.Module):
    """(N, T) ids -> (N, T, H) features through an embedding and a linear layer (neurons on the last axis)."""

    def __init__(self, vocab=11, h=6):
        super().__init__()
        self.emb = nn.Embedding(vocab, h)
        self.lin = nn.Linear(h, h)
        self.act = nn.ReLU()

    def forward(self, input_ids, attention_mask=None):
        return self.act(self.lin(self.emb(input_ids))).sum(dim=1)


def _brute_positions(x: np.ndarray, valid: np.ndarray, mode: str, cut: float = 0.0):
    """Rows (bool) and per-input row counts of ``mode`` for values x (n, P, d) and valid (n, P), by loops."""
    rows, counts = [], []
    for i in range(x.shape[0]):
        pos = np.flatnonzero(valid[i])
        if mode == "all":
            rows += [x[i, p] > cut for p in pos]
            counts.append(len(pos))
            continue
        if len(pos) == 0:
            counts.append(0)
            continue
        counts.append(1)
        v = x[i, pos]
        if mode == "mean":
            rows.append(v.mean(0) > cut)
        elif mode == "max":
            rows.append(v.max(0) > cut)
        elif mode == "any":
            rows.append((v > cut).any(0))
        elif mode == "first":
            rows.append(v[0] > cut)
        else:
            rows.append(v[-1] > cut)
    d = x.shape[2]
    return (np.array(rows, dtype=bool).reshape(-1, d), np.array(counts))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), mode=st.sampled_from(["all", "mean", "max", "any", "first", "last"]),
       batch=st.integers(1, 9), left_pad=st.booleans())
def test_positions_with_attention_mask_equal_brute_force(seed, mode, batch, left_pad):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    n, t = 13, 7
    model = _Tokens()
    ids = torch.randint(0, 11, (n, t), generator=g)
    lengths = torch.randint(0, t + 1, (n,), generator=g)
    mask = torch.arange(t)[None, :] < lengths[:, None]
    if left_pad:
        mask = mask.flip(1)
    y = torch.randint(0, 3, (n,), generator=g)
    x = _hooked(model, "lin", {"input_ids": ids})[0].numpy()
    bits, counts = _brute_positions(x, mask.numpy(), mode)
    data = [({"input_ids": ids[i:i + batch], "attention_mask": mask[i:i + batch].long()}, y[i:i + batch])
            for i in range(0, n, batch)]
    if bits.shape[0] == 0:
        return
    stats = ng.record(model, data, "lin", positions=mode)
    assert stats.cofire_counts.shape == (6, 6)
    _check_counts(stats, bits, np.repeat(y.numpy(), counts))


def test_token_outputs_read_neurons_on_the_last_axis():
    torch.manual_seed(0)
    model = _Tokens(h=9)
    ids = torch.randint(0, 11, (20, 16))
    stats = ng.record(model, (ids, torch.zeros(20, dtype=torch.long)), ["lin", "act"])
    # 9 neurons per layer (not 16 token positions); every token a sample
    assert stats.neurons.groupby("layer").size().to_dict() == {"act": 9, "lin": 9}
    assert stats.n_samples == 20 * 16
    x = _hooked(model, "lin", ids)[0].reshape(-1, 9).numpy() > 0
    assert np.array_equal(stats.cofire_counts[:9, :9], _gram(x))
    assert stats.meta["neuron_axis"] == {"lin": 2, "act": 2}


def test_explicit_neuron_axis_and_errors():
    torch.manual_seed(0)

    class Odd(nn.Module):  # a module whose neuron axis nothing can tell
        def forward(self, x):
            return x * 2

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.odd = Odd()

        def forward(self, x):
            return self.odd(x.permute(0, 2, 1)).sum(dim=(1, 2))

    x = torch.randn(10, 4, 5)
    with pytest.raises(LayerError, match="'odd'.*neuron_axis"):
        ng.record(Net(), (x, None), "odd")
    s1 = ng.record(Net(), (x, None), "odd", neuron_axis=1, positions="all")
    s2 = ng.record(Net(), (x, None), "odd", neuron_axis={"od*": -1})
    assert s1.cofire_counts.shape == (5, 5) and s2.cofire_counts.shape == (4, 4)
    bits = (x.permute(0, 2, 1) * 2 > 0).permute(0, 2, 1).reshape(-1, 5).numpy()
    _check_counts(s1, bits)
    with pytest.raises(OptionError, match="batch axis"):
        ng.record(Net(), (x, None), "odd", neuron_axis=0)
    with pytest.raises(OptionError, match="neuron_axis 5 is not a non-batch axis of layer .odd."):
        ng.record(Net(), (x, None), "odd", neuron_axis=5)


# ---------------------------------------------------------------------------- torch's own transformer

def test_torch_transformer_encoder_counts_equal_plain_hooks():
    torch.manual_seed(1)
    layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=24, batch_first=True, dropout=0.1)
    enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    X = torch.randn(30, 5, 16)
    y = torch.randint(0, 2, (30,))
    stats = ng.record(enc, (X, y), ["layers.0.linear1", "layers.1.norm2"], batch_size=7)
    assert enc.training  # mode restored
    assert stats.neurons.groupby("layer").size().to_dict() == {"layers.0.linear1": 24, "layers.1.norm2": 16}
    a = _hooked(enc, "layers.0.linear1", X)[0].reshape(-1, 24).numpy() > 0
    b = _hooked(enc, "layers.1.norm2", X)[0].reshape(-1, 16).numpy() > 0
    _check_counts(stats, np.concatenate([a, b], 1), np.repeat(y.numpy(), 5))


# ---------------------------------------------------------------------------- BatchNorm, in-place ReLU, repeated calls

class _BasicBlock(nn.Module):
    """torchvision's BasicBlock shape: one in-place ReLU module called twice, BatchNorm before each."""

    def __init__(self, c=6):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return self.relu(out)


def _bn_block(seed=0):
    torch.manual_seed(seed)
    block = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), _BasicBlock(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(6, 3))
    with torch.no_grad():  # non-trivial running statistics
        for m in block.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return block


def test_batchnorm_output_counted_before_the_in_place_relu_overwrites_it():
    block = _bn_block()
    X = torch.randn(40, 3, 8, 8)
    # brute force: the BatchNorm output as it is when bn1 returns (cloned), any position > 0
    bn = _hooked(block, "1.bn1", X)[0]
    stats = ng.record(block, (X, None), "1.bn1", positions="any")
    bits = (bn > 0).flatten(2).any(dim=2).numpy()
    _check_counts(stats, bits)
    # the post-ReLU values would have no negative entries: the mean rule shows the difference
    mean = ng.record(block, (X, None), "1.bn1", positions="mean")
    _check_counts(mean, (bn.mean(dim=(2, 3)) > 0).numpy())


def test_module_called_twice_gives_one_site_per_call():
    block = _bn_block(1)
    X = torch.randn(25, 3, 8, 8)
    calls = _hooked(block, "1.relu", X)
    assert len(calls) == 2
    stats = ng.record(block, (X, torch.randint(0, 2, (25,))), "1.relu", spatial="max", batch_size=6)
    assert stats.layers == ["1.relu#0", "1.relu#1"]
    bits = np.concatenate([(c.amax(dim=(2, 3)) > 0).numpy() for c in calls], axis=1)
    _check_counts(stats, bits)
    plan = ng.preview(block, (X, None), "1.relu")
    assert plan.table["site"].tolist() == ["1.relu#0", "1.relu#1"]
    assert plan.table["neuron_axis"].tolist() == [1, 1]


def test_degenerate_layers_warn_with_the_rule_that_works():
    block = _bn_block(2)
    X = torch.randn(60, 3, 8, 8) + 3.0
    with pytest.warns(DegenerateLayerWarning, match=r"'2'.*always fire.*zscore"):
        ng.record(block, (X, None), "2")  # pooled ReLU channels: all on under "positive"
    sig = nn.Sequential(nn.Linear(4, 10), nn.Sigmoid())
    with pytest.warns(DegenerateLayerWarning, match=r"'1'.*100% always fire"):
        ng.record(sig, (torch.randn(50, 4), None), "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateLayerWarning)
        ng.record(sig, (torch.randn(50, 4), None), "1", rule="zscore", z=0.0)


# ---------------------------------------------------------------------------- modes and hooks restored

class _Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 8)
        self.drop = nn.Dropout(0.5)
        self.bn = nn.BatchNorm1d(8)
        self.out = nn.Linear(8, 2)
        self.fail_on = None
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.fail_on is not None and self.calls >= self.fail_on:
            raise self.fail_with
        return self.out(self.bn(self.drop(torch.relu(self.lin(x)))))


def _modes(m):
    return [(name, mod.training) for name, mod in m.named_modules()]


def _hooks(m):
    return sum(len(mod._forward_hooks) + len(mod._forward_pre_hooks) for mod in m.modules())


@pytest.mark.parametrize("fn", ["record", "zscore", "top_k", "blocks", "preview", "score", "gates", "calibrate"])
@pytest.mark.parametrize("fail", [None, RuntimeError("boom"), KeyboardInterrupt()])
def test_every_submodule_mode_and_hook_restored(fn, fail):
    torch.manual_seed(0)
    model = _Mixed()
    model.train()
    model.drop.eval()  # frozen dropout
    model.bn.eval()  # frozen BatchNorm
    before = _modes(model)
    X, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
    if fail is not None:
        model.fail_on, model.fail_with = 3, fail
    run = {
        "record": lambda: ng.record(model, (X, y), "bn", batch_size=16),
        "zscore": lambda: ng.record(model, (X, y), "bn", rule="zscore", batch_size=16),
        "top_k": lambda: ng.record_top_k(model, (X, y), "bn", 2, batch_size=16),
        "blocks": lambda: ng.record_blocks(model, (X, y), ["lin", "bn"], batch_size=16),
        "preview": lambda: ng.preview(model, (X, y), "bn", batch_size=16),
        "score": lambda: ng.score_model(model, (X, y), "bn", n_null=0, batch_size=16),
        "gates": lambda: ng.gate_patterns(model, X, layers="lin", batch_size=16),
        "calibrate": lambda: ng.calibrate(model, (X, y), "bn", batch_size=16),
    }[fn]
    if fail is None or fn == "preview":
        run()
    else:
        with pytest.raises((ng.ModelError, KeyboardInterrupt)):
            run()
    assert _modes(model) == before
    assert _hooks(model) == 0


def test_layer_that_never_runs_is_named():
    class Skip(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(5, 2), nn.Linear(5, 2)

        def forward(self, x):
            return self.used(x)

    with pytest.raises(LayerError, match="'unused'.*never ran"):
        ng.record(Skip(), (torch.randn(4, 5), None), ["used", "unused"])


# ---------------------------------------------------------------------------- data as users have it

def test_numpy_pandas_lists_and_string_labels():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 7), nn.ReLU(), nn.Linear(7, 2))
    X = np.random.default_rng(0).normal(size=(40, 3))  # float64, sklearn's default
    names = np.array(["cat", "dog", "emu"])[np.random.default_rng(1).integers(0, 3, 40)]
    ref = ng.record(net, (torch.from_numpy(X).float(), torch.from_numpy(np.searchsorted(["cat", "dog", "emu"],
                                                                                         names))), "1")
    for data in [(X, names), (pd.DataFrame(X), pd.Series(names)), (X.tolist(), names.tolist()),
                 [(X[i:i + 9], list(names[i:i + 9])) for i in range(0, 40, 9)]]:
        s = ng.record(net, data, "1", batch_size=8)
        assert s.classes.tolist() == sorted(set(names.tolist()))
        assert np.array_equal(s.cofire_counts, ref.cofire_counts)
        assert np.array_equal(s.class_fire_counts, ref.class_fire_counts)
        assert np.array_equal(s.class_counts, ref.class_counts)
    with pytest.raises(DataError, match="numbers.*names|names.*numbers"):
        ng.record(net, [(X[:20], np.zeros(20, int)), (X[20:], names[20:])], "1")
    with pytest.raises(DataError, match="not whole numbers"):
        ng.record(net, (X, np.full(40, 0.5)), "1")


def test_tuple_inputs_are_positional_arguments():
    torch.manual_seed(0)
    model = ng.models.RecurrentClassifier(5, 2, cell="gru", hidden_size=4)
    tokens = torch.randint(0, 5, (12, 6))
    lengths = torch.randint(1, 7, (12,))
    y = torch.randint(0, 2, (12,))
    s = ng.record(model, ((tokens, lengths), y), "rnn", time="last", batch_size=5)
    assert s.n_samples == 12 and s.cofire_counts.shape == (4, 4)


def test_explicit_mask_callable():
    torch.manual_seed(0)
    model = _Tokens()
    ids = torch.randint(0, 11, (10, 7))
    ids[:, 5:] = 0
    s = ng.record(model, (ids, None), "lin", mask=lambda inputs: inputs != 0)
    assert s.n_samples == int((ids != 0).sum())
    with pytest.raises(DataError, match="mask"):
        ng.record(model, (ids, None), "lin", mask=lambda inputs: torch.ones(3))


def test_reading_object_is_the_keywords_in_one_place():
    torch.manual_seed(0)
    model = _Tokens()
    ids = torch.randint(0, 11, (10, 7))
    r = ng.Reading(rule="threshold", threshold=0.1, positions="max")
    a = ng.record(model, (ids, None), "lin", reading=r)
    b = ng.record(model, (ids, None), "lin", rule="threshold", threshold=0.1, positions="max")
    assert np.array_equal(a.cofire_counts, b.cofire_counts) and a.rule == b.rule
    with pytest.raises(OptionError, match="positions"):
        ng.record(model, (ids, None), "lin", reading=r, positions="all")
    with pytest.raises(OptionError, match="positions"):
        ng.Reading(positions="median")
    with pytest.raises(OptionError, match="threshold has 3 values.*6 neurons"):
        ng.record(model, (ids, None), "lin", rule="threshold", threshold=np.zeros(3))


# ---------------------------------------------------------------------------- dry run and memory

def test_preview_and_memory_budget_refused_up_front():
    torch.manual_seed(0)
    model = _Mixed()
    X = torch.randn(50, 4)
    plan = ng.preview(model, (X, None), ["lin", "bn"])
    assert plan.n_neurons == 16 and plan.fits
    assert plan.table["neurons"].tolist() == [8, 8]
    assert plan.bytes_needed >= 12 * 16 * 16
    assert "16 neurons" in str(plan)
    model.calls = 0
    with pytest.raises(MemoryBudgetError, match=r"16 neurons.*record_top_k"):
        ng.record(model, (X, None), ["lin", "bn"], memory_limit=1000, batch_size=10)
    assert model.calls == 1  # only the dry pass of the first batch ran
    assert _hooks(model) == 0


# ---------------------------------------------------------------------------- Hugging Face models (built from configs)

@pytest.fixture(scope="module")
def transformers():
    """Hugging Face transformers, imported only by the tests that use it (it is slow to import)."""
    return pytest.importorskip("transformers", reason="Hugging Face transformers is not installed "
                                                       "(pip install transformers)")


def _of_type(model, typename):
    return [n for n, m in model.named_modules() if type(m).__name__ == typename]


def _bert(transformers):
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=40, max_position_embeddings=16, num_labels=3)
    return transformers.BertForSequenceClassification(cfg).eval()


def _token_batches(transformers, n=18, t=9, batch=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 50, (n, t), generator=g)
    lengths = torch.randint(2, t + 1, (n,), generator=g)
    am = (torch.arange(t)[None, :] < lengths[:, None]).long()
    ids = ids * am
    y = torch.randint(0, 3, (n,), generator=g)
    batches = [(transformers.BatchEncoding({"input_ids": ids[i:i + batch], "attention_mask": am[i:i + batch]}),
                y[i:i + batch]) for i in range(0, n, batch)]
    return ids, am, y, batches


@pytest.mark.hf
def test_bert_neurons_masks_and_cls(transformers):
    bert = _bert(transformers)
    ids, am, y, batches = _token_batches(transformers)
    act = [n for n in _of_type(bert, "GELUActivation") if "intermediate" in n][0]
    dense = act.rsplit(".", 1)[0] + ".dense"
    stats = ng.record(bert, batches, [act, dense])
    assert stats.neurons.groupby("layer").size().to_dict() == {act: 40, dense: 40}
    assert stats.n_samples == int(am.sum())  # padded tokens are never samples
    inputs = {"input_ids": ids, "attention_mask": am}
    a = _hooked(bert, act, inputs)[0]
    b = _hooked(bert, dense, inputs)[0]
    valid = am.bool()
    bits = torch.cat([a[valid] > 0, b[valid] > 0], dim=1).numpy()
    _check_counts(stats, bits, np.repeat(y.numpy(), am.sum(1).numpy()))
    cls = ng.record(bert, batches, act, positions="first")
    _check_counts(cls, (a[:, 0] > 0).numpy(), y.numpy())
    last = ng.record(bert, batches, act, positions="last")
    idx = am.sum(1) - 1
    _check_counts(last, (a[torch.arange(len(idx)), idx] > 0).numpy(), y.numpy())
    mean = ng.record(bert, batches, act, positions="mean")
    w = am[..., None].float()
    _check_counts(mean, ((a * w).sum(1) / w.sum(1) > 0).numpy(), y.numpy())


@pytest.mark.hf
def test_bert_score_model_reads_logits_and_names_labels(transformers):
    bert = _bert(transformers)
    ids, am, y, batches = _token_batches(transformers)
    act = [n for n in _of_type(bert, "GELUActivation") if "intermediate" in n][0]
    scores = ng.score_model(bert, batches, act, positions="first", n_null=0)
    with torch.no_grad():
        pred = bert(input_ids=ids, attention_mask=am).logits.argmax(1)
    assert scores["test_accuracy"] == pytest.approx(float((pred == y).float().mean()))
    named = [(x, [["neg", "neu", "pos"][int(v)] for v in lab]) for x, lab in batches]
    s2 = ng.score_model(bert, named, act, positions="first", n_null=0)
    assert s2["test_accuracy"] == scores["test_accuracy"]


@pytest.mark.hf
def test_vit_neurons_and_cls_token(transformers):
    torch.manual_seed(0)
    cfg = transformers.ViTConfig(image_size=8, patch_size=4, num_channels=1, hidden_size=16, num_hidden_layers=1,
                                 num_attention_heads=2, intermediate_size=24, num_labels=3)
    vit = transformers.ViTForImageClassification(cfg).eval()
    X = torch.randn(12, 1, 8, 8)
    act = _of_type(vit, "GELUActivation")[0]
    patch = [n for n, m in vit.named_modules() if isinstance(m, nn.Conv2d)][0]
    stats = ng.record(vit, (X, None), act, positions="first", batch_size=5)
    assert stats.cofire_counts.shape == (24, 24)
    a = _hooked(vit, act, X)[0]
    assert a.shape == (12, 5, 24)  # [CLS] + 4 patches
    _check_counts(stats, (a[:, 0] > 0).numpy())
    conv = ng.record(vit, (X, None), patch, batch_size=5)  # conv: channels, spatial mean
    c = _hooked(vit, patch, X)[0]
    _check_counts(conv, (c.mean(dim=(2, 3)) > 0).numpy())


@pytest.mark.hf
def test_gpt2_conv1d_projections_and_last_real_token(transformers):
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=50, n_embd=16, n_layer=1, n_head=2, n_positions=16, num_labels=3,
                                  pad_token_id=0, bos_token_id=1, eos_token_id=1)
    gpt = transformers.GPT2ForSequenceClassification(cfg).eval()
    ids, am, y, batches = _token_batches(transformers, seed=3)
    c_fc = [n for n in _of_type(gpt, "Conv1D") if n.endswith("c_fc")][0]
    stats = ng.record(gpt, batches, c_fc, positions="last")
    assert stats.cofire_counts.shape == (64, 64)  # 4 x n_embd, not the 9 positions
    a = _hooked(gpt, c_fc, {"input_ids": ids, "attention_mask": am})[0]
    idx = am.sum(1) - 1
    _check_counts(stats, (a[torch.arange(len(idx)), idx] > 0).numpy(), y.numpy())


def test_named_classes_survive_merge_save_and_load(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.ReLU())
    X = torch.randn(30, 3)
    a = ng.record(net, (X[:14], ["b", "a"] * 7), "1")
    b = ng.record(net, (X[14:], ["c"] * 16), "1")
    m = a + b
    assert m.classes.tolist() == ["a", "b", "c"] and m.class_counts.tolist() == [7, 7, 16]
    m.save(tmp_path / "s.npz")
    back = ng.CoactivationStats.load(tmp_path / "s.npz")
    assert back.classes.tolist() == ["a", "b", "c"]
    assert np.array_equal(back.class_fire_counts, m.class_fire_counts)
    with pytest.raises(ng.IncompatibleStatsError, match="named classes"):
        _ = a + ng.record(net, (X[14:], np.zeros(16, int)), "1")
    assert ng.neuron_entropy(back)["mutual_info"].notna().all()


def test_empty_graph_says_why_instead_of_a_silent_nan():
    sig = nn.Sequential(nn.Linear(4, 10), nn.Sigmoid())
    with pytest.warns(DegenerateLayerWarning):
        stats = ng.record(sig, (torch.randn(50, 4), torch.randint(0, 2, (50,))), "1")
    with pytest.warns(ng.DegenerateGraphWarning, match=r"0 of 10 neurons never fire and 10 always fire.*zscore"):
        a = ng.analyze(stats, n_null=0)
    assert np.isnan(a.summary()["modularity"])
    with pytest.warns(ng.DegenerateGraphWarning, match="no edge"):
        s = ng.score_stats(stats, n_null=0)
    assert np.isnan(s["modularity"])
