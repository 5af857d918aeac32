#!/usr/bin/env python3
"""Keras 3 reference outputs for the Keras <-> DL4J parity tests of SphereKit.

Builds SphereFace-4 / SphereFace-20 (Liu et al., CVPR 2017) in Keras 3 with seeded random weights, saves them as
native ``.keras`` files, and writes their embeddings for a fixed NHWC input batch. It also evaluates an A-Softmax
head (a vectorised Keras layer that takes the labels as a second input) on a fixed (x, W, labels) for
m = 1..4 and lambda in {1000, 20, 5, 0}: loss, logits, dL/dx and dL/dW.

Backend: JAX (``KERAS_BACKEND=jax``). It is a far lighter install than TensorFlow (jax + jaxlib are ~90 MB against
~600 MB for tensorflow-cpu and its dependency tree), it starts faster, and ``jax.value_and_grad`` over the layer's
``stateless_call`` gives the head's exact gradients with no tape machinery. JAX's 64-bit mode is switched on so the
head references are computed in float64 (the network itself stays float32, Keras' default floatx).

Network layout (channels_last, the Keras default), names matching io.spherekit.trainer.model.SphereFaceNet:
  stage i: pad{i}_1 = ZeroPadding2D(1) -> conv{i}_1 = Conv2D(3x3, stride 2, padding='valid') -> relu{i}_1 = PReLU
           then per residual unit: conv{i}_{j} ('same', stride 1) -> relu{i}_{j} -> conv{i}_{j+1} -> relu{i}_{j+1},
           res{i}_{j+1} = Add(unit input, relu{i}_{j+1})
  flatten -> fc5 = Dense(embedding)
Caffe's pad-1 stride-2 conv is ZeroPadding2D(1) + a 'valid' conv: Keras 'same' padding with stride 2 on an even
size pads 0 before and 1 after, which is a different function.

Outputs in --out:
  model_sf{depth}.keras       native Keras 3 model (config.json + model.weights.h5 in a zip)
  input.npy                   float32 NHWC input batch [B, H, W, 3], values in [-1, 1]
  embeddings_sf{depth}.npy    float32 fc5 outputs [B, embedding]
  asoftmax_reference.json     head inputs and, per (m, lambda): loss (mean over the batch), logits, dL/dx, dL/dW

Usage: keras_reference.py --out DIR --seed N [--depth 4 20] [--width 0.125] [--embedding 32] [--batch 3]
                          [--verify-reload]
"""

import argparse
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

BASE_CHANNELS = (64, 128, 256, 512)
UNITS = {4: (0, 0, 0, 0), 10: (0, 1, 2, 0), 20: (1, 2, 4, 1), 36: (2, 4, 8, 2), 64: (3, 8, 16, 3)}


def channels(width):
    return [max(1, int(round(c * width))) for c in BASE_CHANNELS]


def build_sphereface(depth, width, embedding, height=112, in_width=96):
    units = UNITS[depth]
    ch = channels(width)
    inp = keras.Input(shape=(height, in_width, 3), name="input")
    x = inp
    for s in range(4):
        st = s + 1
        x = keras.layers.ZeroPadding2D(1, name=f"pad{st}_1")(x)
        x = keras.layers.Conv2D(ch[s], 3, strides=2, padding="valid", name=f"conv{st}_1")(x)
        x = keras.layers.PReLU(shared_axes=[1, 2], name=f"relu{st}_1")(x)
        idx = 2
        for _ in range(units[s]):
            y = keras.layers.Conv2D(ch[s], 3, strides=1, padding="same", name=f"conv{st}_{idx}")(x)
            y = keras.layers.PReLU(shared_axes=[1, 2], name=f"relu{st}_{idx}")(y)
            y = keras.layers.Conv2D(ch[s], 3, strides=1, padding="same", name=f"conv{st}_{idx + 1}")(y)
            y = keras.layers.PReLU(shared_axes=[1, 2], name=f"relu{st}_{idx + 1}")(y)
            x = keras.layers.Add(name=f"res{st}_{idx + 1}")([x, y])
            idx += 2
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(embedding, name="fc5")(x)
    return keras.Model(inp, x, name=f"sphereface{depth}")


def perturb(model, rng):
    """Moves biases and PReLU slopes away from their defaults (0 and 0.25) and tames the residual convs."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.PReLU):
            a = layer.alpha.numpy() if hasattr(layer.alpha, "numpy") else np.asarray(layer.alpha)
            layer.alpha.assign(rng.uniform(0.05, 0.5, size=a.shape).astype("float32"))
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            k, b = layer.get_weights()
            if isinstance(layer, keras.layers.Conv2D) and layer.strides == (1, 1):
                k = k * 0.5  # keeps the residual sums of SphereFace-20 from growing layer after layer
            b = rng.normal(0.0, 0.05, size=b.shape).astype("float32")
            layer.set_weights([k.astype("float32"), b])


def _unary(name, x):
    """keras.ops.<name>(x), keeping float64 on the JAX backend.

    Keras 3.15 promotes the input of its unary float ops (arccos, cos, floor, ...) with
    ``dtypes.result_type(x.dtype, float)``, and on every backend but TensorFlow that maps float64 to float32
    (``BIT64_TO_BIT32_DTYPE`` in keras/src/backend/common/dtypes.py). That would cap the float64 head reference at
    float32 precision (~1e-7 relative), so for float64 inputs under JAX the same function is taken from jax.numpy.
    """
    if keras.backend.backend() == "jax" and x.dtype == np.float64:
        return getattr(jax.numpy, name)(x)
    return getattr(ops, name)(x)


class ASoftmax(keras.layers.Layer):
    """A-Softmax (SphereFace Eq. 7) with the lambda blend of wy1iu/sphereface margin_inner_product_layer.cpp.

    Inputs: [x (B, D), labels (B,) int]. Output: the training logits (B, C):
      cos_j = w_j.x / (|w_j| |x|), norms sqrt(sum v^2 + 1e-12), cos clipped to [-1, 1]
      theta = acos(cos_y), k = floor(m theta / pi) (at most m-1), psi = (-1)^k cos(m theta) - 2k
      target logit |x| (lambda cos_y + psi) / (1 + lambda), other logits |x| cos_j
    Written independently of the Java head (acos + floor here; Chebyshev polynomials and thresholds there).
    """

    def __init__(self, num_classes, m=4, lambda_=5.0, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.m = int(m)
        self.lambda_ = float(lambda_)

    def build(self, input_shape):
        d = input_shape[0][-1]
        self.w = self.add_weight(shape=(d, self.num_classes), initializer="glorot_uniform", name="W")

    def call(self, inputs):
        x, labels = inputs
        eps = 1e-12
        x_norm = ops.sqrt(ops.sum(x * x, axis=1, keepdims=True) + eps)
        w_norm = ops.sqrt(ops.sum(self.w * self.w, axis=0, keepdims=True) + eps)
        cos = ops.clip(ops.matmul(x, self.w / w_norm) / x_norm, -1.0, 1.0)
        onehot = ops.one_hot(ops.cast(labels, "int32"), self.num_classes, dtype=cos.dtype)
        cos_y = ops.sum(cos * onehot, axis=1, keepdims=True)
        theta = _unary("arccos", cos_y)
        k = ops.minimum(_unary("floor", ops.stop_gradient(theta) * self.m / np.pi), self.m - 1)
        sign = 1.0 - 2.0 * ops.mod(k, 2.0)
        psi = sign * _unary("cos", self.m * theta) - 2.0 * k
        target = (self.lambda_ * cos_y + psi) / (1.0 + self.lambda_)
        return x_norm * (cos + onehot * (target - cos_y))

    def get_config(self):
        c = super().get_config()
        c.update(num_classes=self.num_classes, m=self.m, lambda_=self.lambda_)
        return c


def head_reference(rng, batch=6, dim=8, classes=5):
    x = rng.normal(0.0, 3.0, size=(batch, dim))
    w = rng.normal(0.0, 1.0, size=(dim, classes))
    labels = rng.integers(0, classes, size=batch)
    cases = []
    for m in (1, 2, 3, 4):
        for lam in (1000.0, 20.0, 5.0, 0.0):
            layer = ASoftmax(classes, m=m, lambda_=lam, dtype="float64")
            layer.build([(None, dim), (None,)])

            def loss_fn(xv, wv, layer=layer):
                logits, _ = layer.stateless_call([wv], [], [xv, labels])
                logp = jax.nn.log_softmax(logits, axis=1)
                loss = -jax.numpy.mean(jax.numpy.take_along_axis(logp, labels[:, None], axis=1))
                return loss, logits

            (loss, logits), (gx, gw) = jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)(
                jax.numpy.asarray(x), jax.numpy.asarray(w))
            assert logits.dtype == np.float64 and gx.dtype == np.float64 and gw.dtype == np.float64
            cases.append({"m": m, "lambda": lam, "loss": float(loss),
                          "logits": np.asarray(logits).tolist(),
                          "dx": np.asarray(gx).tolist(), "dW": np.asarray(gw).tolist()})
    return {"description": "A-Softmax head reference (Keras 3, JAX backend, float64). loss = mean over the batch "
                           "of softmax cross-entropy; dx, dW = gradients of that mean.",
            "x": x.tolist(), "W": w.tolist(), "labels": labels.tolist(), "cases": cases}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--depth", type=int, nargs="+", default=[4, 20], choices=sorted(UNITS))
    ap.add_argument("--width", type=float, default=0.125, help="channel multiplier (1.0 = 64/128/256/512)")
    ap.add_argument("--embedding", type=int, default=32, help="fc5 size (paper: 512)")
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--verify-reload", action="store_true", help="reload each saved .keras file and re-check it")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    keras.utils.set_random_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    inp = rng.uniform(-1.0, 1.0, size=(a.batch, 112, 96, 3)).astype("float32")
    np.save(os.path.join(a.out, "input.npy"), inp)
    for depth in a.depth:
        model = build_sphereface(depth, a.width, a.embedding)
        perturb(model, rng)
        path = os.path.join(a.out, f"model_sf{depth}.keras")
        model.save(path)
        emb = np.asarray(model.predict(inp, verbose=0), dtype="float32")
        if a.verify_reload:  # the saved file reproduces the same embeddings
            again = np.asarray(keras.models.load_model(path).predict(inp, verbose=0))
            if not np.array_equal(emb, again):
                sys.exit(f"reloaded sf{depth} differs by {np.max(np.abs(emb - again))}")
        np.save(os.path.join(a.out, f"embeddings_sf{depth}.npy"), emb)
        print(f"sf{depth}: {model.count_params()} params, embedding norm {np.linalg.norm(emb, axis=1)}")

    with open(os.path.join(a.out, "asoftmax_reference.json"), "w") as f:
        json.dump(head_reference(rng), f)
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump({"seed": a.seed, "depths": a.depth, "width": a.width, "embedding": a.embedding,
                   "batch": a.batch, "backend": keras.backend.backend(), "keras": keras.__version__,
                   "jax": jax.__version__}, f, indent=1)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
