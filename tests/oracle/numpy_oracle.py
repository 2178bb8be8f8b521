#!/usr/bin/python3
"""NumPy oracle for tessera arrays: generates inputs and the operations to run on them, and
computes NumPy's answer for each, at test time, into a case file that tessera_numpy_oracle
reads (see oracle_runner.cpp for the format and the comparison).

    numpy_oracle.py CASES_FILE

NumPy's scalar rules are NumPy 2's (NEP 50): the installed NumPy 1.24 is switched to its weak
promotion state. Where NumPy 1.24 differs from NumPy 2 on what is computed here (comparisons
with an out-of-range integer scalar raise in 1.24, clip with out-of-range integer bounds raises
before 2.1) the NumPy 2 answer is computed explicitly. tessera's deliberate differences from
NumPy (docs/numpy_differences.md) are applied in one place, adapt(), so that every other
answer is NumPy's own.
"""
import sys
import warnings

import numpy as np

np._set_promotion_state("weak")
warnings.simplefilter("ignore")
np.seterr(all="ignore")

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
INTS = ["uint8", "int32", "int64"]
FLOATS = ["float32", "float64"]
rng = np.random.default_rng(20261201)
out_lines = []
count_by_op = {}


def fmt_value(dt, v):
    if dt == "bool":
        return "1" if v else "0"
    if dt in FLOATS:
        return float(v).hex()
    return str(int(v))


def fmt_array(tag, a, chunks=None):
    dt = str(a.dtype)
    if dt not in DTYPES:
        raise ValueError("dtype " + dt)
    toks = [tag, dt, str(a.ndim)] + [str(d) for d in a.shape]
    if chunks is not None:
        toks += [str(c) for c in chunks]
    toks += [fmt_value(dt, v) for v in a.reshape(-1).tolist()]
    return " ".join(toks)


def sample(dt, shape, special=False):
    """Random values of dtype dt; special adds NaN/inf/-0.0 for floats and extremes for ints."""
    n = int(np.prod(shape)) if len(shape) else 1
    if dt == "bool":
        a = rng.integers(0, 2, n).astype(bool)
    elif dt == "uint8":
        a = rng.integers(0, 256, n).astype(np.uint8)
    elif dt == "int32":
        a = rng.integers(-1000, 1000, n).astype(np.int32)
        if special and n > 2:
            a[0], a[1] = np.iinfo(np.int32).max, np.iinfo(np.int32).min
    elif dt == "int64":
        a = rng.integers(-10**6, 10**6, n).astype(np.int64)
        if special and n > 2:
            a[0], a[1] = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    else:
        a = (rng.standard_normal(n) * 3).astype(dt)
        if special and n > 4:
            a[0], a[1], a[2], a[3] = np.nan, np.inf, -np.inf, -0.0
    return a.reshape(shape)


def chunks_for(shape):
    return [max(1, int(rng.integers(1, d + 1))) if d > 0 else 1 for d in shape]


class Case:
    def __init__(self, name, op, args=""):
        self.name, self.op, self.args = name, op, args
        self.operands = []  # ("array", ndarray, chunks) or ("scalar", python value)

    def array(self, a, chunks=None):
        self.operands.append(("array", a, chunks if chunks is not None else chunks_for(a.shape)))
        return self

    def scalar(self, v):
        self.operands.append(("scalar", v))
        return self


def emit(case, fn):
    """Computes fn(*operands) with NumPy and writes the case (error if NumPy raises)."""
    vals = [o[1] for o in case.operands]
    try:
        want = fn(*vals)
        want = np.asarray(want)
        if str(want.dtype) not in DTYPES:
            raise TypeError("result dtype " + str(want.dtype) + " for " + case.name)
        result = fmt_array("want", want)
    except (OverflowError, ValueError, TypeError, ZeroDivisionError, np.AxisError) as e:
        if isinstance(e, TypeError) and "result dtype" in str(e):
            raise
        result = "want error"
    lines = ["case " + case.name, "op " + case.op + (" " + case.args if case.args else "")]
    for o in case.operands:
        if o[0] == "array":
            lines.append(fmt_array("in", o[1], o[2]))
        else:
            v = o[1]
            lines.append("sc f " + float(v).hex() if isinstance(v, float) else "sc i " + str(int(v)))
    lines.append(result)
    lines.append("end")
    out_lines.extend(lines)
    key = case.op.split()[0] + ("." + case.args.split()[0] if case.op in ("unary", "binary", "reduce") else "")
    count_by_op[key] = count_by_op.get(key, 0) + 1


# ---- tessera's deliberate differences (docs/numpy_differences.md) -------------------------------

MATH = ["sqrt", "exp", "log", "sin", "cos", "tanh", "floor", "ceil"]


def adapt_unary(op, a):
    # No float16: math on bool/uint8 computes in float32 (NumPy: float16).
    if op in MATH and str(a.dtype) in ("bool", "uint8"):
        return a.astype(np.float32)
    return a


def adapt_binary(op, x, y):
    # No int8: bool // bool, bool % bool, bool ** bool compute in int64 (NumPy: int8).
    def is_bool(v):
        return isinstance(v, np.ndarray) and v.dtype == np.bool_
    if op in ("floordiv", "mod", "pow") and is_bool(x) and is_bool(y):
        return x.astype(np.int64), y.astype(np.int64)
    return x, y


def reduce_result(op, a, axis, keepdims, ddof=0.0):
    """NumPy's reduction with tessera's documented result dtypes: integer sum/prod are int64
    (NumPy: uint64 for uint8); float32 sum/prod accumulate in float64 and round once; mean, var
    and std are float64 for every input dtype (NumPy: float32 for float32)."""
    dt = str(a.dtype)
    if op in ("sum", "prod"):
        f = np.sum if op == "sum" else np.prod
        if dt == "float32":
            return f(a.astype(np.float64), axis=axis, keepdims=keepdims).astype(np.float32)
        if dt in ("bool", "uint8", "int32", "int64"):
            return f(a.astype(np.int64), axis=axis, keepdims=keepdims)
        return f(a, axis=axis, keepdims=keepdims)
    if op in ("mean", "var", "std"):
        x = a.astype(np.float64)
        if op == "mean":
            return np.mean(x, axis=axis, keepdims=keepdims)
        return getattr(np, op)(x, axis=axis, keepdims=keepdims, ddof=ddof)
    if op == "count_nonzero":
        r = np.count_nonzero(a, axis=axis, keepdims=keepdims)
        return np.asarray(r, dtype=np.int64)
    f = {"min": np.min, "max": np.max, "any": np.any, "all": np.all}[op]
    return f(a, axis=axis, keepdims=keepdims)


UFUNC = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power, "minimum": np.minimum,
    "maximum": np.maximum, "equal": np.equal, "not_equal": np.not_equal, "less": np.less,
    "less_equal": np.less_equal, "greater": np.greater, "greater_equal": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or,
}
COMPARISONS = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
UNARY = {"neg": np.negative, "abs": np.absolute, "sqrt": np.sqrt, "exp": np.exp, "log": np.log,
         "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "floor": np.floor, "ceil": np.ceil,
         "isnan": np.isnan, "logical_not": np.logical_not}


def out_of_range_int(v, arr):
    if not isinstance(v, int) or isinstance(v, bool) or not isinstance(arr, np.ndarray):
        return False
    if arr.dtype.kind not in "iu":
        return False
    info = np.iinfo(arr.dtype)
    return v < info.min or v > info.max


def binary_numpy(op, x, y):
    x, y = adapt_binary(op, x, y)
    if op in COMPARISONS and (out_of_range_int(y, x) or out_of_range_int(x, y)):
        # NumPy 2: comparisons with an out-of-range Python int are exact.
        xa = x.astype(np.int64) if isinstance(x, np.ndarray) else x
        ya = y.astype(np.int64) if isinstance(y, np.ndarray) else y
        return UFUNC[op](xa, ya)
    if op == "sub" and isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.dtype == np.bool_ and y.dtype == np.bool_:
        raise TypeError("bool subtract")
    if op == "pow":
        # NumPy raises for integer arrays to negative integer powers.
        def has_neg_int(v):
            v = np.asarray(v)
            return v.dtype.kind in "iu" and (v < 0).any()
        xs, ys = np.asarray(x), np.asarray(y)
        if xs.dtype.kind in "biu" and ys.dtype.kind in "biu" and has_neg_int(y):
            raise ValueError("negative power")
    return UFUNC[op](x, y)


def clip_numpy(a, lo, hi):
    # NumPy >= 2.1: integer bounds outside an integer array's dtype saturate.
    if a.dtype.kind in "iu":
        info = np.iinfo(a.dtype)
        if isinstance(lo, int):
            lo = min(max(lo, int(info.min)), int(info.max))
        if isinstance(hi, int):
            hi = min(max(hi, int(info.min)), int(info.max))
    return np.minimum(np.maximum(a, lo), hi)


# ---- the cases ----------------------------------------------------------------------------------

def gen_promotion():
    shapes = [((4, 5), (4, 5)), ((3, 1, 4), (5, 1)), ((6,), (2, 1, 6)), ((), (3, 2)), ((0, 3), (1, 3))]
    for op in UFUNC:
        for da in DTYPES:
            for db in DTYPES:
                sa, sb = shapes[(DTYPES.index(da) + 2 * DTYPES.index(db) + len(op)) % len(shapes)]
                a = sample(da, sa, special=True)
                b = sample(db, sb, special=True)
                if op == "pow" and db in INTS:
                    b = np.abs(b) % 5 if db != "uint8" else b % 5
                    b = b.astype(db)
                c = Case("%s.%s.%s" % (op, da, db), "binary", op).array(a).array(b)
                emit(c, lambda x, y, op=op: binary_numpy(op, x, y))


def gen_scalars():
    ints = [0, 1, 3, -1, -3, 200, 255, 256, 300, -5, 2**31 - 1, 2**31, 2**40, -2**40, -2**63]
    floats = [0.5, -2.25, 1e300, float("inf"), float("nan"), 0.0]
    for op in UFUNC:
        for dt in DTYPES:
            a = sample(dt, (3, 4), special=True)
            for i, v in enumerate(ints + floats):
                if (i + len(op) + DTYPES.index(dt)) % 3 and v not in (256, 300, -1, 2**40):
                    continue  # a third of the plain values, every boundary value
                if op == "pow" and isinstance(v, int) and (v < 0 or v > 5):
                    continue
                for side in ("as", "sa"):
                    c = Case("%s.%s.%s.%s" % (op, dt, side, v), "binary", op)
                    if side == "as":
                        c.array(a).scalar(v)
                        emit(c, lambda x, y, op=op: binary_numpy(op, x, y))
                    else:
                        c.scalar(v).array(a)
                        emit(c, lambda x, y, op=op: binary_numpy(op, x, y))


def gen_unary():
    for op in UNARY:
        for dt in DTYPES:
            for shape in [(5, 4), (), (0,), (2, 3, 2)]:
                a = sample(dt, shape, special=True)
                if op in ("sqrt", "log") and dt in FLOATS and a.size > 6:
                    a.reshape(-1)[4] = -1.0  # out of the domain
                    a.reshape(-1)[5] = 0.0
                c = Case("%s.%s.%s" % (op, dt, "x".join(map(str, shape))), "unary", op).array(a)
                emit(c, lambda x, op=op: UNARY[op](adapt_unary(op, x)))


def axis_sets(nd):
    sets = [None]
    for d in range(nd):
        sets.append((d,))
        sets.append((d - nd,))
    if nd >= 2:
        sets.append((0, nd - 1))
        sets.append((-1, 0))
    if nd >= 3:
        sets.append((0, 2))
        sets.append((1, 2))
    return sets


def gen_reductions():
    ops = ["sum", "prod", "min", "max", "any", "all", "count_nonzero", "mean", "var", "std"]
    shapes = [(5, 6), (3, 4, 5), (7,), (), (0, 3), (4, 0)]
    for op in ops:
        for dt in DTYPES:
            for shape in shapes:
                special = shape in [(5, 6)]
                # Moments of the int extremes (+-2^63 in float64) depend on the summation order
                # beyond 1e-12 in NumPy itself: NaN/inf specials for the floats only.
                a = sample(dt, shape, special=special and (op not in ("mean", "var", "std") or dt in FLOATS))
                if op == "prod" and dt in FLOATS:
                    a = (a % 2).astype(dt) if not special else a
                for axes in axis_sets(len(shape)):
                    for keepdims in (False, True):
                        if keepdims and axes is not None and len(axes) > 1:
                            continue
                        args = "%s axes=%s keepdims=%d" % (op, "none" if axes is None else ",".join(map(str, axes)), keepdims)
                        ddof = 0.0
                        if op in ("var", "std") and axes is not None and axes[0] == 0:
                            ddof = 1.0
                            args += " ddof=1"
                        c = Case("%s.%s.%s.%s.%d" % (op, dt, "x".join(map(str, shape)), axes, keepdims), "reduce", args).array(a)
                        emit(c, lambda x, op=op, axes=axes, keepdims=keepdims, ddof=ddof: reduce_result(op, x, axes, keepdims, ddof))
    for op in ("argmin", "argmax"):
        for dt in DTYPES:
            for shape in [(5, 6), (3, 4, 5), (7,), (), (0, 4), (4, 0)]:
                a = sample(dt, shape, special=(shape == (5, 6)))
                for axis in [None] + list(range(-len(shape), len(shape))):
                    args = "%s axis=%s" % (op, "none" if axis is None else axis)
                    c = Case("%s.%s.%s.%s" % (op, dt, "x".join(map(str, shape)), axis), "reduce", args).array(a)
                    emit(c, lambda x, op=op, axis=axis: np.asarray(getattr(np, op)(x, axis=axis), dtype=np.int64))


def gen_structure():
    for dt in DTYPES:
        a = sample(dt, (6, 8), special=True)
        b3 = sample(dt, (4, 3, 5))
        # slicing, negative steps
        for sl in ["::-1,::-1", "1:5:2,-1:0:-3", "-2::-1,3", ":,::-2", "5:1:-1", "::3,1:7:-1", "10:,:"]:
            c = Case("slice.%s.%s" % (dt, sl), "slice", sl).array(a)

            def f(x, sl=sl):
                idx = []
                for part in sl.split(","):
                    if ":" not in part:
                        p = int(part)
                        idx.append(slice(p, p + 1 if p != -1 else None))
                        continue
                    bits = [int(t) if t else None for t in part.split(":")]
                    while len(bits) < 3:
                        bits.append(None)
                    idx.append(slice(*bits))
                return x[tuple(idx)]
            emit(c, f)
        for shape in ["48", "4,12", "2,-1,4", "8,6", "3,16", "1,48,1", "-1"]:
            c = Case("reshape.%s.%s" % (dt, shape), "reshape", shape).array(a, [4, 3])
            emit(c, lambda x, shape=shape: x.reshape([int(t) for t in shape.split(",")]))
        for shape in ["12,5", "4,15", "60", "2,2,15"]:
            c = Case("reshape3.%s.%s" % (dt, shape), "reshape", shape).array(b3, [3, 2, 2])
            emit(c, lambda x, shape=shape: x.reshape([int(t) for t in shape.split(",")]))
        for axes in ["none", "1,0", "2,0,1", "0,2,1"]:
            x = a if axes in ("none", "1,0") else b3
            c = Case("transpose.%s.%s.%d" % (dt, axes, x.ndim), "transpose", axes).array(x)
            emit(c, lambda x, axes=axes: x.T if axes == "none" else np.transpose(x, [int(t) for t in axes.split(",")]))
        for chunks in ["1,8", "6,1", "4,5", "2,3"]:
            c = Case("rechunk.%s.%s" % (dt, chunks), "rechunk", chunks).array(a)
            emit(c, lambda x: x)
        for dt2 in DTYPES:
            for axis in (0, 1, -1):
                p = sample(dt2, (6, 3) if axis != 0 else (2, 8))
                c = Case("concatenate.%s.%s.%d" % (dt, dt2, axis), "concatenate", str(axis)).array(a).array(p)
                emit(c, lambda x, y, axis=axis: np.concatenate([x, y], axis=axis))
            for axis in (0, 1, 2, -1):
                q = sample(dt2, (6, 8))
                c = Case("stack.%s.%s.%d" % (dt, dt2, axis), "stack", str(axis)).array(a).array(q)
                emit(c, lambda x, y, axis=axis: np.stack([x, y], axis=axis))
    # 0-d and empty structure
    for dt in DTYPES:
        z = sample(dt, ())
        emit(Case("reshape0d.%s" % dt, "reshape", "1,1").array(z), lambda x: x.reshape(1, 1))
        emit(Case("transpose0d.%s" % dt, "transpose", "none").array(z), lambda x: x.T)
        e = sample(dt, (0, 4))
        emit(Case("reshape_empty.%s" % dt, "reshape", "4,0").array(e), lambda x: x.reshape(4, 0))
        emit(Case("concatenate_empty.%s" % dt, "concatenate", "0").array(e).array(sample(dt, (2, 4))),
             lambda x, y: np.concatenate([x, y], axis=0))


def gen_where_clip_astype():
    for dt in DTYPES:
        for dt2 in DTYPES:
            cond = sample("bool", (4, 5))
            a = sample(dt, (4, 5), special=True)
            b = sample(dt2, (1, 5), special=True)
            emit(Case("where.%s.%s" % (dt, dt2), "where").array(cond).array(a).array(b),
                 lambda c, x, y: np.where(c, x, y))
        c = sample(dt, (3, 4))
        emit(Case("where_cond.%s" % dt, "where").array(c).array(sample("float64", (3, 4))).array(sample("int32", (4,))),
             lambda c, x, y: np.where(c, x, y))
        for v in [(1, 2), (0.5, -2.5), (-1, 7)]:
            emit(Case("where_scalars.%s.%s" % (dt, v), "where").array(c).scalar(v[0]).scalar(v[1]),
                 lambda c, x, y: np.where(c, x, y))
        for lo, hi in [(-5, 300), (3, 100), (0.5, 2.5), (-2**40, 2**40), (10, 20), (-1.5, 1e300)]:
            a = sample(dt, (5, 4), special=True)
            if dt == "bool" and isinstance(lo, int):
                continue
            emit(Case("clip.%s.%s.%s" % (dt, lo, hi), "clip").array(a).scalar(lo).scalar(hi), clip_numpy)
        for to in DTYPES:
            a = sample(dt, (5, 6), special=True)
            if dt in FLOATS:
                # overflow and negative-to-unsigned: values outside the target's range.
                a.reshape(-1)[4:10] = np.array([300.7, -1.0, -300.2, 3e9, -3e9, 255.9], dtype=np.float64).astype(dt)
            if dt in ("int32", "int64"):
                a.reshape(-1)[2:6] = [-1, 256, -300, 70000]
            emit(Case("astype.%s.%s" % (dt, to), "astype", to).array(a), lambda x, to=to: x.astype(to))


def gen_division():
    for dt in DTYPES:
        if dt == "bool":
            continue
        a = sample(dt, (3, 4), special=True)
        z = np.zeros((3, 4), dtype=dt)
        if dt in INTS:
            z.reshape(-1)[6:] = sample(dt, (6,))
        for op in ("div", "floordiv", "mod"):
            emit(Case("divzero.%s.%s" % (op, dt), "binary", op).array(a).array(z), lambda x, y, op=op: binary_numpy(op, x, y))
            emit(Case("divzero_scalar.%s.%s" % (op, dt), "binary", op).array(a).scalar(0), lambda x, y, op=op: binary_numpy(op, x, y))
    # INT_MIN // -1 and % -1
    for dt in ("int32", "int64"):
        a = np.array([np.iinfo(dt).min, -7, 7, 0], dtype=dt)
        for op in ("floordiv", "mod"):
            emit(Case("intmin.%s.%s" % (op, dt), "binary", op).array(a).scalar(-1), lambda x, y, op=op: binary_numpy(op, x, y))


def gen_matmul():
    for da in DTYPES:
        for db in DTYPES:
            a = sample(da, (5, 7))
            b = sample(db, (7, 4))
            # Halves and small integers: every product and partial sum is exact in float32, so
            # the chunked product (block sums in another order) must equal NumPy's exactly.
            if da in FLOATS:
                a = (np.round(a * 2) / 2).astype(da)
            if db in FLOATS:
                b = (np.round(b * 2) / 2).astype(db)
            c = Case("matmul.%s.%s" % (da, db), "matmul").array(a, [2, 3]).array(b, [4, 2])
            emit(c, lambda x, y: np.matmul(x, y))
    emit(Case("matmul.mismatch", "matmul").array(sample("float64", (3, 4))).array(sample("float64", (3, 4))),
         lambda x, y: np.matmul(x, y))
    emit(Case("matmul.empty", "matmul").array(sample("float64", (3, 0)), [3, 1]).array(sample("float64", (0, 2)), [1, 2]),
         lambda x, y: np.matmul(x, y))


def main():
    gen_promotion()
    gen_scalars()
    gen_unary()
    gen_reductions()
    gen_structure()
    gen_where_clip_astype()
    gen_division()
    gen_matmul()
    with open(sys.argv[1], "w") as f:
        f.write("\n".join(out_lines) + "\n")
    ops = sorted(count_by_op)
    print("numpy_oracle: %d cases over %d operations (numpy %s, weak promotion)" % (
        sum(count_by_op.values()), len(ops), np.__version__))


if __name__ == "__main__":
    main()
