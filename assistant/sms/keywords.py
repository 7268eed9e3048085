"""Keywords and short answers people text, in every language (matched after ``fold``)."""

from __future__ import annotations

from enum import StrEnum

from assistant.sms.text import fold


class Keyword(StrEnum):
    stop = "stop"
    start = "start"
    help = "help"
    menu = "menu"
    lang = "lang"


# Whole-message keywords. The English STOP and START families are Twilio's own; the other
# words are the same commands in our languages.
KEYWORDS: dict[Keyword, frozenset[str]] = {
    Keyword.stop: frozenset(
        {
            "stop",
            "stopall",
            "unsubscribe",
            "cancel",
            "end",
            "quit",
            "revoke",
            "optout",
            "opt out",
            "kati",
            "whakamutu",
            "taofi",
            "tuu",
            "tuku",
            "停止",
            "退订",
            "取消订阅",
            "बंद",
            "बंद करो",
            "रोको",
            "band karo",
            "توقف",
            "إيقاف",
            "ايقاف",
            "الغاء",
        }
    ),  # fmt: skip
    Keyword.start: frozenset(
        {
            "start",
            "unstop",
            "timata",
            "amata",
            "kamata",
            "开始",
            "शुरू",
            "shuru",
            "ابدأ",
            "ابدا",
            "بدء",
        }
    ),  # fmt: skip
    Keyword.help: frozenset(
        {
            "help",
            "info",
            "awhina",
            "fesoasoani",
            "tokoni",
            "帮助",
            "帮忙",
            "मदद",
            "madad",
            "सहायता",
            "مساعدة",
            "ساعدني",
        }
    ),  # fmt: skip
    Keyword.menu: frozenset(
        {"menu", "0", "main menu", "菜单", "主菜单", "मेनू", "मेन्यू", "القائمة", "قائمة", "٠"}
    ),
    Keyword.lang: frozenset(
        {
            "lang",
            "language",
            "languages",
            "reo",
            "gagana",
            "lea",
            "语言",
            "भाषा",
            "bhasha",
            "لغة",
            "اللغة",
        }
    ),  # fmt: skip
}

# Twilio also takes YES as opting back in; we do the same for an opted-out contact only.
OPT_IN_EXTRA = frozenset({"yes"})


def keyword(text: str) -> Keyword | None:
    folded = fold(text)
    for kind, words in KEYWORDS.items():
        if folded in words:
            return kind
    return None


LANGUAGE_NAMES_FOLDED: dict[str, frozenset[str]] = {
    "en": frozenset({"english", "ingarihi", "igilisi", "faka pilitania", "英语", "अंग्रेज़ी"}),
    "mi": frozenset({"maori", "te reo", "te reo maori", "reo maori"}),
    "sm": frozenset({"samoan", "samoa", "gagana samoa", "faasamoa"}),
    "to": frozenset({"tongan", "tonga", "lea faka tonga", "faka tonga", "lea fakatonga"}),
    "zh_Hans": frozenset({"chinese", "mandarin", "中文", "简体中文", "普通话", "汉语", "zhongwen"}),
    "hi": frozenset({"hindi", "हिन्दी", "हिंदी"}),
    "ar": frozenset({"arabic", "العربية", "عربي", "عربى"}),
}

MENU_ORDER: tuple[str, ...] = ("en", "mi", "sm", "to", "zh_Hans", "hi", "ar")


def language_named(text: str) -> str | None:
    """The language whose name is the whole message ("Samoan", "中文", "हिन्दी")."""
    folded = fold(text)
    for lang, names in LANGUAGE_NAMES_FOLDED.items():
        if folded in names:
            return lang
    return None


def language_choice(text: str) -> str | None:
    """An answer to the language menu: its number (1-7, also in Arabic or Devanagari digits)
    or a language's name."""
    digit = number(text)
    if digit is not None and 1 <= digit <= len(MENU_ORDER):
        return MENU_ORDER[digit - 1]
    return language_named(text)


_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩०१२३४५६७८९", "01234567890123456789")


def number(text: str) -> int | None:
    """A menu number: "2", " 2. ", "٢", "२"."""
    folded = fold(text).translate(_DIGITS)
    return int(folded) if folded.isdigit() and len(folded) <= 2 else None


class Answer(StrEnum):
    yes = "yes"
    no = "no"
    unsure = "unsure"


ANSWERS: dict[Answer, frozenset[str]] = {
    Answer.yes: frozenset(
        {
            "1",
            "y",
            "yes",
            "yeah",
            "yep",
            "yup",
            "ok",
            "okay",
            "sure",
            "please",
            "yes please",
            "ae",
            "ae koa",
            "ioe",
            "io",
            "ioe faamolemole",
            "是",
            "是的",
            "对",
            "对的",
            "好",
            "好的",
            "要",
            "可以",
            "haan",
            "han",
            "haa",
            "ha",
            "ji",
            "ji haan",
            "हाँ",
            "हां",
            "जी",
            "जी हाँ",
            "हाँ जी",
            "نعم",
            "ايوه",
            "ايوا",
            "أيوه",
            "اي",
            "aiwa",
            "naam",
        }
    ),  # fmt: skip
    Answer.no: frozenset(
        {
            "2",
            "n",
            "no",
            "nope",
            "nah",
            "no thanks",
            "kao",
            "kahore",
            "kaore",
            "leai",
            "ikai",
            "不",
            "不是",
            "不要",
            "没有",
            "否",
            "不用",
            "nahin",
            "nahi",
            "na",
            "नहीं",
            "नही",
            "ना",
            "لا",
            "لأ",
            "la",
        }
    ),  # fmt: skip
    Answer.unsure: frozenset(
        {
            "3",
            "not sure",
            "unsure",
            "dont know",
            "i dont know",
            "idk",
            "maybe",
            "aua",
            "kaore au i te mohio",
            "kare au i te mohio",
            "ou te le iloa",
            "le iloa",
            "ikai ke u ilo",
            "ikai ke ilo",
            "ikai ilo",
            "不知道",
            "不确定",
            "不清楚",
            "पता नहीं",
            "pata nahi",
            "pata nahin",
            "मालूम नहीं",
            "لا أعرف",
            "لا اعرف",
            "مش عارف",
            "لست متأكد",
            "لست متاكد",
            "ربما",
        }
    ),  # fmt: skip
}


def answer(text: str) -> Answer | None:
    folded = fold(text).translate(_DIGITS)
    for kind, words in ANSWERS.items():
        if folded in words:
            return kind
    return None


# Barriers a person mentions: cost, transport, language (substrings of the folded text).
BARRIER_WORDS: dict[str, tuple[str, ...]] = {
    "cost": (
        "afford", "no money", "too expensive", "cant pay", "cannot pay", "cost too much",
        "kaore he moni", "kore moni", "utu nui", "leai se tupe", "taugata", "ikai ha paanga",
        "ikai ha seniti", "mamafa", "付不起", "太贵", "没钱", "没有钱", "पैसे नहीं",
        "महंगा", "paise nahi", "ليس لدي مال", "لا أملك المال", "غالي", "لا أستطيع الدفع",
    ),
    "transport": (
        "transport", "no car", "no ride", "get there", "bus fare", "cant drive", "no bus",
        "waka", "kaore he motuka", "leai se taavale", "ikai ha mealele", "ikai ha kaa",
        "交通", "没有车", "没车", "去不了", "गाड़ी नहीं", "यातायात", "परिवहन", "gaadi nahi",
        "مواصلات", "ليس لدي سيارة", "النقل",
    ),
    "language": (
        "interpreter", "translator", "no english", "dont speak english", "my english",
        "kaiwhakamaori", "faaliliu", "tagata faaliliu", "fakatonulea", "翻译", "不会英语",
        "英语不好", "दुभाषिया", "अंग्रेज़ी नहीं", "अंग्रेजी नहीं", "مترجم", "لا أتكلم الإنجليزية",
        "لا اتكلم الانجليزية", "ترجمة",
    ),
}  # fmt: skip


def barriers(text: str) -> list[str]:
    folded = f" {fold(text)} "
    found = []
    for barrier, words in BARRIER_WORDS.items():
        if any(_contains(folded, fold(word)) for word in words):
            found.append(barrier)
    return found


def _contains(folded_text: str, word: str) -> bool:
    if word.isascii():
        return f" {word}" in folded_text
    return word in folded_text
