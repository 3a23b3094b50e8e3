"""fenwicks_lite.optim (Chapter 7; the seed's `fw.train` names): the triangular schedule and
PyTorch-style Nesterov SGD, on both backends."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenwicks_lite import optim

pytestmark = pytest.mark.backend


def _lr(schedule, step) -> float:
    return float(keras.ops.convert_to_numpy(schedule(step)))


# ------------------------------------------------------------------------------------------- schedule

def test_triangular_key_points():
    s = optim.triangular_lr(0.4, 24, 5)
    assert _lr(s, 0) == 0.0
    assert _lr(s, 5) == pytest.approx(0.4)
    assert _lr(s, 24) == 0.0
    assert _lr(s, 30) == 0.0  # past the end: never negative
    assert _lr(s, 2) == pytest.approx(0.4 * 2 / 5)
    assert _lr(s, 10) == pytest.approx(0.4 * 14 / 19)


def test_no_warmup_starts_at_peak():
    s = optim.triangular_lr(0.1, 10, 0)
    assert _lr(s, 0) == pytest.approx(0.1) and _lr(s, 5) == pytest.approx(0.05)


@settings(max_examples=30, deadline=None)
@given(peak=st.floats(1e-4, 10), total=st.integers(2, 10_000), frac=st.floats(0, 0.99), u=st.floats(0, 1.2))
def test_triangular_is_the_piecewise_linear_interpolation(peak, total, frac, u):
    warmup = min(int(frac * total), total - 1)
    step = int(u * total)
    expected = np.interp(step, [0, warmup, total], [0 if warmup else peak, peak, 0])
    got = _lr(optim.triangular_lr(peak, total, warmup), step)
    assert got == pytest.approx(expected, rel=1e-5, abs=1e-6 * peak)
    assert 0 <= got <= peak * (1 + 1e-6)


def test_schedule_accepts_arrays_and_round_trips():
    s = optim.triangular_lr(0.4, 100, 20)
    lrs = keras.ops.convert_to_numpy(s(np.arange(101)))
    assert lrs.shape == (101,) and lrs.argmax() == 20
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(s))
    assert isinstance(again, optim.TriangularLR) and again.get_config() == s.get_config()


def test_schedule_steps_match_the_seed():
    # the seed: 50,000 images, batch 512, 24 epochs, 5 warm-up: 97 steps per epoch
    assert optim.schedule_steps(50_000, 512, 24, 5) == (97, 2328, 485)
    assert optim.schedule_steps(2_500, 128, 2, 0.5) == (19, 38, 10)  # the quick profile, 9.5 rounded to even


@pytest.mark.parametrize("args, match", [
    ((0.4, 10, 10), "warmup_steps=10 must be smaller than total_steps=10"),
    ((0.4, 10, 12), "must be smaller than total_steps"),
    ((-0.1, 10, 2), "peak_lr .* must be a finite number >= 0"),
    ((0.4, 10.5, 2), "total_steps must be a whole number of steps, got 10.5: round it yourself"),
    ((0.4, 10, 2.5), "warmup_steps must be a whole number"),
    ((0.4, "10", 2), "total_steps must be a whole number"),
    ((0.4, 0, 0), "total_steps must be >= 1"),
    ((float("nan"), 10, 2), "peak_lr"),
])
def test_bad_schedules_say_what_to_do(args, match):
    with pytest.raises(ValueError, match=match):
        optim.triangular_lr(*args)


def test_bad_schedule_steps():
    with pytest.raises(ValueError, match="100 images cannot fill one batch of 512"):
        optim.schedule_steps(100, 512, 1, 0)
    with pytest.raises(ValueError, match="gives no training step"):
        optim.schedule_steps(1000, 100, 0.01, 0)


# the seed's May 2019 names: one_cycle_lr(init_lr, total, warmup, linear_decay())

@pytest.mark.parametrize("peak, total, warmup", [
    (0.4 / 512, 2328, 485),  # the best saved run's (04cbdc7) schedule
    (0.4, 24, 5), (0.1, 10, 0), (3.0, 7, 6), (0.5, 1, 0)])
def test_one_cycle_with_linear_decay_is_the_triangle_at_every_step(peak, total, warmup):
    steps = np.arange(total + 20)
    one = optim.one_cycle_lr(peak, total, warmup, optim.linear_decay())
    tri = optim.triangular_lr(peak, total, warmup)
    got, want = (keras.ops.convert_to_numpy(f(steps)) for f in (one, tri))
    np.testing.assert_array_equal(got, want)
    for s in (0, warmup, total - 1, total, total + 3):  # one step at a time too
        assert _lr(one, s) == _lr(tri, s)


@settings(max_examples=30, deadline=None)
@given(peak=st.floats(1e-4, 10), total=st.integers(2, 10_000), frac=st.floats(0, 0.99),
       u=st.floats(0, 1.2))
def test_one_cycle_is_the_seeds_formula(peak, total, frac, u):
    """The seed (train.py at 04cbdc7): init_lr * step / warmup while step < warmup, else
    tf.train.polynomial_decay(init_lr, step - warmup, total - warmup, end 0, power 1)."""
    warmup = min(int(frac * total), total - 1)
    step = int(u * total)
    decay_steps = total - warmup
    if step < warmup:
        expected = peak * step / warmup
    else:
        expected = peak * (1 - min(step - warmup, decay_steps) / decay_steps)
    got = _lr(optim.one_cycle_lr(peak, total, warmup, optim.linear_decay()), step)
    assert got == pytest.approx(expected, rel=1e-5, abs=1e-6 * peak)


def test_one_cycle_takes_another_decay():
    def cosine(lr, step, decay_steps):  # what the seed's later tutorials meant by a cosine
        t = keras.ops.minimum(step, decay_steps) / decay_steps
        return lr * 0.5 * (1 + keras.ops.cos(np.pi * t))

    s = optim.one_cycle_lr(0.4, 110, 10, cosine)
    assert _lr(s, 5) == pytest.approx(0.2)
    assert _lr(s, 10) == pytest.approx(0.4)
    assert _lr(s, 60) == pytest.approx(0.2, abs=1e-6)
    assert _lr(s, 110) == pytest.approx(0.0, abs=1e-7)


def test_one_cycle_round_trips_and_trains_as_the_triangle():
    s = optim.one_cycle_lr(0.4, 100, 20, optim.linear_decay())
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(s))
    assert isinstance(again, optim.OneCycleLR)
    assert isinstance(again.decay_sched, optim.LinearDecay)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again(np.arange(101))),
                                  keras.ops.convert_to_numpy(s(np.arange(101))))
    x, y = _linear_problem()
    w0 = np.ones((x.shape[1], 1), "float32")
    w_one = _fit_linear(optim.sgd_optimizer(optim.one_cycle_lr(
        0.05, 6, 2, optim.linear_decay()), wd=5e-4), x, y, w0, 6)
    w_tri = _fit_linear(optim.sgd_optimizer(optim.triangular_lr(0.05, 6, 2), wd=5e-4),
                        x, y, w0, 6)
    np.testing.assert_array_equal(w_one, w_tri)
    assert not np.array_equal(w_one, w0)


def test_sgd_triangle_one_cycle_is_nesterov_sgd_on_the_triangle():
    """The seed's 12ba3df (April 11): MomentumOptimizer(triangle, mom, use_nesterov=True)."""
    opt = optim.sgd_triangle_one_cycle(24, lr=0.4, warmup_steps=5, mom=0.85)
    assert isinstance(opt, optim.NesterovSGD)
    assert (opt.momentum, opt.l2, opt.nesterov) == (0.85, 0.0, True)
    assert opt._learning_rate.get_config() == optim.triangular_lr(0.4, 24, 5).get_config()


def _two_args(lr, step):
    return lr


@pytest.mark.parametrize("decay, match", [
    (None, "decay_sched must be a function .* such as fw.train.linear_decay"),
    (0.5, "decay_sched must be a function"),
    (_two_args, "failed on .* TypeError"),
    (lambda lr, step, n: (lambda: lr), "failed on"),  # TF 1's eager decays return this
    (lambda lr, step, n: keras.ops.ones(3) * lr, "gave shape .3,. at step 0"),
])
def test_bad_decays_say_what_to_do(decay, match):
    with pytest.raises(ValueError, match=match):
        optim.one_cycle_lr(0.4, 10, 2, decay)


@pytest.mark.parametrize("args, match", [
    ((0.4, 10, 10), "warmup_steps=10 must be smaller than total_steps=10"),
    ((-0.1, 10, 2), "init_lr .* must be a finite number >= 0"),
    ((0.4, 10.5, 2), "total_steps must be a whole number of steps, got 10.5"),
])
def test_bad_one_cycles_say_what_to_do(args, match):
    with pytest.raises(ValueError, match=match):
        optim.one_cycle_lr(*args, optim.linear_decay())


# ------------------------------------------------------------------------------------------- optimizer

def numpy_torch_sgd(w, grad_fn, lrs, mom, wd, nesterov):
    """torch.optim.SGD's documented algorithm (dampening 0), written here independently of the library."""
    w = np.asarray(w, np.float64).copy()
    buf = None
    for lr in lrs:
        g = grad_fn(w) + wd * w
        buf = g.copy() if buf is None else mom * buf + g
        d = g + mom * buf if nesterov else buf
        w = w - lr * d
    return w


def _linear_problem(n=16, d=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = rng.normal(size=(n, 1)).astype("float32")
    return x, y


def _fit_linear(opt, x, y, w0, steps, reduction="sum_over_batch_size"):
    """`steps` full-batch steps of Keras's own (jit-compiled) train step on a bias-free linear model."""
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(1, use_bias=False)])
    model.layers[0].kernel.assign(w0)
    model.compile(optimizer=opt, loss=keras.losses.MeanSquaredError(reduction=reduction), jit_compile=True)
    model.fit(x, y, batch_size=len(x), epochs=steps, shuffle=False, verbose=0)
    return keras.ops.convert_to_numpy(model.layers[0].kernel).astype(np.float64)


@pytest.mark.parametrize("nesterov, wd", [(True, 5e-2), (False, 5e-2), (True, 0.0)])
def test_matches_pytorch_sgd_with_a_changing_lr(nesterov, wd):
    x, y = _linear_problem()
    w0 = np.random.default_rng(1).normal(size=(5, 1)).astype("float32")
    steps = 12
    sched = optim.triangular_lr(0.05, steps, 4)
    got = _fit_linear(optim.sgd_optimizer(sched, mom=0.9, wd=wd, nesterov=nesterov), x, y, w0, steps)
    n = len(x)
    grad = lambda w: 2 / n * x.T.astype(np.float64) @ (x @ w - y)  # noqa: E731 - d/dw mean((xw - y)^2)
    lrs = [_lr(sched, t) for t in range(steps)]
    want = numpy_torch_sgd(w0, grad, lrs, 0.9, wd, nesterov)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    assert not np.allclose(want, w0, atol=1e-3)  # the weights did move


def test_sum_loss_with_scaled_lr_and_wd_is_the_mean_update():
    x, y = _linear_problem(n=32)
    w0 = np.random.default_rng(2).normal(size=(5, 1)).astype("float32")
    n, lr, wd = len(x), 0.05, 5e-3
    mean = _fit_linear(optim.sgd_optimizer(optim.triangular_lr(lr, 8, 2), wd=wd), x, y, w0, 8)
    summ = _fit_linear(optim.sgd_optimizer(optim.triangular_lr(lr / n, 8, 2), wd=wd * n), x, y, w0, 8,
                       reduction="sum")
    np.testing.assert_allclose(summ, mean, rtol=1e-4, atol=1e-6)


def test_keras_sgd_agrees_only_while_the_lr_is_constant():
    x, y = _linear_problem()
    w0 = np.random.default_rng(3).normal(size=(5, 1)).astype("float32")
    ours = _fit_linear(optim.sgd_optimizer(0.02), x, y, w0, 6)
    theirs = _fit_linear(keras.optimizers.SGD(0.02, momentum=0.9, nesterov=True), x, y, w0, 6)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    sched = optim.triangular_lr(0.05, 6, 2)
    ours = _fit_linear(optim.sgd_optimizer(sched), x, y, w0, 6)
    theirs = _fit_linear(keras.optimizers.SGD(sched, momentum=0.9, nesterov=True), x, y, w0, 6)
    assert np.abs(ours - theirs).max() > 1e-4


def test_optimizer_round_trips_its_config():
    opt = optim.sgd_optimizer(optim.triangular_lr(0.4, 100, 20), mom=0.8, wd=5e-4, nesterov=False)
    again = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert isinstance(again, optim.NesterovSGD)
    assert (again.momentum, again.l2, again.nesterov) == (0.8, 5e-4, False)
    assert isinstance(again._learning_rate, optim.TriangularLR)


@pytest.mark.parametrize("kwargs, match", [
    (dict(mom=-0.1), "momentum must be a number in \\[0, 1\\)"),
    (dict(mom=1.0), "momentum must be a number in \\[0, 1\\)"),
    (dict(wd=-5e-4), "weight decay .* must be a finite number >= 0"),
    (dict(mom=0.0), "Nesterov momentum needs momentum > 0"),
    (dict(lr_func=-0.1), "learning_rate must be a finite number >= 0"),
])
def test_bad_optimizer_arguments_say_what_to_do(kwargs, match):
    kwargs = {"lr_func": 0.1, **kwargs}
    with pytest.raises(ValueError, match=match):
        optim.sgd_optimizer(**kwargs)


def test_keras_decoupled_weight_decay_is_refused():
    with pytest.raises(ValueError, match="pass l2="):
        optim.NesterovSGD(0.1, weight_decay=1e-4)
