"""The h5py/pandas side of tessera's DataFrame HDF5 layout (include/tessera/collections/dataframe/
hdf5.hpp), for test_dataframe_hdf5.cpp. Only h5py, numpy and pandas: what a user has.

usage:
  hdf5_oracle.py read FILE GROUP OUT.json   loads GROUP (written by tessera) into pandas as the
                                            layout says, writes what pandas holds
  hdf5_oracle.py write FILE OUT.json        writes pandas frames in the layout (groups /plain:
                                            range index, /indexed: index "key"), and their values
  hdf5_oracle.py bad FILE                   writes groups that break the layout, one way each

OUT.json: {"columns": [...], "nrows": n, "index": [...] or null, "pandas_dtypes": {col: str},
           "h5py_dtypes": {col: str}, "values": {col: [v or null]}, "index_values": {name: [...]}}
for read; {"plain": that, "indexed": that} for write. Nulls (NaN, NaT, None, pd.NA) are null;
datetimes are int64 nanoseconds since the epoch, timedeltas int64 nanoseconds; bools are true/false.
"""
import json
import sys

import h5py
import numpy as np
import pandas as pd

LAYOUT = "tessera.dataframe/1"
UTF8 = h5py.string_dtype("utf-8")


def strings(attrs, name):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in attrs[name]] if name in attrs else []


def load(g, section, mask_section, names, dtypes):
    data = {}
    for name, dtype in zip(names, dtypes):
        d = g[section][name]
        assert d.attrs["dtype"] == dtype, (name, d.attrs["dtype"], dtype)
        if dtype == "object":
            s = pd.Series(d.asstr()[:], dtype=object)
        elif dtype == "datetime64[ns]":
            assert d.attrs["unit"] == "ns"
            s = pd.Series(pd.to_datetime(d[:], unit="ns"))
        elif dtype == "timedelta64[ns]":
            assert d.attrs["unit"] == "ns"
            s = pd.Series(pd.to_timedelta(d[:], unit="ns"))
        else:
            s = pd.Series(d[:])
        if mask_section in g and name in g[mask_section]:
            s = s.where(g[mask_section][name][:] == 1)
        data[name] = s
    return data


def plain(v):
    if v is None or v is pd.NaT or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, (pd.Timestamp, pd.Timedelta)):
        return int(v.value)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v)
    return v


def describe(df, index):
    return {
        "columns": list(df.columns),
        "nrows": len(df),
        "index": index,
        "pandas_dtypes": {c: str(df[c].dtype) for c in df.columns},
        "values": {c: [plain(v) for v in df[c]] for c in df.columns},
        "index_values": {n: [plain(v) for v in df.index.get_level_values(n)] for n in (index or [])},
    }


def read(path, group, out):
    with h5py.File(path, "r") as h:
        g = h[group]
        assert g.attrs["tessera_layout"] == LAYOUT
        nrows = int(g.attrs["nrows"])
        names, dtypes = strings(g.attrs, "columns"), strings(g.attrs, "dtypes")
        df = pd.DataFrame(load(g, "columns", "valid", names, dtypes), columns=names)
        index = None
        if g.attrs["index_type"] == "columns":
            index = strings(g.attrs, "index")
            levels = load(g, "index", "index_valid", index, strings(g.attrs, "index_dtypes"))
            df.index = pd.MultiIndex.from_arrays([levels[n] for n in index], names=index) if len(index) > 1 \
                else pd.Index(levels[index[0]], name=index[0])
        else:
            assert g.attrs["index_type"] == "range"
            df.index = pd.RangeIndex(nrows)
        assert len(df) == nrows
        result = describe(df, index)
        result["h5py_dtypes"] = {c: str(g["columns"][c].dtype) for c in names}
    with open(out, "w") as fh:
        json.dump(result, fh)


def pandas_dtype(s):
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime64[ns]"
    if pd.api.types.is_timedelta64_dtype(s):
        return "timedelta64[ns]"
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_integer_dtype(s):
        return "int64"
    if pd.api.types.is_float_dtype(s):
        return "float64"
    return "object"


def put_column(g, section, mask_section, name, s, fixed_strings=False):
    """One column as the layout says; nulls in a mask (datetimes, timedeltas: NaT only, no mask)."""
    dtype = pandas_dtype(s)
    null = s.isna().to_numpy()
    if dtype == "datetime64[ns]":
        data = s.to_numpy(dtype="datetime64[ns]").view("int64")  # NaT is INT64_MIN
    elif dtype == "timedelta64[ns]":
        data = s.to_numpy(dtype="timedelta64[ns]").view("int64")
    elif dtype == "object":
        filled = [("" if n else v) for v, n in zip(s, null)]
        data = np.array([v.encode() for v in filled], dtype="S") if fixed_strings else np.array(filled, dtype=UTF8)
    elif dtype == "bool":
        data = s.fillna(False).to_numpy(dtype=bool)
    elif dtype == "int64":
        data = s.fillna(0).to_numpy(dtype=np.int64)
    else:
        data = s.to_numpy(dtype=np.float64, na_value=np.nan)
    d = g.require_group(section).create_dataset(name, data=data, chunks=True, maxshape=(None,))
    d.attrs["dtype"] = dtype
    if dtype in ("datetime64[ns]", "timedelta64[ns]"):
        d.attrs["unit"] = "ns"
    elif null.any():
        g.require_group(mask_section).create_dataset(name, data=~null)  # numpy bool: h5py's enum
    return dtype


def put_frame(h, name, df, index):
    g = h.create_group(name)
    g.attrs["tessera_layout"] = LAYOUT
    g.attrs["nrows"] = np.int64(len(df))
    cols = [c for c in df.columns]
    dtypes = [put_column(g, "columns", "valid", c, df[c], fixed_strings=(c == "fixed")) for c in cols]
    g.attrs.create("columns", cols, dtype=UTF8)
    g.attrs.create("dtypes", dtypes, dtype=UTF8)
    g.attrs["index_type"] = "columns" if index else "range"
    if index:
        idt = [put_column(g, "index", "index_valid", n, df.index.get_level_values(n).to_series()) for n in index]
        g.attrs.create("index", index, dtype=UTF8)
        g.attrs.create("index_dtypes", idt, dtype=UTF8)


def sample(n):
    rng = np.random.default_rng(15)
    i = pd.array(rng.integers(-10**12, 10**12, n), dtype="Int64")
    i[::7] = pd.NA
    f = rng.normal(size=n)
    f[3::11] = np.nan
    b = pd.array(rng.integers(0, 2, n).astype(bool), dtype="boolean")
    b[5::13] = pd.NA
    words = ["plain", "é accent", "日本語", 'a "quoted", comma', "line\nbreak", ""]
    s = pd.Series([words[k % len(words)] + str(k) for k in range(n)], dtype=object)
    s[2::9] = None
    d = pd.Series(pd.to_datetime("1990-01-01") + pd.to_timedelta(rng.integers(0, 10**18, n), unit="ns"))
    d[4::10] = pd.NaT
    fixed = pd.Series(["f%d" % (k % 50) for k in range(n)], dtype=object)
    t = pd.Series(pd.to_timedelta(rng.integers(-10**15, 10**15, n), unit="ns"))
    t[6::10] = pd.NaT
    return pd.DataFrame({"i": i, "f": f, "b": b, "s": s, "d": d, "fixed": fixed, "t": t})


def write(path, out):
    df = sample(1000)
    indexed = df.drop(columns=["fixed"]).set_index(pd.Index(np.arange(1000, 0, -1, dtype=np.int64) * 3, name="key"))
    with h5py.File(path, "w") as h:
        put_frame(h, "plain", df, None)
        put_frame(h, "indexed", indexed, ["key"])
    with open(out, "w") as fh:
        json.dump({"plain": describe(df, None), "indexed": describe(indexed, ["key"])}, fh)


def bad(path):
    """Groups /<case> that break the layout in one way each (see test_dataframe_hdf5.cpp)."""
    df = pd.DataFrame({"a": np.arange(5, dtype=np.int64), "s": ["p", "q", "r", "s", "t"]})
    with h5py.File(path, "w") as h:
        put_frame(h, "good", df, None)
        h.create_group("no_layout").attrs["nrows"] = 5
        put_frame(h, "version2", df, None)
        h["version2"].attrs["tessera_layout"] = "tessera.dataframe/2"
        put_frame(h, "wrong_type", df, None)  # dtypes say int64 for s, whose dataset holds strings
        h["wrong_type"].attrs.create("dtypes", ["int64", "int64"], dtype=UTF8)
        del h["wrong_type/columns/s"].attrs["dtype"]
        put_frame(h, "dtype_attr", df, None)  # a's dataset says float64, the group int64
        h["dtype_attr/columns/a"].attrs["dtype"] = "float64"
        put_frame(h, "unknown_dtype", df, None)
        h["unknown_dtype"].attrs.create("dtypes", ["int64", "period[D]"], dtype=UTF8)
        put_frame(h, "short", df, None)
        del h["short/columns/a"]
        h["short/columns"].create_dataset("a", data=np.arange(4, dtype=np.int64))
        put_frame(h, "missing", df, None)
        del h["missing/columns/s"]
        put_frame(h, "no_nrows", df, None)
        del h["no_nrows"].attrs["nrows"]


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "read":
        read(*sys.argv[2:5])
    elif mode == "write":
        write(*sys.argv[2:4])
    elif mode == "bad":
        bad(sys.argv[2])
    else:
        sys.exit("unknown mode " + mode)
