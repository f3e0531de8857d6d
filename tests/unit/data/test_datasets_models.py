"""Tests for neurograph.datasets, neurograph.models and neurograph.train."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import neurograph.datasets as ng_datasets
import neurograph.models as ng_models
import neurograph.zoo.training as ng_train
from neurograph.datasets import DigitsData, load_digits, make_blobs_task
from neurograph.errors import DataError, ModelError
from neurograph.models import MLP, SmallCNN
from neurograph.zoo.training import TrainResult, accuracy, train_classifier


@pytest.fixture(scope="module")
def digits() -> DigitsData:
    return load_digits()


# ---------------------------------------------------------------- public surface


@pytest.mark.parametrize("module", [ng_datasets, ng_models, ng_train])
def test_all_is_sorted_and_importable(module):
    assert list(module.__all__) == sorted(module.__all__)
    for name in module.__all__:
        assert hasattr(module, name), name


# ---------------------------------------------------------------------- datasets


def test_digits_shapes_dtypes_and_scale(digits):
    from sklearn.datasets import load_digits as sk_load

    sk = sk_load()
    assert digits.n_train + digits.n_test == len(sk.target) == 1797
    assert digits.n_test == int(np.ceil(0.25 * 1797))
    assert digits.X_train.shape == (digits.n_train, 64) and digits.input_shape == (64,)
    assert digits.X_train.dtype == torch.float32 and digits.y_train.dtype == torch.int64
    assert digits.n_classes == 10 and digits.name == "digits"
    X_all = torch.cat([digits.X_train, digits.X_test]).numpy()
    assert X_all.min() == 0.0 and X_all.max() == 1.0
    # the split is a permutation of scikit-learn's samples, pixels divided by 16
    got = np.concatenate([X_all * 16, torch.cat([digits.y_train, digits.y_test]).numpy()[:, None]], axis=1)
    want = np.concatenate([sk.data, sk.target[:, None]], axis=1)
    got = got[np.lexsort(got.T[::-1])]
    want = want[np.lexsort(want.T[::-1])]
    np.testing.assert_array_equal(got, want)


def test_digits_image_view_matches_flat_view(digits):
    img = load_digits(image=True)
    assert img.X_train.shape == (digits.n_train, 1, 8, 8) and img.input_shape == (1, 8, 8)
    assert torch.equal(img.X_train.reshape(-1, 64), digits.X_train)
    assert torch.equal(img.y_test, digits.y_test)
    X, y = img.test
    assert X is img.X_test and y is img.y_test


def test_digits_split_is_deterministic_per_seed(digits):
    again = load_digits(seed=0)
    assert torch.equal(again.X_train, digits.X_train) and torch.equal(again.y_test, digits.y_test)
    other = load_digits(seed=1)
    assert not torch.equal(other.y_train, digits.y_train)
    from_gen = [load_digits(seed=np.random.default_rng(5)).y_train for _ in range(2)]
    assert torch.equal(from_gen[0], from_gen[1])


@pytest.mark.parametrize("fraction", [0.25, 0.4])
def test_digits_split_is_stratified(fraction):
    d = load_digits(test_fraction=fraction, seed=3)
    n_test_k = np.bincount(d.y_test.numpy(), minlength=10)
    n_all_k = n_test_k + np.bincount(d.y_train.numpy(), minlength=10)
    assert np.all(np.abs(n_test_k - fraction * n_all_k) <= 1.0), (n_test_k, n_all_k)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5, 0.001, "0.2", True])
def test_bad_test_fraction_raises(fraction):
    with pytest.raises(DataError, match="test_fraction"):
        load_digits(test_fraction=fraction)


def test_blobs_task_shapes_determinism_and_stratification():
    t = make_blobs_task(n_samples=200, n_features=6, n_classes=4, seed=7)
    assert t.X_train.shape == (150, 6) and t.X_test.shape == (50, 6) and t.input_shape == (6,)
    assert t.n_classes == 4 and t.name == "blobs" and t.X_train.dtype == torch.float32
    assert set(torch.cat([t.y_train, t.y_test]).tolist()) == {0, 1, 2, 3}
    counts = np.bincount(t.y_test.numpy(), minlength=4)
    total = counts + np.bincount(t.y_train.numpy(), minlength=4)
    assert np.all(np.abs(counts - 0.25 * total) <= 1.0)
    u = make_blobs_task(n_samples=200, n_features=6, n_classes=4, seed=7)
    assert torch.equal(t.X_train, u.X_train) and torch.equal(t.y_test, u.y_test)
    v = make_blobs_task(n_samples=200, n_features=6, n_classes=4, seed=8)
    assert not torch.equal(t.X_train, v.X_train)


@pytest.mark.parametrize(
    "kwargs, arg",
    [
        (dict(n_classes=1), "n_classes"),
        (dict(n_samples=0), "n_samples"),
        (dict(n_features=2.5), "n_features"),
        (dict(n_features=2, n_classes=5), "n_features"),
        (dict(n_samples=7, n_classes=4), "n_samples"),
    ],
)
def test_blobs_task_bad_arguments(kwargs, arg):
    with pytest.raises(DataError, match=arg):
        make_blobs_task(**kwargs)


# ------------------------------------------------------------------------ models


def _outputs(model: nn.Module, names: list[str], x: torch.Tensor) -> dict[str, torch.Tensor]:
    mods = dict(model.named_modules())
    out: dict[str, torch.Tensor] = {}
    handles = [mods[n].register_forward_hook(lambda m, i, o, n=n: out.__setitem__(n, o)) for n in names]
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()
    return out


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_mlp_layer_names_types_and_shapes(dropout):
    model = MLP(64, hidden=(64, 32), n_classes=10, dropout=dropout)
    mods = dict(model.named_modules())
    assert model.activation_layers() == ["layers.1", "layers.4"]
    assert [type(mods[f"layers.{i}"]) for i in range(7)] == [
        nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    assert (mods["layers.0"].in_features, mods["layers.0"].out_features) == (64, 64)
    assert (mods["layers.3"].in_features, mods["layers.6"].out_features) == (64, 10)
    model.eval()
    x = torch.rand(5, 64)
    acts = _outputs(model, model.activation_layers(), x)
    assert acts["layers.1"].shape == (5, 64) and acts["layers.4"].shape == (5, 32)
    assert all(bool((a >= 0).all()) for a in acts.values())
    assert torch.allclose(acts["layers.1"], torch.relu(mods["layers.0"](x)))
    # image-shaped input is flattened
    assert torch.equal(model(x.reshape(5, 1, 8, 8)), model(x))


def test_mlp_without_hidden_layers_is_linear():
    model = MLP(3, hidden=(), n_classes=2)
    assert model.activation_layers() == []
    assert isinstance(dict(model.named_modules())["layers.0"], nn.Linear)


@pytest.mark.parametrize(
    "kwargs", [dict(in_features=0), dict(in_features=4, hidden=(8, 0)), dict(in_features=4, n_classes=True),
               dict(in_features=4, dropout=1.0)])
def test_mlp_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        MLP(**kwargs)


@pytest.mark.parametrize("global_pool", [False, True])
def test_cnn_layer_names_and_4d_activations(global_pool):
    model = SmallCNN(in_channels=1, n_classes=10, channels=(4, 6), image_size=8, global_pool=global_pool)
    mods = dict(model.named_modules())
    names = model.activation_layers()
    assert names == ["features.1", "features.3"]
    assert all(isinstance(mods[n], nn.ReLU) for n in names)
    assert isinstance(mods["features.0"], nn.Conv2d) and isinstance(mods["classifier"], nn.Linear)
    x = torch.rand(3, 1, 8, 8)
    acts = _outputs(model, names, x)
    assert acts["features.1"].shape == (3, 4, 8, 8) and acts["features.3"].shape == (3, 6, 8, 8)
    assert model(x).shape == (3, 10)
    assert mods["classifier"].in_features == (6 if global_pool else 6 * 64)


def test_cnn_other_image_size_and_bad_arguments():
    assert SmallCNN(in_channels=3, n_classes=2, image_size=5)(torch.rand(2, 3, 5, 5)).shape == (2, 2)
    with pytest.raises(ValueError, match="channels"):
        SmallCNN(channels=(4, 4, 4))
    with pytest.raises(ValueError, match="image_size"):
        SmallCNN(image_size=0)


# ------------------------------------------------------------------------- train


def test_quick_training_beats_chance_and_is_deterministic(digits):
    X, y = digits.X_train[:400], digits.y_train[:400]
    states = []
    for _ in range(2):
        torch.manual_seed(0)
        model = MLP(64, hidden=(32,), n_classes=10)
        before = accuracy(model, *digits.test)
        rng_before = torch.get_rng_state()
        result = train_classifier(model, X, y, epochs=4, batch_size=32, seed=1)
        assert torch.equal(torch.get_rng_state(), rng_before)  # caller's RNG untouched
        states.append({k: v.clone() for k, v in model.state_dict().items()})
    assert isinstance(result, TrainResult)
    assert result.epochs == 4 and len(result.losses) == 4 and result.n_samples == 400
    assert result.n_steps == 4 * 13 and result.seed == 1 and result.seconds > 0
    assert result.losses[-1] < result.losses[0]
    after = accuracy(model, *digits.test)
    assert after > 0.6 and after > before + 0.3  # chance is 0.1
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    torch.manual_seed(0)
    other = MLP(64, hidden=(32,), n_classes=10)
    train_classifier(other, X, y, epochs=4, batch_size=32, seed=2)
    assert not torch.equal(other.state_dict()["layers.0.weight"], states[0]["layers.0.weight"])


def test_training_with_dropout_is_deterministic_and_cnn_learns():
    task = make_blobs_task(n_samples=160, n_features=4, n_classes=2, seed=0)
    weights = []
    for _ in range(2):
        torch.manual_seed(3)
        model = MLP(4, hidden=(8,), n_classes=2, dropout=0.5)
        train_classifier(model, *task.train, epochs=2, seed=4)
        weights.append(model.layers[0].weight.detach().clone())
    assert torch.equal(weights[0], weights[1])
    img = load_digits(image=True)
    torch.manual_seed(0)
    cnn = SmallCNN(channels=(4, 8))
    train_classifier(cnn, img.X_train[:300], img.y_train[:300], epochs=3, seed=0)
    assert accuracy(cnn, *img.test) > 0.5


def test_zero_epochs_changes_nothing(digits):
    torch.manual_seed(0)
    model = MLP(64, hidden=(8,), n_classes=10)
    w = model.layers[0].weight.detach().clone()
    result = train_classifier(model, *digits.train, epochs=0)
    assert result.losses == [] and result.n_steps == 0 and np.isnan(result.final_loss)
    assert torch.equal(model.layers[0].weight, w)


def test_accuracy_exact_on_hand_weighted_model_and_numpy_input():
    # logits = inputs, so the prediction is the argmax of each row
    X = np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 5.0], [1.0, 4.0, 0.0], [2.0, 0.0, 1.0]])
    y = np.array([0, 1, 1, 1, 2])
    assert accuracy(nn.Identity(), X, y) == pytest.approx(3 / 5)
    assert accuracy(nn.Identity(), torch.tensor(X), torch.tensor(y), batch_size=2) == pytest.approx(3 / 5)
    lin = nn.Linear(3, 3, bias=False, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.eye(3).roll(1, dims=1))  # logit k = x[(k + 1) % 3]
    assert accuracy(lin, X, y) == pytest.approx(2 / 5)  # predictions 2, 0, 1, 0, 2


@pytest.mark.parametrize("mode", ["train", "eval", "mixed"])
def test_accuracy_and_training_restore_module_modes(mode, digits):
    model = MLP(64, hidden=(8,), n_classes=10, dropout=0.5)
    model.train(mode != "eval")
    if mode == "mixed":
        model.layers[2].eval()
    want = [m.training for m in model.modules()]
    seen = []
    hook = model.layers[2].register_forward_hook(lambda m, i, o: seen.append(m.training))
    accuracy(model, digits.X_test[:50], digits.y_test[:50])
    assert seen == [False]
    assert [m.training for m in model.modules()] == want
    train_classifier(model, digits.X_train[:64], digits.y_train[:64], epochs=1, batch_size=64)
    assert seen == [False, True]
    assert [m.training for m in model.modules()] == want
    hook.remove()


def test_modes_restored_when_model_raises():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            raise RuntimeError("boom")

    model = Broken().train()
    with pytest.raises(ModelError, match="boom"):
        accuracy(model, torch.zeros(3, 2), torch.zeros(3, dtype=torch.int64))
    assert model.training and model.lin.training
    model.eval()
    with pytest.raises(ModelError, match="Broken"):
        train_classifier(model, torch.zeros(3, 2), torch.zeros(3, dtype=torch.int64), epochs=1)
    assert not model.training


@pytest.mark.parametrize(
    "X, y, match",
    [
        (torch.zeros(4, 3), torch.zeros(5, dtype=torch.int64), "4 samples but y has 5"),
        (torch.zeros(0, 3), torch.zeros(0, dtype=torch.int64), "X is empty"),
        (torch.zeros(4, 3), torch.zeros(4), "y must hold integer"),
        (torch.zeros(4, 3), torch.zeros(4, dtype=torch.bool), "y must hold integer"),
        (torch.zeros(4, 3), torch.zeros(4, 1, dtype=torch.int64), "y must be 1-D"),
        (torch.zeros(4, 3), torch.tensor([0, 1, -1, 0]), "labels >= 0"),
        (torch.zeros(4, 3), torch.tensor([0, 1, 3, 0]), "label 3 but the model returns only 3"),
        (torch.tensor([[0.0, 1.0, float("nan")]] * 4), torch.zeros(4, dtype=torch.int64), "NaN"),
    ],
)
def test_bad_data_raises_data_error(X, y, match):
    model = nn.Linear(3, 3)
    with pytest.raises(DataError, match=match):
        train_classifier(model, X, y, epochs=1)
    with pytest.raises(DataError, match=match):
        accuracy(model, X, y)


def test_bad_options_and_bad_logits():
    model = nn.Linear(3, 3)
    X, y = torch.zeros(4, 3), torch.zeros(4, dtype=torch.int64)
    for kwargs in (dict(epochs=-1), dict(batch_size=0), dict(lr=0.0), dict(weight_decay=-1.0)):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            train_classifier(model, X, y, **kwargs)
    with pytest.raises(ValueError, match="no trainable parameters"):
        train_classifier(nn.Identity(), X, y)
    with pytest.raises(ModelError, match="logits of shape"):
        accuracy(nn.Flatten(0), X, y)
