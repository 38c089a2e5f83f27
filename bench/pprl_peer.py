"""clkhash + anonlink (data61, PyPI) on the same lists as `homeward bench pprl`.

    pprl_peer.py link LEFT.csv RIGHT.csv TRUTH.csv [--febrl]
    pprl_peer.py speed LEFT.csv RIGHT.csv N_LEFT N_RIGHT

`link` encodes both lists into CLKs with clkhash (one 1024-bit CLK per record, bigrams of every
field, as clkhash's own example schema does), finds candidate pairs with anonlink's Dice at the
threshold and solves them one-to-one with anonlink's greedy solver, and prints one JSON object:
precision, recall, F1, encode and link seconds. anonlink compares all pairs (it has no blocking
of its own beyond an experimental hook). `speed` times anonlink's accelerated Dice over all pairs of
the first N_LEFT × N_RIGHT records on one core and prints comparisons per second, of wall-clock
time and of the thread's CPU time.

Install: python3 -m venv bench/.venv && bench/.venv/bin/pip install clkhash anonlink recordlinkage
"""
import argparse
import json
import sys
import time

import pandas as pd
from clkhash import clk
from clkhash.schema import from_json_dict
import anonlink

SECRET = "homeward-bench-pprl"
CHILD_FIELDS = [("given_name", 15), ("patronymic", 10), ("family_name", 15), ("sex", 30),
                ("birth_date", 10), ("birth_place", 8)]
FEBRL_FIELDS = [("given_name", 15), ("surname", 15), ("street_number", 8), ("address_1", 6),
                ("address_2", 6), ("suburb", 8), ("postcode", 10), ("state", 10),
                ("date_of_birth", 10), ("soc_sec_id", 10)]


def schema(fields):
    feats = [{"identifier": "id", "ignored": True}]
    for name, bits in fields:
        feats.append({
            "identifier": name,
            "format": {"type": "string", "encoding": "utf-8", "case": "mixed"},
            "hashing": {"comparison": {"type": "ngram", "n": 2},
                        "strategy": {"bitsPerToken": bits},
                        "hash": {"type": "doubleHash"},
                        "missingValue": {"sentinel": ""}},
        })
    return from_json_dict({
        "version": 3,
        "clkConfig": {"l": 1024, "kdf": {"type": "HKDF", "hash": "SHA256",
                                         "salt": "SCbL2zHNnmsckfzchsNkZY9XoHk96P/G5nUBrM7ybymlEFsMV6PAeDZCNp3rfNUPCtLDMOGQHG4pCQpfhiHCyA==",
                                         "info": "c2NoZW1hX2V4YW1wbGU=", "keySize": 64}},
        "features": feats,
    })


def read(path, fields, n=None):
    df = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=n)
    if "id" not in df.columns:
        df = df.rename(columns={df.columns[0]: "id"})
    rows = [[r["id"]] + [str(r.get(f, "")).strip().lower() for f, _ in fields]
            for r in df.to_dict("records")]
    return list(df["id"]), rows


def encode(rows, sch):
    return clk.generate_clks(rows, sch, SECRET, validate=False)


def run_link(args):
    fields = FEBRL_FIELDS if args.febrl else CHILD_FIELDS
    sch = schema(fields)
    ids_a, rows_a = read(args.left, fields)
    ids_b, rows_b = read(args.right, fields)
    t = time.perf_counter()
    clks_a, clks_b = encode(rows_a, sch), encode(rows_b, sch)
    encode_s = time.perf_counter() - t
    t = time.perf_counter()
    cands = anonlink.candidate_generation.find_candidate_pairs(
        [clks_a, clks_b], anonlink.similarities.dice_coefficient_accelerated, args.threshold)
    groups = anonlink.solving.greedy_solve(cands)
    link_s = time.perf_counter() - t
    pairs = set()
    for g in groups:
        g = sorted(g)
        if len(g) == 2 and g[0][0] == 0 and g[1][0] == 1:
            pairs.add((ids_a[g[0][1]], ids_b[g[1][1]]))
    truth_df = pd.read_csv(args.truth, dtype=str)
    truth = set(zip(truth_df.iloc[:, 0], truth_df.iloc[:, 1]))
    tp = len(pairs & truth)
    p = tp / len(pairs) if pairs else 1.0
    r = tp / len(truth) if truth else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    comparisons = len(clks_a) * len(clks_b)
    print(json.dumps({"tool": "clkhash+anonlink", "precision": p, "recall": r, "f1": f1,
                      "found": len(pairs), "true_pairs": len(truth), "encode_s": encode_s,
                      "link_s": link_s, "comparisons": comparisons, "threshold": args.threshold,
                      "candidates": len(cands[0])}))


def run_speed(args):
    sch = schema(CHILD_FIELDS)
    _, rows_a = read(args.left, CHILD_FIELDS, args.n_left)
    _, rows_b = read(args.right, CHILD_FIELDS, args.n_right)
    clks_a, clks_b = encode(rows_a, sch), encode(rows_b, sch)
    t, c = time.perf_counter(), time.thread_time()
    anonlink.similarities.dice_coefficient_accelerated([clks_a, clks_b], args.threshold)
    secs, cpu = time.perf_counter() - t, time.thread_time() - c
    n = len(clks_a) * len(clks_b)
    print(json.dumps({"tool": "anonlink", "comparisons": n, "seconds": secs, "cpu_seconds": cpu,
                      "comparisons_per_s": n / secs, "comparisons_per_cpu_s": n / cpu,
                      "threshold": args.threshold}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    l = sub.add_parser("link")
    l.add_argument("left")
    l.add_argument("right")
    l.add_argument("truth")
    l.add_argument("--febrl", action="store_true")
    l.add_argument("--threshold", type=float, default=0.8)
    l.set_defaults(func=run_link)
    s = sub.add_parser("speed")
    s.add_argument("left")
    s.add_argument("right")
    s.add_argument("n_left", type=int)
    s.add_argument("n_right", type=int)
    s.add_argument("--threshold", type=float, default=0.8)
    s.set_defaults(func=run_speed)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
