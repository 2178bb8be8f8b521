"""pandas' answers to tessera-lesson frame-flights on the files it wrote (--data DIR).

usage: frame_flights_oracle.py DIR   -> prints the lesson's result line, computed by pandas
"""
import glob
import os
import sys

import pandas as pd

files = sorted(glob.glob(os.path.join(sys.argv[1], "*.csv")))
df = pd.concat([pd.read_csv(f, parse_dates=["Date"], na_values=["NA"]) for f in files], ignore_index=True)
flown = df[~df["Cancelled"]]
per_airport = flown.groupby("Origin").size()
delay = df.groupby("Origin")["DepDelay"].mean()
by_day = df.groupby("DayOfWeek")["DepDelay"].mean()
by_month = df.groupby(df["Date"].dt.month)["DepDelay"].mean()
parts = [
    f"rows={len(df)}",
    f"not_cancelled={len(flown)}",
    "flights=" + ",".join(f"{k}:{v}" for k, v in per_airport.items()),
    "mean_delay=" + ",".join(f"{k}:{v:.4f}" for k, v in delay.items()),
    f"worst_day={by_day.idxmax()}",
    f"worst_month={by_month.idxmax()}",
    f"max_delay={df['DepDelay'].max():.4f}",
    f"mean={df['DepDelay'].mean():.4f}",
    f"std={df['DepDelay'].std():.4f}",
]
print("result=" + ";".join(parts))
