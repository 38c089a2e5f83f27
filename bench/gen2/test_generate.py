"""Self-test of the second generator: python -m unittest (from bench/gen2) or
generate.py --self-test."""
import csv
import os
import re
import subprocess
import sys
import tempfile
import unittest
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import generate as G  # noqa: E402

CYRILLIC = re.compile("[\u0400-\u04ff]")


def run_cli(out, left, right, seed, profile):
    subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--left", str(left),
                    "--right", str(right), "--seed", str(seed), "--profile", profile, "--out", out],
                   check=True)


def read(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


class Determinism(unittest.TestCase):
    def test_same_seed_same_bytes(self):
        with tempfile.TemporaryDirectory() as d:
            a, b, c = (os.path.join(d, x) for x in "abc")
            run_cli(a, 400, 2000, 3, "mixed")
            run_cli(b, 400, 2000, 3, "mixed")
            run_cli(c, 400, 2000, 4, "mixed")
            for name in ("left.csv", "right.csv", "truth.csv"):
                with open(os.path.join(a, name), "rb") as x, open(os.path.join(b, name), "rb") as y:
                    self.assertEqual(x.read(), y.read(), name)
            with open(os.path.join(a, "right.csv"), "rb") as x, open(os.path.join(c, "right.csv"), "rb") as y:
                self.assertNotEqual(x.read(), y.read())

    def test_in_process_equals_repeat(self):
        for profile in G.PROFILES:
            r1 = G.generate(300, 1200, 11, profile)[:3]
            r2 = G.generate(300, 1200, 11, profile)[:3]
            self.assertEqual(r1, r2, profile)


class Truth(unittest.TestCase):
    def check_dir(self, d, n_left, n_right):
        left, right, truth = (read(os.path.join(d, f)) for f in ("left.csv", "right.csv", "truth.csv"))
        self.assertEqual(left[0], G.HEADER)
        self.assertEqual(right[0], G.HEADER)
        self.assertEqual(truth[0], ["left_id", "right_id"])
        left, right, truth = left[1:], right[1:], truth[1:]
        self.assertEqual(len(left), n_left)
        self.assertEqual(len(right), n_right)
        for rows in (left, right):
            self.assertTrue(all(len(r) == 7 for r in rows))
        lids = [r[0] for r in left]
        rids = [r[0] for r in right]
        self.assertEqual(len(set(lids)), len(lids))
        self.assertEqual(len(set(rids)), len(rids))
        tl = [t[0] for t in truth]
        tr = [t[1] for t in truth]
        self.assertEqual(len(set(tl)), len(tl), "a left child twice in truth")
        self.assertEqual(len(set(tr)), len(tr), "a right record twice in truth")
        self.assertTrue(set(tl) <= set(lids))
        self.assertTrue(set(tr) <= set(rids))
        share = len(truth) / n_left
        self.assertTrue(0.55 <= share <= 0.80, share)
        # ids are shuffled: truth pairs are not aligned by number
        same_num = sum(1 for a, b in truth if a[1:] == b[1:])
        self.assertLess(same_num, max(5, len(truth) // 20))
        return left, right, truth

    def test_profiles(self):
        with tempfile.TemporaryDirectory() as d:
            for profile, (nl, nr) in (("cyrillic", (600, 3000)), ("latin", (600, 3500)),
                                      ("mixed", (800, 6000))):
                out = os.path.join(d, profile)
                run_cli(out, nl, nr, 1, profile)
                left, right, truth = self.check_dir(out, nl, nr)
                if profile == "latin":
                    bad = [r for r in right if any(CYRILLIC.search(v) for v in r)]
                    self.assertEqual(bad, [], "latin profile must have no Cyrillic on the custody side")
                else:
                    cyr = sum(1 for r in right if CYRILLIC.search(r[3]))
                    self.assertGreater(cyr / nr, 0.5)

    def test_small_right(self):
        # more sought than custody records: still consistent
        with tempfile.TemporaryDirectory() as d:
            run_cli(d, 1000, 300, 2, "cyrillic")
            left, right, truth = (read(os.path.join(d, f))[1:] for f in ("left.csv", "right.csv", "truth.csv"))
            self.assertEqual(len(right), 300)
            self.assertLessEqual(len(truth), 300)
            self.assertTrue({t[1] for t in truth} <= {r[0] for r in right})


class SurnameFrequencies(unittest.TestCase):
    """In Ukraine the commonest surname is ~0.2-0.3 % of people, the top 50 together
    well under 10 %."""

    def test_model(self):
        lex = G.Lexicon()
        ws = sorted(lex.surname_w, reverse=True)
        tot = sum(ws)
        self.assertLess(ws[0] / tot, 0.01)
        self.assertLess(sum(ws[:50]) / tot, 0.10)
        self.assertGreater(len(ws), 3000)

    def test_generated_list(self):
        with tempfile.TemporaryDirectory() as d:
            run_cli(d, 10000, 2000, 5, "cyrillic")
            left = read(os.path.join(d, "left.csv"))[1:]
        cnt = Counter(r[3].strip().upper() for r in left if r[3].strip())
        n = sum(cnt.values())
        top = cnt.most_common(50)
        self.assertLess(top[0][1] / n, 0.01, top[:3])
        self.assertLess(sum(v for _, v in top) / n, 0.10)


if __name__ == "__main__":
    unittest.main()
