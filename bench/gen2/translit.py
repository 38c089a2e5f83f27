"""Spelling machinery: Ukrainian -> Russian orthography, Cyrillic -> Latin in many
schemes (iuliia + cyrtranslit + own KMU 2010 and informal English), and typos.

Everything here is deterministic given its arguments; randomness is passed in as
explicit choices so results can be cached.
"""
import re

import cyrtranslit
import iuliia

UK_VOWELS = set("аеєиіїоуюяАЕЄИІЇОУЮЯ")
RU_VOWELS = set("аеёиоуыэюяАЕЁИОУЫЭЮЯ")
APOS = "'ʼ’"

# ----------------------------------------------------- Ukrainian -> Russian letters


def _case_like(src, dst):
    if src.isupper() and len(src) == 1:
        return dst[:1].upper() + dst[1:]
    return dst


def uk_to_ru(word, phonetic=False, apostrophe="ь", yi="и"):
    """Write a Ukrainian word (a surname, or a name written 'as heard') with Russian
    letters the way a Russian clerk would: і->и, є->е, ї->и/йи, ґ->г, '->ь/ъ/nothing,
    -ський->-ский, -ьо->-ё; with phonetic=True also Ukrainian и->ы (Мельник->Мельнык).
    """
    if not word:
        return word
    w = word
    # adjectival endings to Russian grammar
    w = re.sub(r"(?<=[сц])ьк(ий|а)\b", lambda m: "к" + ("ий" if m.group(1) == "ий" else "ая"), w)
    w = re.sub(r"зьк(ий|а)\b", lambda m: "зк" + ("ий" if m.group(1) == "ий" else "ая"), w)
    w = re.sub(r"ць\b", "ц", w)          # Кравець -> Кравец (no soft ц in Russian)
    w = re.sub(r"ЦЬ\b", "Ц", w)
    out = []
    n = len(w)
    for i, ch in enumerate(w):
        lo = ch.lower()
        prev = w[i - 1].lower() if i > 0 else ""
        nxt = w[i + 1].lower() if i + 1 < n else ""
        if lo == "и" and phonetic and i > 0 and prev not in "жшчщцкгхй" and prev not in UK_VOWELS \
                and prev not in APOS and prev != "ь" and prev != "-" and prev != " ":
            r = "ы"
        elif lo == "і":
            r = "и"
        elif lo == "є":
            r = "е"
        elif lo == "ї":
            r = "и" if prev in APOS else yi
        elif lo == "ґ":
            r = "г"
        elif lo == "о" and prev == "ь":
            # Ковальов -> Ковалёв : drop the soft sign, handled below
            r = "ё"
        elif lo == "о" and prev == "й" and i > 1 and w[i + 1:].lower() in ("в", "ва"):
            r = "ё"  # Соловйов -> Соловьёв (й replaced below)
        elif ch in APOS:
            if nxt in ("я", "ю", "є", "ї", "е", "і"):
                r = apostrophe
            else:
                r = ""
        elif lo == "ь" and nxt == "о":
            r = ""
        elif lo == "й" and nxt == "о" and i > 0 and w[i + 2:].lower() in ("в", "ва"):
            r = "ь"
        else:
            r = lo
        if r and ch.isupper():
            r = r[0].upper() + r[1:]
        out.append(r)
    return "".join(out)


def drop_yo(s):
    return s.replace("ё", "е").replace("Ё", "Е")


# ------------------------------------------------------------ Latin schemes (iuliia)

RU_SCHEMES = {
    "icao_doc_9303": iuliia.ICAO_DOC_9303,
    "mvd_310": iuliia.MVD_310,
    "mvd_310_fr": iuliia.MVD_310_FR,
    "mvd_782": iuliia.MVD_782,
    "bgn_pcgn": iuliia.BGN_PCGN,
    "gost_779": iuliia.GOST_779,          # = ISO 9:1995, diacritics (Ŝerbakova, Mariupolʹ)
    "gost_779_alt": iuliia.GOST_779_ALT,  # system B (Shherbakova, Xmel`nicz`kij)
    "iso_9_1968": iuliia.ISO_9_1968,
    "scientific": iuliia.SCIENTIFIC,
    "wikipedia": iuliia.WIKIPEDIA,
    "ala_lc": iuliia.ALA_LC,
    "bs_2979": iuliia.BS_2979,
    "gost_52535": iuliia.GOST_52535,
    "ungegn_1987": iuliia.UNGEGN_1987,
    "telegram": iuliia.TELEGRAM,
    "yandex_money": iuliia.YANDEX_MONEY,
}

_cache = {}


def ru_latin(text, scheme):
    """A Russian-Cyrillic string in one of the iuliia schemes, or 'cyrtranslit_ru'."""
    key = (scheme, text)
    r = _cache.get(key)
    if r is None:
        if scheme == "cyrtranslit_ru":
            r = cyrtranslit.to_latin(text, "ru")
        else:
            t = text
            if scheme in ("gost_779", "iso_9_1968", "scientific", "ungegn_1987", "ala_lc", "bs_2979"):
                t = t.replace("ё", "ë").replace("Ё", "Ë")
            elif scheme == "bgn_pcgn":  # iuliia 0.13 leaves ё as it is: BGN/PCGN writes ë / yë
                t = re.sub(r"(?<![бвгджзйклмнпрстфхцчшщБВГДЖЗЙКЛМНПРСТФХЦЧШЩ])ё", "yë", t)
                t = re.sub(r"(?<![бвгджзйклмнпрстфхцчшщБВГДЖЗЙКЛМНПРСТФХЦЧШЩ])Ё", "Yë", t)
                t = t.replace("ё", "ë").replace("Ё", "Ë")
            r = RU_SCHEMES[scheme].translate(t)
        _cache[key] = r
    return r


# -------------------------------------------------- Ukrainian national (KMU 2010)

_KMU = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "'": "", "ʼ": "", "’": "",
    # Russian letters that can occur in copied names
    "ы": "y", "э": "e", "ё": "io", "ъ": "",
}
_KMU_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}


def _word_starts(text):
    starts = set()
    prev_letter = False
    for i, ch in enumerate(text):
        is_letter = ch.isalpha() or ch in APOS
        if is_letter and not prev_letter:
            starts.add(i)
        prev_letter = is_letter
    return starts


def _apply_case(ch, lat):
    if not lat:
        return lat
    if ch.isupper():
        return lat[0].upper() + lat[1:]
    return lat


def _fix_allcaps(src, out):
    # a word written in capitals stays in capitals (SHCHERBAK, not ShCHERBAK)
    if len(src) > 1 and src.isupper():
        return out.upper()
    return out


def kmu2010(text):
    key = ("kmu2010", text)
    r = _cache.get(key)
    if r is not None:
        return r
    starts = _word_starts(text)
    out = []
    low = text.lower()
    for i, ch in enumerate(text):
        lo = low[i]
        if lo == "г" and i > 0 and low[i - 1] == "з":
            lat = "gh"
        elif i in starts and lo in _KMU_INITIAL:
            lat = _KMU_INITIAL[lo]
        elif lo in _KMU:
            lat = _KMU[lo]
        else:
            lat = ch
            out.append(lat)
            continue
        out.append(_apply_case(ch, lat))
    r = _fix_words_caps(text, "".join(out))
    _cache[key] = r
    return r


def _fix_words_caps(src, out):
    src_words = re.split(r"(\s+|-)", src)
    out_words = re.split(r"(\s+|-)", out)
    if len(src_words) != len(out_words):
        return out
    return "".join(_fix_allcaps(s, o) for s, o in zip(src_words, out_words))


# ----------------------------------------- scholarly Ukrainian and ISO 9 on Ukrainian


def scholarly_uk(text):
    """Scholarly (linguistic) system: Jevhen, Xmelʹnyc'kyj -> Xmelʹnyckyj style."""
    key = ("scholarly_uk", text)
    r = _cache.get(key)
    if r is None:
        t = text.replace("'", "\u02bc").replace("’", "\u02bc")
        r = cyrtranslit.to_latin(t, "ua").replace("'", "ʹ").replace("\u02bc", "’")
        _cache[key] = r
    return r


_ISO9_UK_PRE = str.maketrans({"і": "ì", "І": "Ì", "ї": "ï", "Ї": "Ï", "є": "ê", "Є": "Ê",
                              "ґ": "g̀", "Ґ": "G̀", "'": "’", "ʼ": "’"})


def iso9_uk(text):
    key = ("iso9_uk", text)
    r = _cache.get(key)
    if r is None:
        r = iuliia.GOST_779.translate(text.translate(_ISO9_UK_PRE))
        _cache[key] = r
    return r


# ------------------------------------------------------------ informal English-ish


def informal_uk(text, p):
    """Informal English-style spelling of Ukrainian (Olexandr, Yevhen, Andriy, Serhiy).
    p: tuple of small ints chosen per writer (see generate.INFORMAL_UK_PARAMS)."""
    key = ("inf_uk", p, text)
    r = _cache.get(key)
    if r is not None:
        return r
    x_for_ks, iy_end, ye_style, kh_style, ya_style, y_for_i = p
    starts = _word_starts(text)
    low = text.lower()
    out = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        lo = low[i]
        nxt = low[i + 1] if i + 1 < n else ""
        at_start = i in starts
        at_end = (i + 1 >= n) or not (text[i + 1].isalpha() or text[i + 1] in APOS)
        lat = None
        step = 1
        if lo == "к" and nxt == "с" and x_for_ks:
            lat, step = "x", 2
        elif lo == "і" and nxt == "й" and (i + 2 >= n or not text[i + 2].isalpha()):
            lat, step = ["iy", "ii", "y", "i"][iy_end], 2
        elif lo == "и" and nxt == "й" and (i + 2 >= n or not text[i + 2].isalpha()):
            lat, step = ["yi", "iy", "y", "yy"][iy_end], 2
        elif lo == "є":
            lat = "ye" if (at_start or ye_style) else "ie"
        elif lo == "ї":
            lat = "yi" if (at_start or ye_style) else "i"
        elif lo == "х":
            lat = ["kh", "h", "kh"][kh_style]
        elif lo == "я":
            lat = "ya" if (at_start or ya_style) else "ia"
        elif lo == "ю":
            lat = "yu" if (at_start or ya_style) else "iu"
        elif lo == "й":
            lat = "y" if (at_start or not at_end) else ("y" if ya_style else "i")
        elif lo == "и":
            lat = "i" if y_for_i else "y"
        elif lo == "щ":
            lat = "shch" if kh_style != 1 else "sch"
        elif lo == "г":
            lat = "h"
        elif lo == "ц":
            lat = "ts" if kh_style != 2 else "tz"
        elif lo in _KMU:
            lat = _KMU[lo]
        if lat is None:
            out.append(ch)
        else:
            out.append(_apply_case(ch, lat))
        i += step
    r = _fix_words_caps(text, "".join(out))
    _cache[key] = r
    return r


EN_GIVEN = {
    "Александр": ["Alexander", "Alexandr", "Aleksandr"], "Алексей": ["Alexey", "Alexei", "Aleksei"],
    "Дмитрий": ["Dmitry", "Dmitriy", "Dmitri"], "Сергей": ["Sergey", "Sergei"],
    "Андрей": ["Andrey", "Andrei"], "Евгений": ["Evgeny", "Yevgeny", "Evgenii"],
    "Юрий": ["Yury", "Yuri", "Iurii"], "Мария": ["Maria", "Mariya"],
    "Анастасия": ["Anastasia", "Anastasiya"], "Наталья": ["Natalia", "Natalya"],
    "Юлия": ["Yulia", "Julia", "Yuliya"], "Екатерина": ["Ekaterina", "Yekaterina", "Katerina"],
    "Михаил": ["Mikhail", "Michail"], "Николай": ["Nikolai", "Nikolay"], "Ксения": ["Ksenia", "Kseniya"],
    "Виктория": ["Victoria", "Viktoria", "Viktoriya"], "Кристина": ["Kristina", "Christina"],
    "Даниил": ["Daniil", "Daniel"], "Илья": ["Ilya", "Ilia"], "София": ["Sofia", "Sophia"],
    "Софья": ["Sofya", "Sofia"], "Елизавета": ["Elizaveta", "Yelizaveta"], "Павел": ["Pavel", "Paul"],
    "Пётр": ["Petr", "Pyotr"], "Фёдор": ["Fedor", "Fyodor"], "Артём": ["Artem", "Artyom"],
    "Кирилл": ["Kirill", "Kiril"], "Матвей": ["Matvey", "Matvei"], "Тимофей": ["Timofey", "Timofei"],
    "Виталий": ["Vitaly", "Vitaliy"], "Дарья": ["Darya", "Daria"], "Ульяна": ["Ulyana", "Uliana"],
}

_INF_RU = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "'": "",
}


def informal_ru(text, p, english_names):
    """Informal English of a Russian-form string (Alexander, Sergey, Yulia)."""
    key = ("inf_ru", p, english_names, text)
    r = _cache.get(key)
    if r is not None:
        return r
    x_for_ks, iy_end, ye_style, kh_style, ya_style, y_for_i = p
    words = re.split(r"(\W+)", text)
    res = []
    for w in words:
        if not w or not w[0].isalpha():
            res.append(w)
            continue
        cap = w[:1].upper() + w[1:].lower()
        if english_names and cap in EN_GIVEN:
            alts = EN_GIVEN[cap]
            lat = alts[(iy_end + kh_style) % len(alts)]
            res.append(lat.upper() if (w.isupper() and len(w) > 1) else lat)
            continue
        low = w.lower()
        out = []
        i = 0
        n = len(w)
        while i < n:
            ch, lo = w[i], low[i]
            nxt = low[i + 1] if i + 1 < n else ""
            step = 1
            if lo == "к" and nxt == "с" and x_for_ks:
                lat, step = "x", 2
            elif lo in "иы" and nxt == "й" and i + 2 == n:
                lat, step = ["iy", "y", "ii", "yi"][iy_end], 2
            elif lo == "е" and nxt == "й" and i + 2 == n:
                lat, step = ("ey" if ya_style else "ei"), 2
            elif lo == "е" and (i == 0 or low[i - 1] in "аеёиоуыэюяьъ"):
                lat = "ye" if ye_style else "e"
            elif lo == "х":
                lat = ["kh", "h", "kh"][kh_style]
            elif lo == "я":
                lat = "ya" if (ya_style or i == 0) else "ia"
            elif lo == "ю":
                lat = "yu" if (ya_style or i == 0) else "iu"
            elif lo == "ц":
                lat = "ts" if kh_style != 2 else "tz"
            else:
                lat = _INF_RU.get(lo, ch)
            out.append(_apply_case(ch, lat) if lat else "")
            i += step
        o = "".join(out)
        res.append(o.upper() if (w.isupper() and len(w) > 1) else o)
    r = "".join(res)
    _cache[key] = r
    return r


# ------------------------------------------------------------------------- typos

CYR_CONFUSE = {
    "е": "и", "и": "е", "о": "а", "а": "о", "ы": "и", "і": "и", "й": "и", "ш": "щ", "щ": "ш",
    "з": "с", "с": "з", "т": "д", "д": "т", "б": "п", "п": "б", "в": "ф", "г": "х", "ч": "щ",
    "ю": "у", "я": "а", "л": "н", "н": "л", "к": "г", "р": "л", "м": "н", "у": "ю", "є": "е",
}
LAT_CONFUSE = {
    "i": "y", "y": "i", "e": "i", "o": "a", "a": "o", "k": "c", "c": "k", "s": "z", "z": "s",
    "v": "w", "w": "v", "h": "kh", "u": "ou", "j": "y", "f": "ph", "x": "ks", "t": "d", "d": "t",
    "n": "m", "m": "n", "l": "ll", "r": "l",
}


def typo(word, rng, latin=False):
    """One realistic slip inside a word (not on the first letter)."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.random()
    ch = word[i]
    if not ch.isalpha():
        return word
    if op < 0.25:      # letter dropped
        return word[:i] + word[i + 1:]
    if op < 0.40:      # letter doubled
        return word[:i] + ch + word[i:]
    if op < 0.60:      # neighbours swapped
        j = i + 1 if i + 1 < len(word) else i - 1
        a, b = sorted((i, j))
        if a == 0:
            return word
        return word[:a] + word[b] + word[a] + word[b + 1:]
    table = LAT_CONFUSE if latin else CYR_CONFUSE
    rep = table.get(ch.lower())
    if rep is None:
        return word[:i] + word[i + 1:]
    if ch.isupper():
        rep = rep.upper()
    return word[:i] + rep + word[i + 1:]


HOMOGLYPHS = str.maketrans({"а": "a", "е": "e", "о": "o", "с": "c", "р": "p", "х": "x", "і": "i",
                            "А": "A", "Е": "E", "О": "O", "С": "C", "Р": "P", "Х": "X", "І": "I",
                            "К": "K", "М": "M", "Т": "T", "В": "B", "Н": "H"})


def homoglyph(word, rng):
    """Replace one Cyrillic letter by its Latin look-alike (mixed keyboard layouts)."""
    idx = [i for i, ch in enumerate(word) if ch.translate(HOMOGLYPHS) != ch]
    if not idx:
        return word
    i = rng.choice(idx)
    return word[:i] + word[i].translate(HOMOGLYPHS) + word[i + 1:]
