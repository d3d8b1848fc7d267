"""Made-up Russian names, e-mail addresses and school names of the synthetic people."""

from __future__ import annotations

from experiments.cohorts.draws import Random

_SURNAMES = (
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Фролов",
    "Беляев",
    "Тарасов",
)
_MALE_NAMES = (
    "Александр",
    "Алексей",
    "Андрей",
    "Дмитрий",
    "Евгений",
    "Иван",
    "Игорь",
    "Максим",
    "Михаил",
    "Никита",
    "Олег",
    "Павел",
    "Сергей",
)
_FEMALE_NAMES = (
    "Анна",
    "Анастасия",
    "Валентина",
    "Галина",
    "Дарья",
    "Екатерина",
    "Елена",
    "Ирина",
    "Мария",
    "Наталья",
    "Ольга",
    "Светлана",
    "Татьяна",
    "Юлия",
)
_PATRONYMS = (
    "Александров",
    "Алексеев",
    "Андреев",
    "Викторов",
    "Дмитриев",
    "Иванов",
    "Михайлов",
    "Николаев",
    "Петров",
    "Сергеев",
)
# Transliteration of Cyrillic letters for made-up e-mail addresses ("" for the signs).
_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        ("a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
         "s", "t", "u", "f", "kh", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya"),
        strict=True,
    )
)  # fmt: skip


def _full_name(rng: Random) -> str:
    surname = rng.one(_SURNAMES)
    surname = surname.replace("ё", "е") if rng.random() < 0.3 else surname
    if rng.random() < 0.75:
        return f"{surname}а {rng.one(_FEMALE_NAMES)} {rng.one(_PATRONYMS)}на"
    return f"{surname} {rng.one(_MALE_NAMES)} {rng.one(_PATRONYMS)}ич"


def _email(name: str, school: int, taken: set[str]) -> str:
    surname, first = name.split()[:2]
    base = "".join(_TRANSLIT.get(c, c) for c in surname.lower())
    base += "." + _TRANSLIT.get(first[0].lower(), "x")
    address, k = f"{base}@school{school}.example", 1
    while address in taken:
        k += 1
        address = f"{base}{k}@school{school}.example"
    taken.add(address)
    return address


def _school_name(school: int) -> str:
    return f"МБОУ СОШ № {school}"
