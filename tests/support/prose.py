"""Checks that an error detail reads as sentences a person wrote."""

from __future__ import annotations

import re

# Words that are capitalised only when they open a sentence.
_FUNCTION_WORDS = {"The", "A", "An", "It", "Its", "This", "These", "That", "Their", "Your", "Then"}
_SENTENCE_END = re.compile(r"(?<=[.:;!?])\s+")
# Phrases that tell the reader what to do; each should be said once per detail.
REMEDY_PHRASES = ("software-update", "UpdateGatewaySoftwareNow", "retry", "iam:PassRole",
                  "sts:AssumeRole", "If-Match header")


def prose_faults(detail: str) -> list[str]:
    """What reads wrong: a function word capitalised mid-sentence, a remedy said twice."""
    faults = []
    for sentence in _SENTENCE_END.split(detail):
        for word in sentence.split()[1:]:
            if word.strip("(\"'") in _FUNCTION_WORDS:
                faults.append(f"capital mid-sentence: {word!r} in {sentence!r}")
    for phrase in REMEDY_PHRASES:
        if detail.count(phrase) > 1:
            faults.append(f"{phrase!r} said {detail.count(phrase)} times")
    return faults
