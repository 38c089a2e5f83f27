#!/usr/bin/env python3
"""Second synthetic generator of 'sought' (origin, Ukrainian) and 'custody' (Russian
side) lists of children, for evaluating record linkage.

    generate.py --left 5000 --right 28000 --seed 1 --profile cyrillic --out DIR [--stats]
    generate.py --self-test

Writes DIR/left.csv, DIR/right.csv, DIR/truth.csv. Deterministic for a seed.
Written without reading the engine or the first generator (see README.md).
"""
import argparse
import bisect
import csv
import datetime as dt
import math
import os
import random
import sys
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import lexicon as LX  # noqa: E402
import translit as T  # noqa: E402

HEADER = ["id", "given_name", "patronymic", "family_name", "sex", "birth_date", "birth_place"]

# ============================================================== rates (documented)
# Population
P_CLAN = 0.08            # family shares surname and town with an earlier family (cousins)
P_TWIN = 0.04            # a further child is the twin of the previous one
P_HALF_SIBLING = 0.12    # a further child has another father (other patronymic)
P_SIB_OTHER_PLACE = 0.15 # a sibling was born in another town
P_IN_LEFT = 0.80         # a child of a searching family is on the sought list
P_FAMILY_HELD = 0.74     # the family's children were taken (and listed in custody)
P_CHILD_HELD = 0.92      # ... each child of such a family is on the custody list
P_ADOPTED = 0.04         # custody record under adoptive/guardian family's name
P_ADOPT_NEW_GIVEN = 0.20
P_ADOPT_RU_PLACE = 0.15

# date variations: (kind, left rate, right rate)
DATE_RATES = [
    ("missing", 0.010, 0.030),
    ("year_only", 0.012, 0.035),
    ("year_month", 0.005, 0.015),
    ("shift_1_3_days", 0.008, 0.040),
    ("day_month_swapped", 0.004, 0.025),
    ("year_off_by_one", 0.004, 0.030),
    ("impossible", 0.003, 0.010),
]
P_DATE_DIRTY_FORMAT = (0.005, 0.015)   # stray characters around a valid date
YOUNG_FACTOR, OLD_FACTOR = 1.4, 0.75   # custody date-error rates for born >= 2016 / before

PROFILES = {
    # share of custody records written in: Russian Cyrillic, Ukrainian copied, Latin
    "cyrillic": {"ru": 0.82, "uk": 0.10, "lat": 0.08},
    "latin": {"ru": 0.0, "uk": 0.0, "lat": 1.0},
    "mixed": {"ru": 0.55, "uk": 0.10, "lat": 0.35},
}

# Latin schemes: name, which Cyrillic form it is applied to, weight
LAT_SCHEMES = [
    ("icao_doc_9303", "ru", 14), ("mvd_310", "ru", 6), ("mvd_310_fr", "ru", 5),
    ("mvd_782", "ru", 6), ("bgn_pcgn", "ru", 7), ("gost_779", "ru", 4),
    ("gost_779_alt", "ru", 2), ("iso_9_1968", "ru", 1.5), ("scientific", "ru", 3),
    ("wikipedia", "ru", 7), ("ala_lc", "ru", 1.5), ("bs_2979", "ru", 1),
    ("gost_52535", "ru", 2), ("ungegn_1987", "ru", 1), ("telegram", "ru", 1.5),
    ("yandex_money", "ru", 1), ("cyrtranslit_ru", "ru", 1.5), ("informal_ru", "ru", 6),
    ("kmu2010", "uk", 14), ("scholarly_uk", "uk", 3), ("iso9_uk", "uk", 2),
    ("informal_uk", "uk", 7),
]


# ==================================================================== lexicon


class Lexicon:
    def __init__(self):
        lrng = random.Random(20220224)  # fixed: the lexicon does not depend on --seed
        self.boys = [r[:3] + [float(r[3])] for r in LX.parse_table(LX.BOYS, 4)]
        self.girls = [r[:3] + [float(r[3])] for r in LX.parse_table(LX.GIRLS, 4)]
        self.boys_cum = _cum([r[3] for r in self.boys])
        self.girls_cum = _cum([r[3] for r in self.girls])
        self.fathers = [r[:5] + [float(r[5])] for r in LX.parse_table(LX.FATHERS, 6)]
        self.fathers_cum = _cum([r[5] for r in self.fathers])
        # surnames: common list (r^-0.5 weights, ~5 % of mass) + composed long tail
        common = LX.COMMON_SURNAMES.split()
        forms = {}
        cw = [1.0 / math.sqrt(i + 1) for i in range(len(common))]
        top_share = 0.0025
        scale = top_share / cw[0]
        for name, w in zip(common, cw):
            forms[name] = [fem_surname(name), w * scale]
        common_mass = sum(w for w in cw) * scale
        tail = {}
        stems = list(dict.fromkeys(LX.SURNAME_STEMS.split()))
        for stem in stems:
            sw = math.exp(lrng.gauss(0, STEM_SIGMA))
            for end, fem_end, ew in LX.SURNAME_ENDINGS:
                if lrng.random() < 0.25:   # not every stem takes every ending
                    continue
                mf = join_surname(stem, end, fem_end)
                if mf is None:
                    continue
                m, f = mf
                tail[m] = tail.get(m, [f, 0.0])
                tail[m][1] += sw * ew ** ENDING_POWER * math.exp(lrng.gauss(0, COMBO_SIGMA))
        tail_mass = sum(v[1] for v in tail.values())
        k = (1.0 - common_mass) / tail_mass
        for m, (f, w) in tail.items():
            if m in forms:
                forms[m][1] += w * k
            else:
                forms[m] = [f, w * k]
        self.surnames = [(m, f) for m, (f, w) in forms.items()]
        self.surname_w = [w for m, (f, w) in forms.items()]
        self.surnames_cum = _cum(self.surname_w)
        self.ru_surnames = LX.RU_SURNAMES.split()
        # places
        self.towns = []
        for kind, uk, ru, uk_old, ru_old, obl, w in LX.parse_table(LX.TOWNS, 7):
            self.towns.append(((kind, uk, ru, uk_old, ru_old, obl), float(w)))
        self.villages = [tuple(r) for r in LX.parse_table(LX.VILLAGES, 2)]
        self.village_obl = [o for o, _ in LX.VILLAGE_OBLASTS]
        self.village_obl_cum = _cum([w for _, w in LX.VILLAGE_OBLASTS])
        self.towns_cum = _cum([w for _, w in self.towns])

    def surname(self, rng):
        return self.surnames[_pick(self.surnames_cum, rng)]

    def father(self, rng):
        return _pick(self.fathers_cum, rng)

    def given(self, rng, sex):
        return _pick(self.boys_cum if sex == "m" else self.girls_cum, rng)

    def place(self, rng):
        # about a quarter of these children were born in villages / small settlements
        if rng.random() < 0.22:
            uk, ru = rng.choice(self.villages)
            obl = self.village_obl[_pick(self.village_obl_cum, rng)]
            return ("с", uk, ru, "", "", obl)
        return self.towns[_pick(self.towns_cum, rng)][0]

    def names(self, sex):
        return self.boys if sex == "m" else self.girls


def _cum(ws):
    out, s = [], 0.0
    for w in ws:
        s += w
        out.append(s)
    return out


def _pick(cum, rng):
    return bisect.bisect_right(cum, rng.random() * cum[-1])


def fem_surname(m):
    for a, b in (("ський", "ська"), ("цький", "цька"), ("зький", "зька"), ("ов", "ова"),
                 ("ев", "ева"), ("єв", "єва"), ("ін", "іна"), ("ий", "а"), ("ій", "ій")):
        if m.endswith(a):
            return m[: len(m) - len(a)] + b
    return m


CONS = set("бвгґджзклмнпрстфхцчшщ")
STEM_SIGMA, ENDING_POWER, COMBO_SIGMA = 0.4, 0.5, 0.4


def join_surname(stem, end, fem_end):
    """stem + Ukrainian ending, or None where the pair would be unpronounceable."""
    s = stem
    if s[-1] in CONS and s[-2] in CONS and (not end or end[0] in CONS) and \
            not (end == "ський" and s[-1] in "сзц"):
        return None
    if end and end[0] in "аеєиіїоуюяь":
        if s[-1] in "ьй" or s[-1] in "аоеяі":
            s = s[:-1]
    if end.startswith("ч") and s[-1] in "чшщж":
        end = end[1:]
    if end == "ський" and s[-1] in "сзц":
        s = s[:-1]
    if end == "ий" and (s[-1] not in "нлрдв" or s[-2] in CONS):
        return None   # adjectival surnames only from fitting stems (Чорний, Білий, Рудий)
    m = s + end
    if fem_end is None:
        f = m
    else:
        f = m[: len(m) - len(end)] + (fem_end if end != "ій" else "ій")
    return m[0].upper() + m[1:], f[0].upper() + f[1:]


# ================================================================= population


class Child:
    __slots__ = ("cid", "fam", "sex", "given", "father", "sur", "bdate", "place", "twin",
                 "adopt")

    def __init__(self, cid, fam, sex, given, father, sur, bdate, place):
        self.cid, self.fam, self.sex, self.given = cid, fam, sex, given
        self.father, self.sur, self.bdate, self.place = father, sur, bdate, place
        self.twin = False
        self.adopt = None


class Population:
    def __init__(self, lex, rng, stats):
        self.lex, self.rng, self.stats = lex, rng, stats
        self.next_cid = 0
        self.next_fam = 0
        self.clan_pool = []

    def family(self):
        lex, rng = self.lex, self.rng
        fam = self.next_fam
        self.next_fam += 1
        self.stats["pop.families"] += 1
        if self.clan_pool and rng.random() < P_CLAN:
            sur, place = rng.choice(self.clan_pool)
            self.stats["pop.family_shares_surname_and_town_with_other_family"] += 1
        else:
            sur, place = lex.surname(rng), lex.place(rng)
        if len(self.clan_pool) < 200000:
            self.clan_pool.append((sur, place))
        father = lex.father(rng)
        r = rng.random()
        n = 1 if r < 0.60 else 2 if r < 0.87 else 3 if r < 0.96 else 4 if r < 0.99 else 5
        year = rng.randint(2005, 2021)
        kids = []
        prev = None
        used_given = set()
        for k in range(n):
            if prev is not None and rng.random() < P_TWIN:
                bdate = prev.bdate
                twin = True
            else:
                if prev is not None:
                    year = year + rng.randint(1, 5)
                    if year > 2022:
                        break
                bdate = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
                twin = False
            sex = "m" if rng.random() < 0.512 else "f"
            for _ in range(10):
                g = lex.given(rng, sex)
                if (sex, g) not in used_given:
                    break
            used_given.add((sex, g))
            fa = father if (prev is None or rng.random() >= P_HALF_SIBLING) else lex.father(rng)
            pl = place if (prev is None or rng.random() >= P_SIB_OTHER_PLACE) else lex.place(rng)
            c = Child(self.next_cid, fam, sex, g, fa, sur, bdate, pl)
            self.next_cid += 1
            if twin:
                c.twin = True
                prev.twin = True
            kids.append(c)
            prev = c
        return kids


def build_population(n_left, n_right, lex, rng, stats):
    pop = Population(lex, rng, stats)
    left, matched, sib_extra = [], [], []
    left_fams = set()
    while len(left) < n_left:
        kids = pop.family()
        held_fam = rng.random() < P_FAMILY_HELD
        in_left = [rng.random() < P_IN_LEFT for _ in kids]
        if not any(in_left):
            in_left[0] = True
        for kid, il in zip(kids, in_left):
            held = held_fam and rng.random() < P_CHILD_HELD
            if il and len(left) < n_left:
                left.append(kid)
                left_fams.add(kid.fam)
                if held:
                    matched.append(kid)
            elif held:
                sib_extra.append(kid)
    right = matched + sib_extra
    if len(right) > n_right:
        keep_sib = max(0, n_right - len(matched))
        sib_extra = sib_extra[:keep_sib]
        if len(matched) > n_right:
            matched = matched[:n_right]
        right = matched + sib_extra
    while len(right) < n_right:
        for kid in pop.family():
            if len(right) < n_right and rng.random() < 0.95:
                right.append(kid)
    # adoption / renaming on the custody side (same rate for every custody record)
    for kid in right:
        if rng.random() < P_ADOPTED:
            sx = kid.sex
            ru_sur = rng.choice(lex.ru_surnames)
            if sx == "f":
                ru_sur = ru_sur + "а"
            patr = rng.choice(LX.RU_PATRONYMICS)[0 if sx == "m" else 1]
            new_given = None
            if rng.random() < P_ADOPT_NEW_GIVEN:
                new_given = rng.choice(LX.RU_NEW_BOYS if sx == "m" else LX.RU_NEW_GIRLS)
            new_place = rng.choice(LX.RU_TOWNS) if rng.random() < P_ADOPT_RU_PLACE else None
            kid.adopt = (ru_sur, patr, new_given, new_place)
    matched_ids = {k.cid for k in matched}
    stats["pop.unsought_siblings_on_right"] = len(sib_extra)
    stats["pop.sought_families"] = len(left_fams)
    return left, right, matched_ids


# ==================================================================== rendering


def wchoice(rng, items):
    """items: list of (value, weight)."""
    tot = sum(w for _, w in items)
    x = rng.random() * tot
    for v, w in items:
        x -= w
        if x < 0:
            return v
    return items[-1][0]


class Source:
    """One clerk / office / list: its habits of writing."""

    def __init__(self, rng, side, mode):
        self.side, self.mode = side, mode
        if side == "left":
            self.date_fmt = wchoice(rng, [("dd.mm.yyyy", 78), ("yyyy-mm-dd", 10), ("d.m.yyyy", 5),
                                          ("dd.mm.yy", 3), ("dd/mm/yyyy", 2), ("d month yyyy", 2)])
            self.sex_fmt = wchoice(rng, [(("ч", "ж"), 25), (("чол.", "жін."), 20),
                                         (("чоловіча", "жіноча"), 15), (("Ч", "Ж"), 15),
                                         (("хлопчик", "дівчинка"), 10), (("M", "F"), 8),
                                         (("чол", "жін"), 7)])
            self.p_prefix = rng.choice([0.1, 0.5, 0.9])
            self.p_oblast = rng.choice([0.0, 0.2, 0.5])
            self.p_upper_sur = rng.choice([0.0, 0.0, 0.3, 0.9])
        elif mode in ("ru", "uk"):
            self.date_fmt = wchoice(rng, [("dd.mm.yyyy", 62), ("dd.mm.yy", 8), ("yyyy-mm-dd", 10),
                                          ("d.m.yyyy", 5), ("d month yyyy", 6), ("dd-mm-yyyy", 4),
                                          ("dd/mm/yyyy", 5)])
            self.sex_fmt = wchoice(rng, [(("м", "ж"), 25), (("М", "Ж"), 15), (("муж", "жен"), 15),
                                         (("муж.", "жен."), 12), (("мужской", "женский"), 10),
                                         (("мальчик", "девочка"), 10), (("1", "2"), 5),
                                         (("M", "F"), 8)])
            self.p_prefix = rng.choice([0.2, 0.6, 0.9])
            self.p_oblast = rng.choice([0.0, 0.2, 0.4])
            self.p_upper_sur = rng.choice([0.0, 0.0, 0.3, 0.9])
        else:  # latin
            self.date_fmt = wchoice(rng, [("dd.mm.yyyy", 40), ("yyyy-mm-dd", 25), ("dd/mm/yyyy", 10),
                                          ("dd MON yyyy", 15), ("mm/dd/yyyy", 5), ("d Month yyyy", 5)])
            self.sex_fmt = wchoice(rng, [(("M", "F"), 50), (("male", "female"), 15),
                                         (("Male", "Female"), 15), (("m", "f"), 10),
                                         (("boy", "girl"), 5), (("M", "W"), 5)])
            self.p_prefix = rng.choice([0.0, 0.1, 0.4])
            self.p_oblast = rng.choice([0.0, 0.1, 0.3])
            self.p_upper_sur = rng.choice([0.0, 0.3, 0.9])
            self.all_caps = rng.random() < 0.15
            self.scheme, self.base = wchoice(rng, [((s, b), w) for s, b, w in LAT_SCHEMES])
            self.inf = (rng.randrange(2), rng.randrange(4), rng.randrange(2), rng.randrange(3),
                        rng.randrange(2), rng.randrange(2))
            self.en_names = rng.random() < 0.6
        # Russian clerks: how they treat Ukrainian names
        self.p_phonetic = rng.choice([0.0, 0.1, 0.5])   # и -> ы (Мельнык)
        self.p_drop_yo = rng.choice([0.3, 0.7, 1.0])     # ё typed as е
        self.apostrophe = wchoice(rng, [("ь", 8), ("ъ", 1), ("", 1)])
        self.yi = wchoice(rng, [("и", 3), ("йи", 1)])
        self.p_no_patr = rng.choice([0.04, 0.08, 0.12]) if side == "left" else \
            rng.choice([0.05, 0.12, 0.20])


class Renderer:
    def __init__(self, lex, rng, stats, profile):
        self.lex, self.rng, self.st, self.profile = lex, rng, stats, profile
        self.left_sources = [Source(rng, "left", "uk") for _ in range(8)]
        self.left_src_w = _cum([rng.uniform(0.5, 3) for _ in self.left_sources])
        self.right_sources = {}
        self.right_src_w = {}
        for mode in ("ru", "uk", "lat"):
            n = 60 if mode == "lat" else 30
            self.right_sources[mode] = [Source(rng, "right", mode) for _ in range(n)]
            self.right_src_w[mode] = _cum([rng.uniform(0.3, 3) for _ in range(n)])
        w = PROFILES[profile]
        self.mode_items = [(m, w[m]) for m in ("ru", "uk", "lat") if w[m] > 0]

    # ------------------------------------------------------------------ dates
    def date_cell(self, d, side, src):
        rng, st = self.rng, self.st
        col = 1 if side == "left" else 2
        x = rng.random()
        if side == "right":
            # custody records are often written from what the child says: the youngest
            # (born 2016 on, under ~7 when taken) know their birthday least well
            x /= YOUNG_FACTOR if d.year >= 2016 else OLD_FACTOR
        kind = "exact"
        for k, *rates in DATE_RATES:
            x -= rates[col - 1]
            if x < 0:
                kind = k
                break
        st[f"{side}.date.{kind}"] += 1
        fmt = src.date_fmt
        if kind == "missing":
            return rng.choice(["", "", "", "-", "н/д" if side == "right" and src.mode != "lat" else ""])
        if kind == "year_only":
            y = d.year
            if src.mode == "lat":
                return str(y)
            return rng.choice([str(y), str(y), f"{y} г." if side == "right" else f"{y} р.",
                               f"{y} г.р." if side == "right" else f"{y} р.н."])
        if kind == "year_month":
            y, m = d.year, d.month
            c = rng.random()
            if c < 0.5:
                return f"{m:02d}.{y}"
            if c < 0.75:
                return f"{y}-{m:02d}"
            if src.mode == "lat":
                return f"{LX.EN_MONTHS[m - 1][:3].upper()} {y}"
            return f"{(LX.RU_MONTHS_NOM if side == 'right' else LX.UK_MONTHS_GEN)[m - 1]} {y}"
        if kind == "impossible":
            y = d.year
            return rng.choice([f"31.02.{y}", f"30.02.{y}", f"00.00.{y}", f"{d.day:02d}.13.{y}",
                               f"{y}-02-30", f"{d.day:02d}.{d.month:02d}.{y}{rng.randrange(10)}",
                               f"32.{d.month:02d}.{y}", f"{d.day:02d}.{d.month:02d}.{y % 100 + 3000}",
                               f"??.{d.month:02d}.{y}", f"{d.day:02d}{d.month:02d}{y}"])
        if kind == "shift_1_3_days":
            d = d + dt.timedelta(days=rng.choice([-3, -2, -1, 1, 2, 3]))
        elif kind == "year_off_by_one":
            y = d.year + rng.choice([-1, 1])
            d = d.replace(year=y, day=min(d.day, 28)) if (d.month == 2 and d.day == 29) else d.replace(year=y)
        elif kind == "day_month_swapped":
            if d.day <= 12 and d.day != d.month:
                d = d.replace(day=d.month, month=d.day)
            else:
                # month written first although the format is day-first: an invalid date
                st[f"{side}.date.day_month_swapped_invalid"] += 1
                return f"{d.month:02d}.{d.day:02d}.{d.year}"
        s = format_date(d, fmt, side, src.mode)
        if rng.random() < P_DATE_DIRTY_FORMAT[col - 1]:
            st[f"{side}.date.dirty_format"] += 1
            common = [" " + s, s.replace(".", ",", 1), s.replace(".", " ", 1),
                      s.replace(".", "..", 1), s + "?", "'" + s, s.replace("-", "/")]
            if src.mode == "lat":
                s = rng.choice(common + [s + " (approx.)", s + "*"])
            else:
                s = rng.choice(common + [s + "г" if side == "right" else s + "р",
                                         s + " г." if side == "right" else s + " р.",
                                         s + " г.р." if side == "right" else s + " р.н."])
        st[f"{side}.date.format.{fmt}"] += 1
        return s

    # -------------------------------------------------------------------- sex
    def sex_cell(self, sex, side, src):
        rng, st = self.rng, self.st
        r = rng.random()
        miss, wrong, dirty = (0.015, 0.001, 0.003) if side == "left" else (0.03, 0.004, 0.005)
        if r < miss:
            st[f"{side}.sex.missing"] += 1
            return ""
        r -= miss
        if r < dirty:
            st[f"{side}.sex.dirty"] += 1
            return rng.choice(["?", "-", "x", "0"] + (["н/д"] if src.mode != "lat" else ["n/a", "U"]))
        r -= dirty
        if r < wrong:
            st[f"{side}.sex.wrong"] += 1
            sex = "f" if sex == "m" else "m"
        v = src.sex_fmt[0 if sex == "m" else 1]
        return v

    # ------------------------------------------------------------------ place
    def place_ru(self, place, src, allow_old=True, latin=False):
        rng, st = self.rng, self.st
        kind, uk, ru, uk_old, ru_old, obl = place
        name = ru
        if ru_old and allow_old and rng.random() < 0.55:
            name = ru_old
            st["right.place.old_name_of_renamed_town"] += 1
        if rng.random() < src.p_prefix:
            pre = {"м": rng.choice(["г.", "г. ", "г ", "город "]),
                   "смт": rng.choice(["пгт ", "пгт. ", "пос. ", "п. "]),
                   "с": rng.choice(["с. ", "с.", "село ", "пос. "])}[kind]
            name = pre + name
            st["right.place.prefix"] += 1
        if obl and rng.random() < src.p_oblast:
            st["right.place.region"] += 1
            c = rng.random()
            obl_ru = LX.OBLASTS[obl][1]
            if obl in ("DN", "LH") and c < 0.5:
                name += ", " + ("ДНР" if obl == "DN" else "ЛНР")
            elif obl == "CR":
                name += rng.choice([", Республика Крым", ", Крым"])
            elif c < 0.8:
                name += ", " + obl_ru + " обл."
            else:
                name = ("Украина, " if not latin else "") + name
        return name

    def place_uk(self, place, src, side):
        rng, st = self.rng, self.st
        kind, uk, ru, uk_old, ru_old, obl = place
        name = uk
        if uk_old and rng.random() < 0.2:
            name = uk_old
            st[f"{side}.place.old_name_of_renamed_town"] += 1
        if rng.random() < src.p_prefix:
            pre = {"м": rng.choice(["м. ", "м.", "місто "]), "смт": rng.choice(["смт ", "смт. "]),
                   "с": rng.choice(["с. ", "с.", "село "])}[kind]
            name = pre + name
            st[f"{side}.place.prefix"] += 1
        if obl and rng.random() < src.p_oblast:
            st[f"{side}.place.region"] += 1
            obl_uk = LX.OBLASTS[obl][0]
            c = rng.random()
            if obl == "CR":
                name += ", АР Крим"
            elif c < 0.7:
                name += ", " + obl_uk + " обл."
            elif c < 0.9:
                name += ", " + obl_uk + " область"
            else:
                name = "Україна, " + name
        return name

    # ------------------------------------------------------------ left record
    def left_row(self, c):
        rng, st, lex = self.rng, self.st, self.lex
        src = self.left_sources[_pick(self.left_src_w, rng)]
        uk_g, ru_g, dim, _ = lex.names(c.sex)[c.given]
        fa = lex.fathers[c.father]
        sur = c.sur[0] if c.sex == "m" else c.sur[1]
        patr = fa[1] if c.sex == "m" else fa[2]
        given = uk_g
        if rng.random() < 0.04:  # Russian-speaking family writes the Russian form
            given = ru_g.split("/")[0]
            st["left.given.russian_form"] += 1
            if rng.random() < 0.5:
                patr = fa[3] if c.sex == "m" else fa[4]
                st["left.patronymic.russian_form"] += 1
        if rng.random() < src.p_no_patr:
            patr = ""
            st["left.patronymic.missing"] += 1
        if rng.random() < 0.012:
            sur = T.typo(sur, rng)
            st["left.family_name.typo"] += 1
        if rng.random() < 0.006:
            given = T.typo(given, rng)
            st["left.given.typo"] += 1
        if rng.random() < src.p_upper_sur:
            sur = sur.upper()
            st["left.family_name.upper_case"] += 1
        if rng.random() < 0.03:
            place = ""
            st["left.place.missing"] += 1
        else:
            place = self.place_uk(c.place, src, "left")
        row = [given, patr, sur, self.sex_cell(c.sex, "left", src),
               self.date_cell(c.bdate, "left", src), place]
        if rng.random() < 0.008:
            self.stray(row, rng, False)
            st["left.stray_characters"] += 1
        return row

    def stray(self, row, rng, latin):
        i = rng.choice([0, 1, 2, 5])
        v = row[i]
        if not v:
            return
        choices = [" " + v, v + " ", v + "*", v + "?", '"' + v + '"', v.replace(" ", "  ") + " ",
                   v + ".", "?" + v]
        if not latin:
            choices += [T.homoglyph(v, rng), T.homoglyph(v, rng), v + " (со слов)"]
        row[i] = rng.choice(choices)

    # ----------------------------------------------------------- right record
    def right_row(self, c):
        rng, st, lex = self.rng, self.st, self.lex
        mode = wchoice(rng, self.mode_items)
        if mode == "uk" and c.adopt:
            mode = "ru"   # new documents are Russian
        st[f"right.script.{mode}"] += 1
        src = self.right_sources[mode][_pick(self.right_src_w[mode], rng)]
        if mode == "lat":
            if rng.random() < 0.2:  # a record copied from another document
                scheme, base = wchoice(rng, [((s, b), w) for s, b, w in LAT_SCHEMES])
                st["right.latin_scheme_differs_from_list"] += 1
            else:
                scheme, base = src.scheme, src.base
            st[f"right.latin_scheme.{scheme}"] += 1
            if c.adopt and base == "uk":
                # new Russian documents: a Russian scheme
                scheme, base = wchoice(rng, [((s, b), w) for s, b, w in LAT_SCHEMES if b == "ru"])
            g, p, f, place = self.cyr_fields(c, src, "ru" if base == "ru" else "uk", latin=True)
            row = [self.latin(v, scheme, src, c) for v in (g, p, f)]
            place_l = self.latin(place, scheme, src, c) if place else ""
            if place_l and rng.random() < 0.12:
                place_l += rng.choice([", Ukraine", ", UKRAINE", ", Ukraina", " (Ukraine)"])
                st["right.place.country_added"] += 1
            # Latin lists often drop the patronymic altogether (not in passports)
            if row[1] and rng.random() < 0.35:
                row[1] = ""
                st["right.patronymic.dropped_in_latin"] += 1
            if rng.random() < 0.03:
                row[2] = T.typo(row[2], rng, latin=True)
                st["right.family_name.typo_in_transliteration"] += 1
            if rng.random() < 0.015:
                row[0] = T.typo(row[0], rng, latin=True)
                st["right.given.typo_in_transliteration"] += 1
            if src.all_caps:
                row = [v.upper() for v in row]
                place_l = place_l.upper()
                st["right.all_upper_case"] += 1
            elif rng.random() < src.p_upper_sur:
                row[2] = row[2].upper()
                st["right.family_name.upper_case"] += 1
            given, patr, sur = row
            place = place_l
        else:
            given, patr, sur, place = self.cyr_fields(c, src, mode, latin=False)
            if rng.random() < 0.03:
                sur = T.typo(sur, rng)
                st["right.family_name.typo"] += 1
            if rng.random() < 0.015:
                given = T.typo(given, rng)
                st["right.given.typo"] += 1
            if patr and rng.random() < 0.015:
                patr = T.typo(patr, rng)
                st["right.patronymic.typo"] += 1
            if rng.random() < src.p_upper_sur:
                sur = sur.upper()
                st["right.family_name.upper_case"] += 1
        # structure errors
        if rng.random() < 0.01:
            given, sur = sur, given
            st["right.given_family_swapped"] += 1
        elif patr and rng.random() < 0.008:
            given, patr = given + " " + patr, ""
            st["right.given_and_patronymic_in_one_cell"] += 1
        if not patr and mode != "lat" and rng.random() < 0.2:
            patr = rng.choice(["-", "нет", "н/д", "не известно", "неизв."])
            st["right.patronymic.placeholder_text"] += 1
        if rng.random() < 0.002:
            given = rng.choice(["", "неизвестно", "?"]) if mode != "lat" else rng.choice(["", "UNKNOWN"])
            st["right.given.missing"] += 1
        row = [given, patr, sur, self.sex_cell(c.sex, "right", src),
               self.date_cell(c.bdate, "right", src), place]
        if src.mode == "lat" and src.all_caps:
            row[3] = row[3].upper()
        if rng.random() < 0.02:
            self.stray(row, rng, mode == "lat")
            st["right.stray_characters"] += 1
        return row

    def cyr_fields(self, c, src, form, latin):
        """given, patronymic, family name, birthplace in Cyrillic, as a custody clerk
        writes them: form 'ru' (Russian forms) or 'uk' (copied from Ukrainian papers)."""
        rng, st, lex = self.rng, self.st, self.lex
        uk_g, ru_g, dim, _ = lex.names(c.sex)[c.given]
        fa = lex.fathers[c.father]
        sur_uk = c.sur[0] if c.sex == "m" else c.sur[1]
        phon = rng.random() < src.p_phonetic
        if c.adopt:
            ru_sur, ru_patr, new_given, new_place = c.adopt
            st["right.adopted_renamed"] += 1
            sur, patr = ru_sur, ru_patr
            if new_given:
                given = new_given
                st["right.adopted.new_given_name"] += 1
            else:
                given = ru_g.split("/")[0]
            if new_place:
                place = ("г. " if rng.random() < src.p_prefix else "") + new_place
                st["right.adopted.russian_birthplace"] += 1
            else:
                place = self.place_ru(c.place, src, latin=latin)
        elif form == "ru":
            r = rng.random()
            alts = ru_g.split("/")
            if dim and r < 0.025:
                given = dim
                st["right.given.diminutive"] += 1
            elif r < 0.10:
                given = T.uk_to_ru(uk_g, phon, src.apostrophe, src.yi)
                st["right.given.ukrainian_form_in_russian_letters"] += 1
            else:
                given = alts[0] if len(alts) == 1 or rng.random() < 0.7 else alts[1]
                if given != uk_g:
                    st["right.given.russian_form_differs"] += 1
            r = rng.random()
            if r < 0.10:
                patr = T.uk_to_ru(fa[1] if c.sex == "m" else fa[2], phon, src.apostrophe, src.yi)
                st["right.patronymic.ukrainian_form_in_russian_letters"] += 1
            else:
                patr = fa[3] if c.sex == "m" else fa[4]
                if patr != (fa[1] if c.sex == "m" else fa[2]):
                    st["right.patronymic.russian_form_differs"] += 1
            sur = T.uk_to_ru(sur_uk, phon, src.apostrophe, src.yi)
            if sur != sur_uk:
                st["right.family_name.russian_orthography_differs"] += 1
            if phon and "ы" in sur:
                st["right.family_name.phonetic_y"] += 1
            place = self.place_ru(c.place, src, latin=latin)
        else:  # Ukrainian papers copied, or a Ukrainian-based Latin scheme
            given = uk_g
            patr = fa[1] if c.sex == "m" else fa[2]
            sur = sur_uk
            place = self.place_uk(c.place, src, "right")
            if not latin and rng.random() < 0.3:
                # Russian keyboard has no і/ї/є: typed as и, Latin i, or е
                rep = rng.choice([str.maketrans("іІїєЄ", "иИиеЕ"), str.maketrans("іІїЇ", "iIiI")])
                given, patr, sur, place = (v.translate(rep) for v in (given, patr, sur, place))
                st["right.uk_copy.letters_replaced"] += 1
        if src.p_drop_yo and rng.random() < src.p_drop_yo:
            given, patr, sur, place = (T.drop_yo(v) for v in (given, patr, sur, place))
        if rng.random() < src.p_no_patr:
            patr = ""
            st["right.patronymic.missing"] += 1
        if rng.random() < 0.10:
            place = ""
            st["right.place.missing"] += 1
        return given, patr, sur, place

    def latin(self, text, scheme, src, c):
        if not text:
            return text
        if scheme == "kmu2010":
            return T.kmu2010(text)
        if scheme == "scholarly_uk":
            return T.scholarly_uk(text)
        if scheme == "iso9_uk":
            return T.iso9_uk(text)
        if scheme == "informal_uk":
            return T.informal_uk(text, src.inf)
        if scheme == "informal_ru":
            return T.informal_ru(text, src.inf, src.en_names)
        return T.ru_latin(text, scheme)


def format_date(d, fmt, side, mode):
    if fmt == "dd.mm.yyyy":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if fmt == "yyyy-mm-dd":
        return d.isoformat()
    if fmt == "d.m.yyyy":
        return f"{d.day}.{d.month}.{d.year}"
    if fmt == "dd.mm.yy":
        return f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}"
    if fmt == "dd/mm/yyyy":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if fmt == "dd-mm-yyyy":
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    if fmt == "mm/dd/yyyy":
        return f"{d.month:02d}/{d.day:02d}/{d.year}"
    if fmt == "dd MON yyyy":
        return f"{d.day:02d} {LX.EN_MONTHS[d.month - 1][:3].upper()} {d.year}"
    if fmt == "d Month yyyy":
        return f"{d.day} {LX.EN_MONTHS[d.month - 1]} {d.year}"
    if fmt == "d month yyyy":
        months = LX.UK_MONTHS_GEN if side == "left" else LX.RU_MONTHS_GEN
        suffix = " р." if side == "left" else " г."
        return f"{d.day} {months[d.month - 1]} {d.year}{suffix}"
    raise ValueError(fmt)


# ======================================================================= driver


def generate(n_left, n_right, seed, profile):
    """Returns (left_rows, right_rows, truth_pairs, stats) with ids assigned."""
    if profile not in PROFILES:
        raise SystemExit(f"unknown profile {profile!r}; one of {sorted(PROFILES)}")
    rng = random.Random(f"gen2:{seed}:{profile}")
    stats = Counter()
    lex = Lexicon()
    left, right, matched_ids = build_population(n_left, n_right, lex, rng, stats)
    rend = Renderer(lex, rng, stats, profile)
    left_rows = [(c.cid, rend.left_row(c)) for c in left]
    right_rows = [(c.cid, rend.right_row(c)) for c in right]
    rng.shuffle(left_rows)
    rng.shuffle(right_rows)
    wl = max(6, len(str(len(left_rows))))
    wr = max(6, len(str(len(right_rows))))
    lid, rid = {}, {}
    out_left, out_right = [], []
    for i, (cid, row) in enumerate(left_rows, 1):
        lid[cid] = f"L{i:0{wl}d}"
        out_left.append([lid[cid]] + row)
    for i, (cid, row) in enumerate(right_rows, 1):
        rid[cid] = f"R{i:0{wr}d}"
        out_right.append([rid[cid]] + row)
    truth = sorted((lid[cid], rid[cid]) for cid in matched_ids if cid in lid and cid in rid)
    # population figures
    left_fam = Counter(c.fam for c in left)
    stats["pop.left_children_with_sibling_on_left"] = sum(1 for c in left if left_fam[c.fam] > 1)
    stats["pop.left_twins"] = sum(1 for c in left if c.twin)
    stats["pop.right_twins"] = sum(1 for c in right if c.twin)
    left_fams = set(left_fam)
    stats["pop.right_children_from_sought_families_not_sought"] = sum(
        1 for c in right if c.fam in left_fams and c.cid not in lid)
    stats["pop.right_adopted"] = sum(1 for c in right if c.adopt)
    # namesakes: custody children who are not on the sought list but carry the same true
    # surname, given name and sex as a sought child (and, stricter, the same birth year)
    lkey = {(c.sur[0], c.sex, c.given) for c in left}
    lkey_y = {(c.sur[0], c.sex, c.given, c.bdate.year) for c in left}
    stats["pop.right_namesakes_of_a_sought_child_same_surname_given_sex"] = sum(
        1 for c in right if c.cid not in lid and (c.sur[0], c.sex, c.given) in lkey)
    stats["pop.right_namesakes_also_same_birth_year"] = sum(
        1 for c in right if c.cid not in lid and (c.sur[0], c.sex, c.given, c.bdate.year) in lkey_y)
    return out_left, out_right, truth, stats, left, right, lex


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def print_stats(stats, left_rows, right_rows, truth, left, lex, file=sys.stderr):
    nl, nr, nt = len(left_rows), len(right_rows), len(truth)
    p = lambda a, b: f"{a:>7} / {b:<7} = {100.0 * a / b:6.2f}%" if b else f"{a}"  # noqa: E731
    print(f"left {nl}, right {nr}, true pairs {nt} ({100.0 * nt / max(nl, 1):.1f}% of left found)",
          file=file)
    for key in sorted(stats):
        if key.startswith("pop."):
            continue
        den = nl if key.startswith("left.") else nr
        print(f"  {key:<58} {p(stats[key], den)}", file=file)
    print("population:", file=file)
    for key in sorted(k for k in stats if k.startswith("pop.")):
        if key in ("pop.families", "pop.sought_families"):
            print(f"  {key:<58} {stats[key]:>7}", file=file)
            continue
        den = stats["pop.families"] if "family" in key else nr if "right" in key else nl
        print(f"  {key:<58} {p(stats[key], den)}", file=file)
    # surname concentration on the sought list (true surnames) and in the lexicon
    cnt = Counter((c.sur[0]) for c in left)
    top = cnt.most_common(50)
    print(f"  surname: top-1 {top[0][0]} {100.0 * top[0][1] / nl:.2f}% of left, top-50 "
          f"{100.0 * sum(v for _, v in top) / nl:.2f}%, distinct {len(cnt)}", file=file)
    tot = sum(lex.surname_w)
    ws = sorted(lex.surname_w, reverse=True)
    coll = sum((w / tot) ** 2 for w in ws)
    print(f"  surname model: top-1 {100 * ws[0] / tot:.2f}%, top-50 {100 * sum(ws[:50]) / tot:.2f}%,"
          f" {len(ws)} surnames, two random children share a surname 1 in {1 / coll:.0f}",
          file=file)
    # how different the two records of a true pair look (plain string comparison)
    L = {r[0]: r for r in left_rows}
    R = {r[0]: r for r in right_rows}
    eq = Counter()
    for a, b in truth:
        la, rb = L[a], R[b]
        for i, name in ((1, "given_name"), (2, "patronymic"), (3, "family_name"), (5, "birth_date"),
                        (6, "birth_place")):
            if la[i].strip().lower() == rb[i].strip().lower() and la[i]:
                eq[name] += 1
    print("true pairs whose cells are identical (case-insensitive):", file=file)
    for name in ("given_name", "patronymic", "family_name", "birth_date", "birth_place"):
        print(f"  {name:<58} {p(eq[name], nt)}", file=file)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--left", type=int, default=5000)
    ap.add_argument("--right", type=int, default=28000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", default="cyrillic", choices=sorted(PROFILES))
    ap.add_argument("--out")
    ap.add_argument("--stats", action="store_true", help="print applied variation rates to stderr")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        import unittest
        import test_generate
        suite = unittest.defaultTestLoader.loadTestsFromModule(test_generate)
        res = unittest.TextTestRunner(verbosity=2).run(suite)
        return 0 if res.wasSuccessful() else 1
    if not a.out:
        ap.error("--out DIR is required")
    if a.left < 1 or a.right < 1:
        ap.error("--left and --right must be positive")
    t0 = time.time()
    left_rows, right_rows, truth, stats, left, right, lex = generate(a.left, a.right, a.seed, a.profile)
    os.makedirs(a.out, exist_ok=True)
    write_csv(os.path.join(a.out, "left.csv"), HEADER, left_rows)
    write_csv(os.path.join(a.out, "right.csv"), HEADER, right_rows)
    write_csv(os.path.join(a.out, "truth.csv"), ["left_id", "right_id"], truth)
    if a.stats:
        print_stats(stats, left_rows, right_rows, truth, left, lex)
        print(f"generated in {time.time() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
