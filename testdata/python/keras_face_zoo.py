#!/usr/bin/env python3
"""Keras 3 reference models for the Keras -> ONNX converter of SphereKit (exporter/keras).

Builds, with seeded random weights (BatchNormalization with non-trivial moving mean/variance, PReLU slopes and
biases away from their defaults), four face-recognition architectures at reduced width/depth and a set of small
one-layer (or few-layer) models, one per mapped Keras layer. Each is saved as a native ``.keras`` file; some are
also saved as legacy Keras 2 ``.h5`` files. For each model the script writes a batch-1 and a batch-7 input and the
Keras ``predict`` output.

Architectures (channels_last, input 56x48x3 unless noted):
  mobilefacenet  Chen et al. 2018, "MobileFaceNets": conv3x3/s2 - depthwise3x3 - bottlenecks (1x1 expand, PReLU,
                 depthwise 3x3, 1x1 linear project, residual when stride 1) - conv1x1 - linear GDConv (depthwise,
                 kernel = final spatial size) - linear 1x1 conv - BN - flatten
  iresnet        Deng et al. 2019, ArcFace IResNet (insightface iresnet.py): stem conv-BN-PReLU, units
                 BN-conv3x3-BN-PReLU-conv3x3(stride)-BN + shortcut (conv1x1/stride + BN when downsampling),
                 then BN - Dropout - Flatten - Dense - BN (depth reduced to 2 units per stage, 3 stages)
  inception_resnet  Schroff et al. 2015 FaceNet, Inception-ResNet-v1 (Szegedy et al. 2016) block35/reduction
                 stack: three concatenated branches, a linear 1x1 conv, residual scaled by 0.17 (Rescaling), ReLU
  sphereface20   Liu et al. 2017, SphereFace-20 (ZeroPadding + 'valid' stride-2 conv, PReLU, residual units),
                 built by keras_reference.build_sphereface

Outputs in --out (all float32 little-endian raw arrays, shapes in manifest.json):
  <name>.keras, [<name>.h5], <name>_in1.bin, <name>_in7.bin, <name>_out1.bin, <name>_out7.bin
  (a model with several inputs, kind "multi": <name>_in<b>_<i>.bin per input i, "input_shapes"/"input_names" in the
  manifest)
  manifest.json  {"models": {name: {"kind", "input_shape", "output_shape", "params", "files"}}, "seed", versions}

Usage: keras_face_zoo.py --out DIR --seed N [--only NAME ...]
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers as L  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_reference import build_sphereface  # noqa: E402

H, W = 56, 48


def randomize(model, rng):
    """Seeded non-default weights: BN stats, PReLU slopes, biases; kernels keep their seeded initialiser."""
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        if isinstance(layer, L.BatchNormalization):
            new = []
            names = [v.path.split("/")[-1] for v in layer.weights]
            for n, w in zip(names, ws):
                if n == "gamma":
                    new.append(rng.uniform(0.6, 1.4, w.shape))
                elif n == "beta":
                    new.append(rng.normal(0, 0.1, w.shape))
                elif n == "moving_mean":
                    new.append(rng.normal(0, 0.2, w.shape))
                else:
                    new.append(rng.uniform(0.5, 1.5, w.shape))
            layer.set_weights([a.astype("float32") for a in new])
        elif isinstance(layer, L.PReLU):
            layer.set_weights([rng.uniform(0.05, 0.4, ws[0].shape).astype("float32")])
        elif isinstance(layer, L.LayerNormalization):
            layer.set_weights([(w + rng.normal(0, 0.1, w.shape)).astype("float32") for w in ws])
        else:
            new = []
            for v, w in zip(layer.weights, ws):
                if v.path.endswith("bias"):
                    new.append(rng.normal(0, 0.05, w.shape).astype("float32"))
                else:
                    new.append(w)
            layer.set_weights(new)


def conv_bn(x, ch, k, s=1, name=None, prelu=True, groups=None):
    if groups:
        x = L.DepthwiseConv2D(k, strides=s, padding="same", use_bias=False, name=name + "_dw")(x)
    else:
        x = L.Conv2D(ch, k, strides=s, padding="same", use_bias=False, name=name + "_conv")(x)
    x = L.BatchNormalization(epsilon=1e-5, name=name + "_bn")(x)
    if prelu:
        x = L.PReLU(shared_axes=[1, 2], name=name + "_prelu")(x)
    return x


def mobilefacenet(emb=32):
    inp = keras.Input((H, W, 3), name="input")
    x = conv_bn(inp, 16, 3, 2, "conv1")
    x = conv_bn(x, 16, 3, 1, "dwconv1", groups=True)
    cfg = [(2, 24, 2, 2), (2, 24, 1, 2), (2, 32, 2, 1), (2, 32, 1, 2)]  # (expansion, out, stride, repeats)
    cin = 16
    b = 0
    for t, c, s, n in cfg:
        for i in range(n):
            stride = s if i == 0 else 1
            y = conv_bn(x, cin * t, 1, 1, f"b{b}_expand")
            y = conv_bn(y, 0, 3, stride, f"b{b}_dw", groups=True)
            y = conv_bn(y, c, 1, 1, f"b{b}_project", prelu=False)
            x = L.Add(name=f"b{b}_add")([x, y]) if stride == 1 and cin == c else y
            cin = c
            b += 1
    x = conv_bn(x, 64, 1, 1, "conv_sep")
    hh, ww = x.shape[1], x.shape[2]
    x = L.DepthwiseConv2D((hh, ww), padding="valid", use_bias=False, name="gdconv")(x)
    x = L.BatchNormalization(epsilon=1e-5, name="gdconv_bn")(x)
    x = L.Conv2D(emb, 1, use_bias=False, name="linear_conv")(x)
    x = L.BatchNormalization(epsilon=1e-5, name="linear_bn")(x)
    x = L.Flatten(name="embedding")(x)
    return keras.Model(inp, x, name="mobilefacenet")


def iresnet(emb=32):
    inp = keras.Input((H, W, 3), name="input")
    x = L.Conv2D(8, 3, padding="same", use_bias=False, name="conv1")(inp)
    x = L.BatchNormalization(epsilon=1e-5, name="bn1")(x)
    x = L.PReLU(shared_axes=[1, 2], name="prelu1")(x)
    cin = 8
    for st, ch in enumerate((8, 16, 24)):
        for u in range(2):
            s = 2 if u == 0 else 1
            n = f"s{st}u{u}"
            y = L.BatchNormalization(epsilon=1e-5, name=n + "_bn1")(x)
            y = L.Conv2D(ch, 3, padding="same", use_bias=False, name=n + "_conv1")(y)
            y = L.BatchNormalization(epsilon=1e-5, name=n + "_bn2")(y)
            y = L.PReLU(shared_axes=[1, 2], name=n + "_prelu")(y)
            y = L.Conv2D(ch, 3, strides=s, padding="same", use_bias=False, name=n + "_conv2")(y)
            y = L.BatchNormalization(epsilon=1e-5, name=n + "_bn3")(y)
            if s != 1 or cin != ch:
                sc = L.Conv2D(ch, 1, strides=s, use_bias=False, name=n + "_down")(x)
                sc = L.BatchNormalization(epsilon=1e-5, name=n + "_down_bn")(sc)
            else:
                sc = x
            x = L.Add(name=n + "_add")([y, sc])
            cin = ch
    x = L.BatchNormalization(epsilon=1e-5, name="bn2")(x)
    x = L.Dropout(0.4, name="dropout")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(emb, name="fc")(x)
    x = L.BatchNormalization(epsilon=1e-5, name="features")(x)
    return keras.Model(inp, x, name="iresnet")


def inception_resnet(emb=32):
    def cbr(x, ch, k, s=1, pad="same", name=None):
        x = L.Conv2D(ch, k, strides=s, padding=pad, use_bias=False, name=name + "_conv")(x)
        x = L.BatchNormalization(epsilon=1e-3, scale=False, name=name + "_bn")(x)
        return L.Activation("relu", name=name + "_relu")(x)

    inp = keras.Input((H, W, 3), name="input")
    x = cbr(inp, 8, 3, 2, "valid", "stem1")
    x = cbr(x, 8, 3, 1, "valid", "stem2")
    x = cbr(x, 16, 3, 1, "same", "stem3")
    x = L.MaxPooling2D(3, strides=2, name="stem_pool")(x)
    for i in range(2):
        n = f"block35_{i}"
        b0 = cbr(x, 8, 1, name=n + "_b0")
        b1 = cbr(cbr(x, 8, 1, name=n + "_b1a"), 8, 3, name=n + "_b1b")
        b2 = cbr(cbr(cbr(x, 8, 1, name=n + "_b2a"), 8, 3, name=n + "_b2b"), 8, 3, name=n + "_b2c")
        m = L.Concatenate(name=n + "_concat")([b0, b1, b2])
        up = L.Conv2D(16, 1, name=n + "_up")(m)
        up = L.Rescaling(0.17, name=n + "_scale")(up)
        x = L.Add(name=n + "_add")([x, up])
        x = L.Activation("relu", name=n + "_out")(x)
    r0 = L.MaxPooling2D(3, strides=2, padding="valid", name="red_pool")(x)
    r1 = cbr(x, 12, 3, 2, "valid", "red_b1")
    r2 = cbr(cbr(x, 8, 1, name="red_b2a"), 12, 3, 2, "valid", "red_b2b")
    x = L.Concatenate(name="red_concat")([r0, r1, r2])
    x = L.GlobalAveragePooling2D(name="avgpool")(x)
    x = L.Dropout(0.2, name="dropout")(x)
    x = L.Dense(emb, use_bias=False, name="bottleneck")(x)
    x = L.BatchNormalization(epsilon=1e-3, scale=False, name="bottleneck_bn")(x)
    return keras.Model(inp, x, name="inception_resnet")


def seq(name, shape, *layers_):
    return keras.Sequential([keras.Input(shape)] + list(layers_), name=name)


def fn(name, shape, body):
    inp = keras.Input(shape, name="input")
    return keras.Model(inp, body(inp), name=name)


def layer_cases():
    """Small models, one per mapped layer (odd spatial sizes)."""
    s = (13, 11, 3)
    c = {}
    c["conv2d_same_s2"] = seq("conv2d_same_s2", (12, 10, 3), L.Conv2D(5, 3, strides=2, padding="same"))
    c["conv2d_same_s2_odd"] = seq("conv2d_same_s2_odd", s, L.Conv2D(5, 4, strides=2, padding="same", activation="relu"))
    c["conv2d_valid_dil"] = seq("conv2d_valid_dil", s, L.Conv2D(4, 3, dilation_rate=2, use_bias=False))
    c["conv2d_groups"] = seq("conv2d_groups", (13, 11, 4), L.Conv2D(6, 3, groups=2, padding="same", activation="tanh"))
    c["conv1d"] = seq("conv1d", (17, 3), L.Conv1D(4, 3, strides=2, padding="same", activation="sigmoid"))
    c["conv1d_valid"] = seq("conv1d_valid", (17, 3), L.Conv1D(4, 5, padding="valid"), L.Flatten())
    c["depthwise"] = seq("depthwise", s, L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2))
    c["separable"] = seq("separable", s, L.SeparableConv2D(5, 3, padding="same", depth_multiplier=2, activation="elu"))
    c["conv2d_transpose_same"] = seq("conv2d_transpose_same", (7, 5, 3), L.Conv2DTranspose(4, 3, strides=2, padding="same"))
    c["conv2d_transpose_valid"] = seq("conv2d_transpose_valid", (7, 5, 3), L.Conv2DTranspose(4, 4, strides=2, padding="valid"))
    c["dense_softmax"] = seq("dense_softmax", (9,), L.Dense(6, activation="softmax"))
    c["batchnorm"] = seq("batchnorm", s, L.BatchNormalization())
    c["layernorm"] = seq("layernorm", (7,), L.Dense(6), L.LayerNormalization())
    c["activations"] = seq("activations", s, L.Conv2D(4, 1), L.Activation("selu"), L.Conv2D(4, 1), L.Activation("swish"),
                           L.Conv2D(4, 1), L.Activation("softplus"), L.Conv2D(4, 1), L.Activation("hard_sigmoid"))
    c["relu_variants"] = seq("relu_variants", s, L.ReLU(max_value=0.4), L.Conv2D(4, 1), L.ReLU(threshold=0.1),
                             L.Conv2D(4, 1), L.ReLU(negative_slope=0.2, threshold=0.3, max_value=1.0))
    c["leaky_elu"] = seq("leaky_elu", s, L.LeakyReLU(0.15), L.Conv2D(4, 1), L.ELU(0.7))
    c["prelu_shared"] = seq("prelu_shared", s, L.PReLU(shared_axes=[1, 2]))
    c["prelu_full"] = seq("prelu_full", s, L.PReLU())
    c["softmax_axis"] = seq("softmax_axis", s, L.Softmax(axis=-1))
    c["merges"] = fn("merges", s, lambda x: L.Concatenate()([
        L.Add()([L.Conv2D(4, 1)(x), L.Conv2D(4, 1)(x)]),
        L.Subtract()([L.Conv2D(4, 1)(x), L.Conv2D(4, 1)(x)]),
        L.Multiply()([L.Conv2D(4, 1)(x), L.Conv2D(4, 1)(x)]),
        L.Average()([L.Conv2D(4, 1)(x), L.Conv2D(4, 1)(x)]),
        L.Maximum()([L.Conv2D(4, 1)(x), L.Conv2D(4, 1)(x)])]))
    c["concat_axis1"] = fn("concat_axis1", s, lambda x: L.Concatenate(axis=1)([x, L.Conv2D(3, 1)(x)]))
    c["maxpool_same"] = seq("maxpool_same", s, L.MaxPooling2D(3, strides=2, padding="same"))
    c["maxpool_valid"] = seq("maxpool_valid", s, L.MaxPooling2D(2))
    c["avgpool_same"] = seq("avgpool_same", s, L.AveragePooling2D(3, strides=2, padding="same"))
    c["avgpool_valid"] = seq("avgpool_valid", s, L.AveragePooling2D((3, 2), strides=(2, 1)))
    c["global_pools"] = fn("global_pools", s, lambda x: L.Concatenate()([
        L.GlobalAveragePooling2D()(x), L.GlobalMaxPooling2D()(x)]))
    c["flatten_dense"] = seq("flatten_dense", s, L.Conv2D(4, 3, strides=2), L.Flatten(), L.Dense(5))
    c["reshape"] = seq("reshape", s, L.Conv2D(4, 1), L.Reshape((11, 13, 4)), L.Conv2D(3, 1))
    c["reshape_flat"] = seq("reshape_flat", s, L.Reshape((-1,)), L.Dense(4), L.Reshape((2, 2)))
    c["permute"] = seq("permute", s, L.Permute((2, 1, 3)), L.Conv2D(4, 1))
    c["dropouts"] = seq("dropouts", s, L.Dropout(0.5), L.SpatialDropout2D(0.3), L.Conv2D(4, 1))
    c["zeropad_crop"] = seq("zeropad_crop", s, L.ZeroPadding2D(((1, 2), (0, 3))), L.Conv2D(4, 3),
                            L.Cropping2D(((2, 1), (1, 0))))
    c["upsampling"] = seq("upsampling", (5, 4, 3), L.UpSampling2D((2, 3)), L.Conv2D(3, 3))
    c["rescaling"] = seq("rescaling", s, L.Rescaling(1 / 127.5, offset=-1.0), L.Conv2D(3, 1))
    c["normalization"] = seq("normalization", s, L.Normalization(mean=[0.1, -0.2, 0.3], variance=[0.5, 2.0, 1.5]))
    c["unitnorm"] = seq("unitnorm", (9,), L.Dense(6), L.UnitNormalization())
    c["identity"] = seq("identity", s, L.Identity(), L.Conv2D(3, 1))
    c["minimum"] = fn("minimum", s, lambda x: L.Minimum()([L.Conv2D(4, 1)(x), L.Conv2D(4, 1)(x), L.Conv2D(4, 1)(x)]))
    c["maxpool1d_same"] = seq("maxpool1d_same", (17, 4), L.MaxPooling1D(3, strides=2, padding="same"))
    c["avgpool1d_valid"] = seq("avgpool1d_valid", (17, 4), L.AveragePooling1D(3, strides=2), L.Conv1D(3, 2))
    c["avgpool1d_same"] = seq("avgpool1d_same", (16, 4), L.AveragePooling1D(4, strides=3, padding="same"))
    c["global_pools_1d"] = fn("global_pools_1d", (17, 5), lambda x: L.Concatenate()([
        L.GlobalAveragePooling1D()(L.Conv1D(4, 3)(x)), L.GlobalMaxPooling1D()(x)]))
    c["global_pool_1d_keepdims"] = seq("global_pool_1d_keepdims", (15, 3), L.GlobalAveragePooling1D(keepdims=True),
                                       L.Conv1D(4, 1))
    acts = []
    for a in ("gelu", "mish", "exponential", "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid", "tanh_shrink",
              "squareplus", "celu", "soft_shrink", "hard_shrink"):
        acts += [L.Conv2D(4, 1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.8)), L.Activation(a)]
    c["activations_more"] = seq("activations_more", s, *acts)
    c["dense_gelu_log_softmax"] = seq("dense_gelu_log_softmax", (9,), L.Dense(8, activation="gelu"),
                                      L.Dense(5, activation="log_softmax"))
    return c


def multi_input_cases():
    """Functional models with several Input layers (each NHWC -> NCHW on its own)."""
    c = {}
    face = keras.Input((13, 11, 3), name="face")
    aux = keras.Input((13, 11, 2), name="aux_map")
    side = keras.Input((5,), name="side")
    y = L.Concatenate()([L.Conv2D(4, 3, padding="same")(face), aux])
    y = L.Flatten()(L.Conv2D(4, 3, strides=2)(y))
    y = L.Concatenate()([L.Dense(6)(y), L.Dense(6, activation="tanh")(side)])
    c["three_inputs"] = keras.Model([face, aux, side], y, name="three_inputs")
    a = keras.Input((9, 7, 3), name="left")
    b = keras.Input((9, 7, 3), name="right")
    d = L.Subtract()([L.Conv2D(5, 3, strides=2, padding="same")(a), L.Conv2D(5, 3, strides=2, padding="same")(b)])
    c["two_images"] = keras.Model([a, b], L.Dense(4)(L.Flatten()(d)), name="two_images")
    return c


def save_all(name, model, out, rng, manifest, kind, h5=False, verify=False):
    t_start = time.time()
    randomize(model, rng)
    files = [name + ".keras"]
    model.save(os.path.join(out, name + ".keras"))
    if h5:
        model.save(os.path.join(out, name + ".h5"))
        files.append(name + ".h5")
    multi = len(model.inputs) > 1
    shapes = [tuple(i.shape[1:]) for i in model.inputs]
    entry = {"kind": kind, "input_shape": list(shapes[0]), "params": int(model.count_params()), "files": files}
    if multi:
        entry["input_shapes"] = [list(sh) for sh in shapes]
        entry["input_names"] = [i.name for i in model.inputs]
    for b in (1, 7):
        xs = [rng.uniform(-1, 1, (b,) + sh).astype("float32") for sh in shapes]
        x = xs if multi else xs[0]
        y = np.asarray(model.predict(x, verbose=0, batch_size=b), dtype="float32")
        if verify:
            again = np.asarray(keras.models.load_model(os.path.join(out, name + ".keras")).predict(x, verbose=0))
            assert np.allclose(y, again, atol=1e-6), name
        if multi:
            for i, xi in enumerate(xs):
                xi.astype("<f4").tofile(os.path.join(out, f"{name}_in{b}_{i}.bin"))
        else:
            x.astype("<f4").tofile(os.path.join(out, f"{name}_in{b}.bin"))
        y.astype("<f4").tofile(os.path.join(out, f"{name}_out{b}.bin"))
        entry["output_shape"] = list(y.shape[1:])
    entry["seconds"] = round(time.time() - t_start, 2)
    manifest["models"][name] = entry
    print(name, entry["seconds"], "s", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--only", nargs="*", help="model names to build (default: all)")
    ap.add_argument("--verify-reload", action="store_true")
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    keras.utils.set_random_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    manifest = {"seed": a.seed, "keras": keras.__version__, "backend": keras.backend.backend(), "models": {}}
    faces = {"mobilefacenet": (mobilefacenet, True), "iresnet": (iresnet, False),
             "inception_resnet": (inception_resnet, False),
             "sphereface20": (lambda: build_sphereface(20, 0.125, 32, H, W), True)}
    for name, (build, h5) in faces.items():
        if a.only and name not in a.only:
            continue
        save_all(name, build(), a.out, rng, manifest, "face", h5=h5, verify=a.verify_reload)
    for name, model in layer_cases().items():
        if a.only and name not in a.only:
            continue
        save_all(name, model, a.out, rng, manifest, "layer", h5=name in ("merges", "flatten_dense"),
                 verify=a.verify_reload)
    for name, model in multi_input_cases().items():
        if a.only and name not in a.only:
            continue
        save_all(name, model, a.out, rng, manifest, "multi", h5=name == "two_images", verify=a.verify_reload)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {len(manifest['models'])} models to {a.out} in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
