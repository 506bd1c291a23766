"""The ten RFM segments, in BRIEF_SPEC's order, and everything named after them.

One record per segment: the name the brief prints, the key of its ``[actions]`` setting,
its action list's CSV file, its recommendation's title and wording, and the name with
soft hyphens for the migration matrix's narrow columns. Which customers fall in which
segment is `analyses.segments.segment_of`; the actions themselves are settings
(`config.ActionSettings`, one field per key here).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Segment:
    name: str  # as the brief writes it: "Can't Lose"
    key: str  # [actions] cant_lose, recommendation segment_cant_lose
    title: str  # its recommendation's title
    behaviour: str  # what its customers did, after "The N customers ..."
    hyphenated: str  # the name with soft hyphens (U+00AD) where a narrow column may break it

    @property
    def csv_file(self) -> str:
        """The action list's CSV in the archive: ``segments/cant-lose.csv``."""
        return f"segments/{self.key.replace('_', '-')}.csv"

    @property
    def customers(self) -> str:
        """``Champions``, ``Loyal Customers``, ``At Risk customers``: the segment as a plural
        noun."""
        plural = self.name.endswith(("Customers", "Champions", "Loyalists"))
        return self.name if plural else f"{self.name} customers"


_SHY = "\u00ad"

_ALL = (
    Segment(
        "Champions",
        "champions",
        "Keep the Champions",
        "buy most often and most recently",
        f"Cham{_SHY}pions",
    ),
    Segment(
        "Loyal Customers",
        "loyal_customers",
        "Hold on to the Loyal Customers",
        "buy often but less recently than the Champions",
        f"Loyal Cus{_SHY}tomers",
    ),
    Segment(
        "Potential Loyalists",
        "potential_loyalists",
        "Grow the Potential Loyalists",
        "bought recently, a few times",
        f"Potential Loyal{_SHY}ists",
    ),
    Segment(
        "New Customers",
        "new_customers",
        "Bring the New Customers back",
        "placed their first orders recently",
        f"New Cus{_SHY}tomers",
    ),
    Segment(
        "Promising",
        "promising",
        "Win a second order from Promising customers",
        "bought recently, once",
        f"Prom{_SHY}ising",
    ),
    Segment(
        "Need Attention",
        "need_attention",
        "Look after the Need Attention customers",
        "are slowing down",
        f"Need Atten{_SHY}tion",
    ),
    Segment(
        "About to Sleep",
        "about_to_sleep",
        "Wake the About to Sleep customers",
        "have not bought for a while",
        "About to Sleep",
    ),
    Segment(
        "At Risk",
        "at_risk",
        "Reactivate the At Risk customers",
        "bought regularly but not lately",
        "At Risk",
    ),
    Segment(
        "Can't Lose",
        "cant_lose",
        "Win back the Can't Lose customers",
        "were among the most frequent buyers and have gone quiet",
        "Can't Lose",
    ),
    Segment(
        "Hibernating",
        "hibernating",
        "Decide on the Hibernating customers",
        "bought rarely and long ago",
        f"Hiber{_SHY}nating",
    ),
)

SEGMENTS: tuple[str, ...] = tuple(s.name for s in _ALL)
_BY_NAME = {s.name: s for s in _ALL}


def segment(name: str) -> Segment:
    """The record of a segment by its name; KeyError for any other name."""
    return _BY_NAME[name]


def hyphenated(name: str) -> str:
    """A segment's name with its soft hyphens; any other heading (Lapsed) as it is."""
    return _BY_NAME[name].hyphenated if name in _BY_NAME else name
