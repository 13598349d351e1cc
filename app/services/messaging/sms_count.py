"""How many characters and SMS segments a text takes (GSM-7 when it can, else UCS-2).

A text made only of the GSM 03.38 alphabet is sent 7 bits a character: 160 in one SMS, 153 a
segment when split. One character outside it (an emoji, “ç”…) switches the whole SMS to
UCS-2: 70 in one SMS, 67 a segment. Characters of the extension table (€ [ ] { } …) take two.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsCount:
    encoding: str  # "GSM-7" | "UCS-2"
    characters: int  # as the phone network counts them
    segments: int
    per_segment: int  # the room in each segment at this length
    non_gsm: tuple[str, ...] = ()  # the characters that forced UCS-2

    @property
    def left_in_segment(self) -> int:
        return self.segments * self.per_segment - self.characters if self.segments else 160


def count_sms(text: str) -> SmsCount:
    non_gsm = [ch for ch in text if ch not in GSM_BASIC and ch not in GSM_EXTENSION]
    if not non_gsm:
        units = sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units == 0:
        segments, per = 0, single
    elif units <= single:
        segments, per = 1, single
    else:
        segments, per = -(-units // multi), multi
    return SmsCount(encoding, units, segments, per, tuple(dict.fromkeys(non_gsm)))
