"""Generates flights-style CSV files with pandas and writes what pandas computes on them.

usage: flights_oracle.py DIR   -> DIR/flights/*.csv, DIR/expected.json
Deterministic (seeded). Used by tests/unit/dataframe/test_api_example.cpp.
"""
import json
import os
import sys

import numpy as np
import pandas as pd

out = sys.argv[1]
os.makedirs(os.path.join(out, "flights"), exist_ok=True)
rng = np.random.default_rng(1990)
origins = ["EWR", "JFK", "LGA"]
dests = ["BOS", "ORD", "ATL", "SAN, CA"]
cities = ["Newark", "New York", 'Queens "LGA"', None]
frames = []
for f in range(3):
    n = 1500
    delay = rng.normal(5, 20, n).round(1)
    delay[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame({
        "Date": pd.to_datetime("1990-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
        "Origin": rng.choice(origins, n),
        "Dest": rng.choice(dests, n),
        "DepDelay": delay,
        "Distance": rng.integers(100, 3000, n),
        "Cancelled": rng.random(n) < 0.1,
        "City": [cities[i] for i in rng.integers(0, 4, n)],
    })
    df.to_csv(os.path.join(out, "flights", f"{1990 + f}.csv"), index=False, na_rep="NA")
    frames.append(df)

# Airports: LGA is missing, so a left merge leaves its rows' Name and Elevation null.
airports = pd.DataFrame({"Code": ["EWR", "JFK", "BOS"], "Name": ["Newark Liberty", "John F. Kennedy", "Logan"],
                         "Elevation": [18, 13, 20]})
airports.to_csv(os.path.join(out, "airports.csv"), index=False)

df = pd.concat([pd.read_csv(os.path.join(out, "flights", f"{1990 + f}.csv"), parse_dates=["Date"],
                            na_values=["NA"]) for f in range(3)], ignore_index=True)
on_time = df[(df["DepDelay"] <= 0) & ~df["Cancelled"]]
by_origin = df.groupby("Origin")["DepDelay"].mean()
stats = df.groupby(["Origin", "Dest"]).agg({"DepDelay": ["mean", "max", "count"], "Distance": ["sum"]})
desc = df.describe()
joined = df.merge(pd.read_csv(os.path.join(out, "airports.csv")), left_on=["Origin"], right_on=["Code"], how="left")
top10 = joined.sort_values("DepDelay", ascending=False, kind="stable").head(10)
jan = df.set_index("Date").sort_index().loc["1990-01-01":"1990-01-31"]
expected = {
    "rows": len(df),
    "worst": float(df["DepDelay"].max()),
    "kept": int(on_time["DepDelay"].count()),
    "on_time_rows": len(on_time),
    "by_origin": {k: float(v) for k, v in by_origin.items()},
    "stats": [[o, d, float(r[("DepDelay", "mean")]), float(r[("DepDelay", "max")]),
               int(r[("DepDelay", "count")]), int(r[("Distance", "sum")])] for (o, d), r in stats.iterrows()],
    "describe": {c: [float(x) for x in desc[c]] for c in desc.columns},
    "describe_index": list(desc.index),
    "city_nulls": int(df["City"].isna().sum()),
    "top10": [[r["Origin"], float(r["DepDelay"]), bool(pd.isna(r["Name"])), bool(pd.isna(r["City"]))]
              for _, r in top10.iterrows()],
    "top10_columns": list(top10.columns),
    "jan_rows": len(jan),
    "jan_distance": int(jan["Distance"].sum()),
    # Series.str, .dt, astype and where (tessera's literal patterns = regex=False).
    "accessors": {
        "dest_comma": int(df["Dest"].str.contains(",", regex=False).sum()),
        "city_n": int(df["City"].str.lower().str.startswith("n").sum()),
        "city_york": int(df["City"].str.upper().str.endswith("YORK").sum()),
        "city_len_sum": int(df["City"].str.len().sum()),
        "city_strip_len": int(("  " + df["City"] + " ").str.strip().str.len().sum()),
        "origin_tail": {k: int(v) for k, v in df["Origin"].str.slice(-2).value_counts().items()},
        "by_month": {str(k): float(v) for k, v in df.groupby(df["Date"].dt.month)["DepDelay"].mean().items()},
        "by_dow": {str(k): float(v) for k, v in df.groupby(df["Date"].dt.dayofweek)["DepDelay"].mean().items()},
        "doy_max": int(df["Date"].dt.dayofyear.max()),
        "year_sum": int(df["Date"].dt.year.sum()),
        "day_sum": int(df["Date"].dt.day.sum()),
        "delay_pos_sum": float(df["DepDelay"].where(df["DepDelay"] > 0, 0).sum()),
        "far_delay_count": int(df["DepDelay"].where(df["Distance"] > 1000).count()),
        "dist_str_len": int(df["Distance"].astype(str).str.len().sum()),
        "delay_str_len": int(df["DepDelay"].dropna().astype(str).str.len().sum()),
        "delay_int_sum": int(df["DepDelay"].dropna().astype("int64").sum()),
        "cancelled_sum": int(df["Cancelled"].astype("int64").sum()),
    },
    # Row sets: dropna, drop_duplicates, nlargest/nsmallest, unique/nunique.
    "rows_ops": {
        "dropna": len(df.dropna()),
        "dropna_delay": len(df.dropna(subset=["DepDelay"])),
        "dedup_od": len(df.drop_duplicates(subset=["Origin", "Dest"])),
        "dedup_od_city": len(df.drop_duplicates(subset=["Origin", "Dest", "City"])),
        "nlargest": [[float(r["DepDelay"]), int(r["Distance"])] for _, r in df.nlargest(7, "DepDelay").iterrows()],
        "nsmallest": [[float(r["DepDelay"]), int(r["Distance"])] for _, r in df.nsmallest(7, "DepDelay").iterrows()],
        "nunique_city": int(df["City"].nunique()),
        "unique_dest": sorted(df["Dest"].unique().tolist()),
        "delay_notna": int(df["DepDelay"].dropna().shape[0]),
    },
}


def floats(xs):
    """JSON has no NaN: null stands for it."""
    return [None if pd.isna(x) else float(x) for x in xs]


# Rolling windows over the rows in file order (count with min_periods = window: pandas 2's rule).
num = df[["DepDelay", "Distance"]]
expected["window"] = {
    "mean10": {c: floats(v) for c, v in num.rolling(10, min_periods=3).mean().items()},
    "std50": {c: floats(v) for c, v in num.rolling(50).std().items()},
    "max7": floats(df["DepDelay"].rolling(7).max()),
    "min7": floats(df["DepDelay"].rolling(7, min_periods=1).min()),
    "sum25": floats(df["DepDelay"].rolling(25, min_periods=20).sum()),
    "var3": floats(df["DepDelay"].rolling(3).var()),
    "count5": floats(df["DepDelay"].rolling(5, min_periods=5).count()),
    "qs": [0.0, 0.01, 0.1, 0.25, 0.5, 0.9, 0.999, 1.0],
    "median": float(df["DepDelay"].quantile(0.5)),
}
expected["window"]["quantiles"] = {c: floats(v) for c, v in num.quantile(expected["window"]["qs"]).items()}
with open(os.path.join(out, "expected.json"), "w") as fh:
    json.dump(expected, fh)
