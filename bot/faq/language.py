"""Language detection and text normalisation for FAQ questions (Finnish and English)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import simplemma
import snowballstemmer

FINNISH = "fi"
ENGLISH = "en"


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of a text, for readable word lists."""
    return frozenset(text.split())


_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_FOLD = str.maketrans({"ä": "a", "ö": "o", "å": "o"})

FINNISH_WORDS = word_set(
    """
    ja on ei se ne että kun jos mitä mikä mitkä miten miksi milloin missä mistä mihin kuka kenen
    kenelle kuinka paljonko paljon onko voiko voinko saako saanko pitääkö täytyykö kannattaako
    minä mä mää minun mun minulla mulla mul minulle mulle minulta multa minua mua sinä sä sun
    sinun meillä meidän hän tämä tää tuo toi nyt vai tai mutta myös vielä jo sitten kanssa kans
    ole olen olla oli jos niin siis sitä sen siitä tästä tässä täällä mulle itse oma omat saa voi
    pitää kuin ennen jälkeen aikana joka jotka mikäli eli vain sama
    """
)
ENGLISH_WORDS = word_set(
    """
    the a an and or but is are was were be been am do does did can could may might will would
    should shall must have has had i me my mine you your we our they their it its this that these
    those what which who whom whose when where why how if then than to of in on at for from with
    about as by into after before not no yes so there here any some all get got just also
    """
)
_FINNISH_ENDINGS = (
    "ssa",
    "ssä",
    "sta",
    "stä",
    "lla",
    "llä",
    "lta",
    "ltä",
    "lle",
    "ksi",
    "nko",
    "nkö",
    "ko",
    "kö",
    "ks",
    "taan",
    "tään",
    "isi",
    "mme",
    "nne",
    "aa",
    "ää",
    "ii",
    "uu",
    "yy",
    "ni",
    "si",
    "an",
    "en",
    "in",
    "ja",
    "jä",
)
_ENGLISH_ENDINGS = ("ing", "tion", "ed", "ly", "th", "ght", "ck", "sh", "ow", "ey", "ay")
_FOLDED_FINNISH_WORDS = frozenset(word.translate(_FOLD) for word in FINNISH_WORDS - ENGLISH_WORDS)


SPOKEN_FINNISH = {
    "mä": "minä",
    "mää": "minä",
    "mie": "minä",
    "sä": "sinä",
    "sää": "sinä",
    "mun": "minun",
    "mul": "minulla",
    "mulla": "minulla",
    "mulle": "minulle",
    "multa": "minulta",
    "mua": "minua",
    "mut": "minut",
    "sun": "sinun",
    "sul": "sinulla",
    "sulla": "sinulla",
    "sulle": "sinulle",
    "meiän": "meidän",
    "meijän": "meidän",
    "teiän": "teidän",
    "tää": "tämä",
    "toi": "tuo",
    "nää": "nämä",
    "noi": "nuo",
    "sit": "sitten",
    "sitte": "sitten",
    "ku": "kun",
    "kans": "kanssa",
    "vaa": "vain",
    "ite": "itse",
    "itte": "itse",
    "oo": "ole",
    "oon": "olen",
    "ollu": "ollut",
    "millon": "milloin",
    "millo": "milloin",
    "mite": "miten",
    "ko": "kun",
    "ny": "nyt",
    "koska": "milloin",
    "miks": "miksi",
    "kaks": "kaksi",
    "yks": "yksi",
    "kahen": "kahden",
    "paljo": "paljon",
    "haluun": "haluan",
    "tarvii": "tarvitsee",
    "pitäis": "pitäisi",
    "vois": "voisi",
    "ois": "olisi",
    "olis": "olisi",
    "kattoo": "katsoa",
    "kattoa": "katsoa",
    "jotain": "jotakin",
    "semmonen": "sellainen",
    "tällanen": "tällainen",
}
PHONE_BRANDS = (
    "iphone",
    "samsung",
    "galaxy",
    "pixel",
    "nokia",
    "apple",
    "motorola",
    "xiaomi",
    "oneplus",
    "android",
)
SYNONYMS = {
    FINNISH: {
        "puhelin": ("luuri", "känny", "kännyk", "kapula", "älypuhelin"),
        "luettelo": ("lista", "katalog", "valikoim", "luettelo"),
        "malli": PHONE_BRANDS,
        "vähennys": ("pidät", "pidättä", "perit", "perii", "periä", "vähentä", "veloit"),
        "ilmainen": ("maksuton", "ilmane", "ilmaise", "ilmai"),
        "data": ("netti", "nettiä", "mobiilidata", "internet", "datapaket", "datal"),
        "tuki": ("helpdesk", "tukipalvelu", "asiakaspalvelu", "tukeen", "tuesta"),
        "kadota": ("hukkas", "hukata", "hukan", "kadot", "kadon", "hävit", "hävis"),
        "rikki": ("hajo", "hajos", "rikkou", "halke", "halkes", "särky", "särkyi", "rikki"),
        "varastaa": ("varast", "pöllit", "pöllä"),
        "sovellus": ("äppi", "appi", "sovellu", "applikaatio"),
        "työ": ("duuni",),
        "työnantaja": ("firma",),
        "sim": ("simmi", "simkort"),
        # The program's name is English in Finnish too ("Free Choice -puhelin").
        "vapaavalinta": ("free", "choice"),
    },
    ENGLISH: {
        "phone": ("mobile", "cell", "handset", "smartphone", "device"),
        "catalog": ("catalogue", "list", "selection", "range"),
        "model": PHONE_BRANDS,
        "deduct": ("withh", "deduct"),
        "free": ("costless", "gratis"),
        "lost": ("lose", "lost", "misplac"),
        "broken": ("broke", "crack", "smash", "damag", "shatter"),
        "stolen": ("stole", "steal", "theft", "robbed"),
        "data": ("internet", "data"),
        "app": ("app", "application"),
        "helpdesk": ("helpdesk", "support", "servicedesk"),
    },
}
MAX_COMPOUND = 40
_NO_CLITIC = frozenset({"maks", "juks", "taks"})


def spoken_finnish(word: str) -> str:
    """The standard form of a colloquial word: "mulla" -> "minulla", "onks" -> "onko"."""
    if word in SPOKEN_FINNISH:
        return SPOKEN_FINNISH[word]
    if len(word) >= 4 and word.endswith("ks") and word not in _NO_CLITIC:
        return word[:-2] + ("kö" if _front_vowels(word) else "ko")
    return word


def without_question_clitic(word: str) -> str:
    """Finnish without the -ko/-kö of a question: "saako" -> "saa", "pitääkö" -> "pitää"."""
    if len(word) >= 5 and word.endswith(("ko", "kö")) and word[-3] in "aeiouyäön":
        return word[:-2]
    return word


def _front_vowels(word: str) -> bool:
    return any(letter in "äöy" for letter in word) and not any(letter in "aou" for letter in word)


def normalise(text: str) -> str:
    """Casefolded NFKC text, so that look-alike characters and cases compare equal."""
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    """The words of a question: letters and digits, punctuation and hyphens split them."""
    return _WORD.findall(normalise(text))


def fold(word: str) -> str:
    """The word without umlauts (ä -> a, ö -> o, å -> o), as people type on English keyboards."""
    return word.translate(_FOLD)


_SNOWBALL = {"fi": "finnish", "en": "english", "sv": "swedish"}


def stem(word: str, language: str) -> str:
    """The word's Snowball stem with umlauts folded, so that inflected and typed forms meet."""
    return fold(_snowball(language).stemWord(word))


@cache
def _snowball(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(_SNOWBALL[language])


def detect_language(text: str) -> str:
    """ "fi" or "en" by Finnish letters, endings and small words against English; fi if unsure."""
    finnish, english = language_evidence(text)
    return ENGLISH if english > finnish else FINNISH


def possible_languages(text: str) -> tuple[str, ...]:
    """The language of a text, or both when the evidence is too thin to tell ("phone catalog")."""
    finnish, english = language_evidence(text)
    if abs(finnish - english) < CLEAR_EVIDENCE:
        return (FINNISH, ENGLISH)
    return (ENGLISH,) if english > finnish else (FINNISH,)


CLEAR_EVIDENCE = 1.0


def language_evidence(text: str) -> tuple[float, float]:
    """Points for Finnish and for English: small words, letters and word endings."""
    tokens = words(text)
    finnish = 0.0
    english = 0.0
    for token in tokens:
        if token in FINNISH_WORDS or fold(token) in _FOLDED_FINNISH_WORDS:
            finnish += 2
        if token in ENGLISH_WORDS:
            english += 2
        if "ä" in token or "ö" in token:
            finnish += 2
        elif len(token) > 3 and token.endswith(_FINNISH_ENDINGS):
            finnish += 0.5
        if len(token) > 3 and token.endswith(_ENGLISH_ENDINGS):
            english += 0.5
    return finnish, english


def synonyms(word: str, language: str) -> list[str]:
    """Standard words for a colloquial or brand word: "luurin" -> "puhelin", "pixel" -> "malli"."""
    folded = fold(word)
    return [
        standard
        for standard, beginnings in SYNONYMS[language].items()
        if standard != word and folded.startswith(tuple(fold(start) for start in beginnings))
    ]


@lru_cache(maxsize=65536)
def lemma(word: str, language: str) -> str:
    """The dictionary form of a word when simplemma knows it, else the word itself."""
    return str(simplemma.lemmatize(word, lang=language, low_memory=True))


@lru_cache(maxsize=65536)
def known(word: str, language: str) -> bool:
    """Whether simplemma's dictionary has the word."""
    return bool(simplemma.is_known(word, lang=language, low_memory=True))


def dictionary_form(word: str, language: str) -> str | None:
    """The lemma of a word when simplemma's dictionary knows it or the lemma it guesses."""
    base = lemma(word, language)
    return base if known(word, language) or known(base, language) else None


def _inflected(word: str) -> bool:
    """An inflected form of a dictionary word ("puhelimeni"), not a compound ("vähennysaika")."""
    base = dictionary_form(word, FINNISH)
    if base is None or base == word or not word.startswith(base[: max(3, len(base) - 2)]):
        return False
    rest = word[len(base) :]
    return not (len(rest) >= 3 and known(rest, FINNISH) and lemma(rest, FINNISH).islower())


@lru_cache(maxsize=65536)
def compound_parts(word: str, vocabulary: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The parts of an unknown Finnish compound, "vähennysaika" -> ("vähennys", "aika").

    A part is known when simplemma's dictionary or the FAQ's own `vocabulary` has it ("sim"). The
    head (last part) carries the inflection. Of the possible splits, the one with most parts from
    the FAQ's vocabulary wins, then the one with fewest parts, then the one whose shortest part is
    longest ("puhelin" + "kauppa", not "puh" + "elinkauppa").
    """
    if not 6 <= len(word) <= MAX_COMPOUND or known(word, FINNISH) or _inflected(word):
        return ()
    splits: list[tuple[str, ...]] = []
    for cut in range(3, len(word) - 2):
        modifier, head = word[:cut], word[cut:]
        if head not in vocabulary and (len(head) < 4 or dictionary_form(head, FINNISH) is None):
            continue
        if known(modifier, FINNISH) or modifier in vocabulary:
            splits.append((modifier, head))
        elif inner := compound_parts(modifier, vocabulary):
            splits.append((*inner, head))
        elif head in vocabulary and len(modifier) >= 4:
            splits.append((modifier, head))
    if not splits:
        return ()
    return max(
        splits,
        key=lambda parts: (
            sum(part in vocabulary for part in parts),
            -len(parts),
            min(map(len, parts)),
        ),
    )
