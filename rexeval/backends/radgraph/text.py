"""The radgraph package's report preprocessing: a report becomes ONE sentence (a list of words)."""

from __future__ import annotations

import re

# radgraph v1: a space around each of / , : . ! ? ( )  (",-," in the class is a one-character range,
# so hyphens do not split).
_V1_SPLIT = re.compile("(?<! )(?=[/,-,:,.,!?()])|(?<=[/,-,:,.,!?()])(?! )")
# nltk's wordpunct_tokenize is this single regular expression.
_WORDPUNCT = re.compile(r"\w+|[^\w\s]+")


def _xl_words(text: str) -> list[str]:
    # The package replaces these *escaped* sequences (backslash + letter), then real newlines.
    for old, new in (("\\n", "  "), ("\\f", "  "), ("\\u2122", "      "), ("\n", " "), ('\\"', "``")):
        text = text.replace(old, new)
    joined = " ".join(_WORDPUNCT.findall(re.sub(r"\s+", " ", text)))
    for old, new in ((").", ") ."), ("%.", "% ."), (".'", ". '"), ("%,", "% ,"), ("%)", "% )")):
        joined = joined.replace(old, new)
    return joined.split()


def report_words(text: str, model_type: str) -> list[str]:
    """The words the model sees for ``text`` (an empty string is read as "None", as the package does)."""
    if not text:
        text = "None"
    if model_type == "radgraph":
        return _V1_SPLIT.sub(" ", text).split()
    return _xl_words(text)


def model_word(word: str) -> str:
    """The reader's normalisation of a word before word-piece tokenisation (output text keeps the original)."""
    return word[1:] if word in ("/.", "/?") else word
