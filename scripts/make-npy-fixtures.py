#!/usr/bin/python3
"""Writes .npy files with NumPy for test/data/npy.test.ts: the reader's inputs (dtypes, versions, orders NumPy
produces) and, for the writer, files whose bytes ours must reproduce. Run: /usr/bin/python3 scripts/make-npy-fixtures.py"""
import json
import os

import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "npy")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)
cases = {}


def save(name, array, version=None):
    path = os.path.join(out, name + ".npy")
    if version is None:
        np.save(path, array)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, array, version=version)
    cases[name] = {"shape": list(array.shape), "values": np.asarray(array, dtype=np.float64).ravel(order="C").tolist()}


save("f4_nchw", rng.standard_normal((2, 3, 4, 5)).astype(np.float32))
save("f8_matrix", rng.standard_normal((3, 4)))
save("f2_vector", np.array([0.5, -2.0, 65504.0, 6.1e-5, 0.0], dtype=np.float16))
save("i8_labels", np.array([0, 9, 3, -1], dtype=np.int64))
save("i4_matrix", np.arange(-6, 6, dtype=np.int32).reshape(3, 4))
save("u1_image", rng.integers(0, 256, (2, 2, 3), dtype=np.uint8))
save("bool_mask", np.array([[True, False], [False, True]]))
save("f4_scalar", np.array(3.25, dtype=np.float32))
save("f4_empty", np.zeros((0, 64), dtype=np.float32))
save("f4_version2", rng.standard_normal((2, 2)).astype(np.float32), version=(2, 0))
# Written by NumPy from exactly these float32 values: the writer must give the same bytes.
save("writer_logits", (np.arange(20, dtype=np.float32).reshape(2, 10) / 7).astype(np.float32))
save("writer_vector", np.array([1.5, -0.25, 3.0], dtype=np.float32))
# Inputs the reader must refuse.
np.save(os.path.join(out, "refuse_fortran.npy"), np.asfortranarray(np.ones((2, 3), dtype=np.float32)))
np.save(os.path.join(out, "refuse_bigendian.npy"), np.ones(3, dtype=">f4"))
np.save(os.path.join(out, "refuse_complex.npy"), np.ones(2, dtype=np.complex64))
with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump({"numpy": np.__version__, "cases": cases}, f)
